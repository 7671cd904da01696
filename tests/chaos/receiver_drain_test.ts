/**
 * Issue #7: a receiver stopped with SIGTERM drains — everything it took
 * from clients is stored before it exits 0.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { frameMessage } from "../../services/heka/framing.ts";
import { NatsServer } from "../../testing/mod.ts";
import { makeMessage } from "../helpers/messages.ts";
import { concat, postMessage, startHttpReceiver, startTcpReceiver } from "../helpers/receivers.ts";
import { expectStored } from "./load.ts";

Deno.test("SIGTERM while publishes await acks: both receivers store everything, exit 0", async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats);
  const http = await startHttpReceiver(nats, { RCVR_REQUEST_TIMEOUT: "10s" });
  const nc = await connect({ servers: nats.url });
  try {
    // Freeze the broker so nothing is acknowledged yet.
    Deno.kill(nats.pid!, "SIGSTOP");
    const msgs = Array.from({ length: 500 }, (_, i) => makeMessage(i));
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
    const data = concat(msgs.map((m) => frameMessage(m.bytes)));
    let w = 0;
    while (w < data.length) w += await conn.write(data.subarray(w));
    const posts = Array.from({ length: 20 }, (_, i) => makeMessage(10_000 + i));
    const answers = Promise.all(posts.map((m) => postMessage(http.port, m.bytes)));
    await sleep(700);

    const tcpExit = tcp.proc.stop("SIGTERM");
    const httpExit = http.proc.stop("SIGTERM");
    await sleep(500);
    Deno.kill(nats.pid!, "SIGCONT");
    assert.equal((await tcpExit).code, 0, tcp.proc.stderr);
    assert.equal((await httpExit).code, 0, http.proc.stderr);
    conn.close();
    const statuses = (await answers).map((a) => a.status);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], "in-flight POSTs completed");
    await expectStored(nc, "LAGERMEISTER", [...msgs, ...posts].map((m) => m.uuid), 20_000);
    assert.match(tcp.proc.stderr, /msg=stopped stored=500/);
  } finally {
    try {
      Deno.kill(nats.pid!, "SIGCONT");
    } catch {
      // not running
    }
    await nc.close();
    await tcp.proc.stop();
    await http.proc.stop();
    await nats.dispose();
  }
});
