/**
 * Issue #7: nats-server killed with SIGKILL twice during a 20,000-message
 * TCP stream and a stream of HTTP POSTs, restarted on the same store: every
 * TCP message and every HTTP message answered 200 is in the stream and
 * reaches the sink; receivers and subscriber recover on their own.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { NatsServer, Sink } from "../../testing/mod.ts";
import { startHttpReceiver, startTcpReceiver } from "../helpers/receivers.ts";
import { expectDelivered, expectStored, httpClients, startSubscriber, tcpStream } from "./load.ts";

Deno.test("broker SIGKILLed twice under TCP and HTTP load: nothing accepted is lost", async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats);
  const http = await startHttpReceiver(nats);
  const sink = Sink.start();
  const sub = startSubscriber(nats.url, sink, "chaos");
  let done = false;
  try {
    const tcpLoad = tcpStream(tcp.port, 20_000, { perWrite: 50, pauseMs: 15 });
    const httpLoad = httpClients(http.port, 4, () => done, { pauseMs: 5 });
    for (const at of [1500, 2500]) {
      await sleep(at);
      await nats.kill();
      await sleep(1000);
      await nats.restart();
    }
    const tcpUuids = await tcpLoad;
    done = true;
    const h = await httpLoad;
    console.log(`HTTP answers: ${JSON.stringify(h.statuses)}`);
    assert.ok((h.statuses[503] ?? 0) > 0, "HTTP clients were told to retry during the outages");
    assert.ok(h.accepted.length > 100, "HTTP accepted messages between the outages");
    const nc = await connect({ servers: nats.url });
    try {
      const r = await expectStored(nc, "LAGERMEISTER", [...tcpUuids, ...h.accepted]);
      console.log(
        `stored ${r.stored} (${tcpUuids.length} TCP + ${h.accepted.length} HTTP accepted), duplicates ${r.duplicates}`,
      );
    } finally {
      await nc.close();
    }
    assert.equal(tcp.proc.exited, undefined);
    assert.equal(http.proc.exited, undefined);

    // The subscriber rode out both crashes and delivers everything.
    const lines = await expectDelivered(sink, [...tcpUuids, ...h.accepted], 60_000).catch(
      async (err) => {
        console.log(`subscriber stderr (tail):\n${sub.stderr.slice(-6000)}`);
        console.log(`subscriber exited: ${JSON.stringify(sub.exited)}`);
        const stats = /"stats":"([^"]+)"/.exec(sub.stdout)?.[1];
        for (const path of ["/health", "/debug/vars"]) {
          try {
            const r = await fetch(`http://${stats}${path}`, { signal: AbortSignal.timeout(3000) });
            console.log(`subscriber ${path}: ${await r.text()}`);
          } catch (e) {
            console.log(`subscriber ${path} did not answer: ${e}`);
          }
        }
        const cpu = () => Deno.readTextFileSync(`/proc/${sub.pid}/stat`).split(" ").slice(13, 15);
        try {
          const a = cpu();
          const t = Date.now();
          while (Date.now() - t < 2000) { /* measure */ }
          console.log(`subscriber cpu ticks (utime,stime) ${a} → ${cpu()} over 2 s`);
          console.log(
            Deno.readTextFileSync(`/proc/${sub.pid}/status`).split("\n").filter((l) =>
              /State|Threads|VmRSS/.test(l)
            ).join(" "),
          );
        } catch (e) {
          console.log(`no /proc for the subscriber: ${e}`);
        }
        throw err;
      },
    );
    console.log(`sink got ${lines} lines for ${tcpUuids.length + h.accepted.length} messages`);
    assert.equal(sub.exited, undefined, "the subscriber is still running");
  } finally {
    done = true;
    await sub.stop();
    await sink.close();
    await tcp.proc.stop();
    await http.proc.stop();
    await nats.dispose();
  }
});
