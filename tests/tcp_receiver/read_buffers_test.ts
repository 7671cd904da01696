/**
 * The per-message TCP receiver's pooled read buffers
 * (services/tcp_receiver/read_buffers.ts): a buffer goes back to the pool
 * only once every message read into it is acknowledged, so a message resent
 * after a broker crash is the message that was read, never bytes of a later
 * read.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { decodeMessage } from "../../services/heka/codec.ts";
import { formatUuid } from "../../services/heka/message.ts";
import { ReadBufferPool } from "../../services/tcp_receiver/read_buffers.ts";
import { NatsServer } from "../../testing/mod.ts";
import { tcpStream } from "../chaos/load.ts";
import { rawMessages, streamMessages } from "../helpers/messages.ts";
import { startTcpReceiver } from "../helpers/receivers.ts";

Deno.test("ReadBufferPool: a buffer comes back after its last release, once, and at most `keep` are kept", () => {
  const pool = new ReadBufferPool(1024, 2);
  const a = pool.take();
  a.hold(); // a message read into it
  a.hold(); // another
  a.release(); // the listener is done with it
  a.release();
  assert.equal(pool.free, 0, "a message still holds it");
  a.release();
  assert.equal(pool.free, 1);
  a.release(); // a stray extra release
  assert.equal(pool.free, 1, "given back once");
  const b = pool.take();
  assert.equal(b.buf, a.buf, "reused");
  assert.ok(b.holds(b.buf.subarray(10, 20)));
  assert.ok(!b.holds(new Uint8Array(10)));
  const more = [b, pool.take(), pool.take()];
  for (const l of more) l.release();
  assert.equal(pool.free, 2, "keeps at most 2");
});

Deno.test("TCPRCVR_PACK=false: messages resent after a broker crash are the bytes that were read", async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats, { TCPRCVR_PACK: "false" });
  const nc0 = await connect({ servers: nats.url });
  try {
    // 300 KB writes: the receiver reads full 256 KiB buffers, from the pool.
    const load = tcpStream(tcp.port, 6000, { perWrite: 100, pauseMs: 10, size: 3000 });
    // Crash once a few thousand are stored: what is unacknowledged then is resent
    // after the restart, while later reads keep filling pooled buffers.
    const start = Date.now();
    while (await streamMessages(nc0, "LAGERMEISTER") < 1500 && Date.now() - start < 20_000) {
      await sleep(20);
    }
    await nc0.close();
    await nats.kill();
    await sleep(500);
    await nats.restart();
    const sent = new Set(await load);
    const nc = await connect({ servers: nats.url });
    try {
      const deadline = Date.now() + 30_000;
      while (await streamMessages(nc, "LAGERMEISTER") < sent.size && Date.now() < deadline) {
        await sleep(200);
      }
      const raw = await rawMessages(nc, "LAGERMEISTER");
      const stored = new Set<string>();
      for (const m of raw) {
        const id = m.headers!.get("Nats-Msg-Id");
        let msg;
        try {
          msg = decodeMessage(m.data);
        } catch (err) {
          assert.fail(`seq ${m.seq} (${id}): bytes of no message: ${err}`);
        }
        assert.equal(formatUuid(msg.uuid), id, `seq ${m.seq}: the bytes are another message's`);
        const seq = msg.fields.find((f) => f.name === "seq")!.valueInteger[0];
        assert.ok(msg.payload?.startsWith(`message ${seq} `), `seq ${m.seq}: payload mangled`);
        stored.add(id);
      }
      assert.equal(raw.length, stored.size, "each uuid stored once (Nats-Msg-Id deduplicates)");
      assert.deepEqual([...sent].filter((u) => !stored.has(u)), [], "nothing accepted is lost");
    } finally {
      await nc.close();
    }
  } finally {
    await tcp.proc.stop();
    await nats.dispose();
  }
});
