/**
 * Issue #7: input faster than the broker accepts, for a minute (set
 * LM_CHAOS_SECONDS to change): the broker is frozen (SIGSTOP) two seconds
 * of every three while TCP and HTTP clients push as fast as they can.
 * Receivers throttle (TCP backpressure, HTTP 503 + Retry-After), their RSS
 * stays bounded, and nothing accepted is lost.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { NatsServer } from "../../testing/mod.ts";
import { rssBytes } from "../helpers/proc_stats.ts";
import { startHttpReceiver, startTcpReceiver } from "../helpers/receivers.ts";
import { expectStored, httpClients, tcpStream } from "./load.ts";

const SECONDS = Number(Deno.env.get("LM_CHAOS_SECONDS") ?? 60);

Deno.test(`overload for ${SECONDS} s: receivers throttle, memory bounded, nothing lost`, async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats, { TCPRCVR_ACK_TIMEOUT: "2s" });
  const http = await startHttpReceiver(nats, {
    RCVR_REQUEST_TIMEOUT: "1s",
    RCVR_ACK_TIMEOUT: "2s",
  });
  const end = Date.now() + SECONDS * 1000;
  const stop = () => Date.now() > end;
  let peakTcp = 0;
  let peakHttp = 0;
  const sampler = setInterval(() => {
    peakTcp = Math.max(peakTcp, rssBytes(tcp.proc.pid));
    peakHttp = Math.max(peakHttp, rssBytes(http.proc.pid));
  }, 200);
  const freezer = (async () => {
    while (!stop()) {
      Deno.kill(nats.pid!, "SIGSTOP");
      await sleep(2000);
      Deno.kill(nats.pid!, "SIGCONT");
      await sleep(1000);
    }
  })();
  try {
    const [tcpUuids, tcpUuids2, h] = await Promise.all([
      tcpStream(tcp.port, 10_000_000, { perWrite: 200, size: 3000, stop }),
      tcpStream(tcp.port, 10_000_000, { perWrite: 200, size: 3000, stop }),
      httpClients(http.port, 16, stop),
    ]);
    await freezer;
    clearInterval(sampler);
    const sent = tcpUuids.length + tcpUuids2.length;
    console.log(
      `TCP sent ${sent} in ${SECONDS} s (throttled); HTTP ${JSON.stringify(h.statuses)}, slowest ${
        h.slowestMs.toFixed(0)
      } ms; peak RSS tcp ${(peakTcp / 2 ** 20).toFixed(0)} MB, http ${
        (peakHttp / 2 ** 20).toFixed(0)
      } MB`,
    );
    assert.ok((h.statuses[503] ?? 0) > 0, "HTTP clients were throttled with 503");
    assert.ok(h.slowestMs < 5000, "HTTP answered promptly even while the broker was frozen");
    assert.ok(peakTcp < 400 * 2 ** 20, `TCP receiver RSS bounded (${peakTcp})`);
    assert.ok(peakHttp < 400 * 2 ** 20, `HTTP receiver RSS bounded (${peakHttp})`);
    const nc = await connect({ servers: nats.url });
    try {
      const r = await expectStored(
        nc,
        "LAGERMEISTER",
        [...tcpUuids, ...tcpUuids2, ...h.accepted],
        120_000,
      );
      console.log(`stored ${r.stored}, duplicates ${r.duplicates}`);
    } finally {
      await nc.close();
    }
  } finally {
    clearInterval(sampler);
    try {
      Deno.kill(nats.pid!, "SIGCONT");
    } catch {
      // not running
    }
    await tcp.proc.stop();
    await http.proc.stop();
    await nats.dispose();
  }
});
