/**
 * Issue #3 acceptance: the broker stops — HTTP answers 503 promptly, TCP
 * messages sent meanwhile are stored once it is back, nobody restarts.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { frameMessage } from "../../services/heka/framing.ts";
import { NatsServer } from "../../testing/mod.ts";
import { makeMessage, readStream, streamMessages } from "../helpers/messages.ts";
import { concat, postMessage, startHttpReceiver, startTcpReceiver } from "../helpers/receivers.ts";

Deno.test("broker outage: HTTP 503 within 2 s, TCP sent during the outage stored after restart", async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats);
  const http = await startHttpReceiver(nats);
  let nc = await connect({ servers: nats.url });
  try {
    assert.equal((await postMessage(http.port, makeMessage(0).bytes)).status, 200);
    await nc.close();
    await nats.stop();

    // HTTP: answered 503 + Retry-After promptly.
    const t0 = performance.now();
    const r = await postMessage(http.port, makeMessage(1).bytes);
    const took = performance.now() - t0;
    assert.equal(r.status, 503);
    assert.equal(r.headers.get("retry-after"), "1");
    assert.ok(took < 2000, `503 took ${took} ms`);
    const health = await fetch(`http://127.0.0.1:${http.port}/health`);
    assert.equal(health.status, 503);
    await health.body?.cancel();

    // TCP: the client writes during the outage; the receiver holds them (backpressure), never drops.
    const during = Array.from({ length: 300 }, (_, i) => makeMessage(1000 + i, { size: 1000 }));
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
    const bytes = concat(during.map((m) => frameMessage(m.bytes)));
    const writing = (async () => {
      let w = 0;
      while (w < bytes.length) w += await conn.write(bytes.subarray(w));
    })();
    await sleep(1500);

    await nats.restart();
    await writing;
    conn.close();
    nc = await connect({ servers: nats.url });
    const deadline = Date.now() + 20_000;
    while (await streamMessages(nc, "LAGERMEISTER") < 301 && Date.now() < deadline) {
      await sleep(100);
    }
    const stored = await readStream(nc, "LAGERMEISTER");
    assert.equal(stored.length, 301, "the first HTTP message and all 300 TCP messages");

    // Both recover without restart.
    let ok = 0;
    for (let i = 0; i < 50 && ok === 0; i++) {
      if ((await postMessage(http.port, makeMessage(5000 + i).bytes)).status === 200) ok++;
      else await sleep(100);
    }
    assert.equal(ok, 1, "HTTP receiver accepts again");
    assert.equal(tcp.proc.exited, undefined);
    assert.equal(http.proc.exited, undefined);
  } finally {
    await nc.close();
    await tcp.proc.stop();
    await http.proc.stop();
    await nats.dispose();
  }
});
