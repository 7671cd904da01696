/**
 * The receivers' shutdown wait is configurable: with the broker gone,
 * SIGTERM waits TCPRCVR_SHUTDOWN_TIMEOUT for the unacknowledged publishes,
 * not the default 30 s, then exits 1.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { frameMessage } from "../../services/heka/framing.ts";
import { NatsServer } from "../../testing/mod.ts";
import { makeMessage } from "../helpers/messages.ts";
import { startTcpReceiver } from "../helpers/receivers.ts";

Deno.test("TCPRCVR_SHUTDOWN_TIMEOUT bounds the wait for unacknowledged publishes", async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats, { TCPRCVR_SHUTDOWN_TIMEOUT: "500ms" });
  try {
    await nats.stop();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
    await conn.write(frameMessage(makeMessage(1).bytes));
    conn.close();
    await sleep(300); // past the pack linger: the chunk is in flight
    const t0 = performance.now();
    const status = await tcp.proc.stop();
    const took = performance.now() - t0;
    assert.equal(status.code, 1, tcp.proc.stderr);
    assert.match(tcp.proc.stderr, /shutdown with unacknowledged publishes/);
    assert.ok(took < 10_000, `shutdown took ${took.toFixed(0)} ms`);
  } finally {
    await tcp.proc.stop("SIGKILL").catch(() => {});
    await nats.dispose();
  }
});
