/**
 * Issue #7: nats-server killed with SIGKILL twice during a 20,000-message
 * TCP stream and a stream of HTTP POSTs, restarted on the same store: every
 * TCP message and every HTTP message answered 200 is in the stream and
 * reaches the sink; receivers and subscriber recover on their own.
 */
import assert from "node:assert/strict";
import { connect } from "nats";
import { NatsServer } from "../helpers/nats_server.ts";
import { ServiceProcess } from "../helpers/process.ts";
import { startHttpReceiver, startTcpReceiver } from "../helpers/receivers.ts";
import { Sink } from "../helpers/sink.ts";
import { expectStored, httpClients, tcpStream } from "./load.ts";

Deno.test("broker SIGKILLed twice under TCP and HTTP load: nothing accepted is lost", async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats);
  const http = await startHttpReceiver(nats);
  const sink = Sink.start();
  const sub = ServiceProcess.start("services/http_subscriber/main.ts", {
    SUB_NATS_URL: nats.url,
    SUB_CLIENT_ID: "chaos",
    SUB_DURABLE: "chaos",
    SUB_DELIVER_ALL: "true",
    SUB_REMOTE_URL: sink.url(),
    SUB_BATCH_TIMEOUT: "300ms",
    SUB_STATS_ADDRESS: "off",
    SUB_NATS_RECONNECT_WAIT: "100ms",
  });
  let done = false;
  try {
    const tcpLoad = tcpStream(tcp.port, 20_000, { perWrite: 50, pauseMs: 15 });
    const httpLoad = httpClients(http.port, 4, () => done, { pauseMs: 5 });
    for (const at of [1500, 2500]) {
      await new Promise((r) => setTimeout(r, at));
      await nats.kill();
      await new Promise((r) => setTimeout(r, 1000));
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
    const want = new Set([...tcpUuids, ...h.accepted]);
    const deadline = Date.now() + 60_000;
    let missing = want.size;
    while (Date.now() < deadline) {
      const got = new Set(sink.accepted.map((l) => JSON.parse(l).Uuid as string));
      missing = [...want].filter((u) => !got.has(u)).length;
      if (missing === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(missing, 0, `${missing} accepted messages never reached the sink`);
    console.log(`sink got ${sink.accepted.length} lines for ${want.size} messages`);
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
