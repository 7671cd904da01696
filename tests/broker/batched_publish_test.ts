/**
 * One JetStream message per log line goes out in batches written into
 * reused buffers (services/broker/batched_publish.ts). A buffer must not be
 * written into again while nats.js still holds it: with nats-server stopped
 * (SIGSTOP) the socket fills and nats.js queues whole batches, and every
 * message still arrives as sent, on the same connection.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { ensureStream, JetStreamPublisher } from "../../services/broker/mod.ts";
import { Logger } from "../../services/log/mod.ts";
import { NatsServer } from "../../testing/mod.ts";
import { rawMessages, sameBytes } from "../helpers/messages.ts";

const log = new Logger("test", "warn");

/** 3 KB of bytes that say which message they are. */
function body(i: number): Uint8Array {
  const b = new Uint8Array(3000 + (i % 7) * 50);
  const tag = new TextEncoder().encode(`message ${i};`);
  for (let at = 0; at + tag.length <= b.length; at += tag.length) b.set(tag, at);
  return b;
}

Deno.test("batched publishes: while nats.js queues batches for a stopped server, none is overwritten", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  let disconnects = 0;
  (async () => {
    for await (const s of nc.status()) if (s.type === "disconnect") disconnects++;
  })();
  try {
    await ensureStream(nc, { name: "T", subjects: ["t.logs"] }, log);
    const pub = new JetStreamPublisher(nc, {
      subject: "t.logs",
      window: 8000,
      ackTimeoutMs: 60_000, // no resends: what is stored is what was first sent
      log,
    });
    Deno.kill(server.pid!, "SIGSTOP");
    try {
      // 6,000 messages (19 MB) in turns of 150: far more than the socket buffers hold.
      for (let i = 0; i < 6000; i++) {
        pub.send(body(i), `m-${i}`);
        if (i % 150 === 149) await sleep(0);
      }
      await sleep(300);
    } finally {
      Deno.kill(server.pid!, "SIGCONT");
    }
    assert.equal(await pub.drain(30_000), true, "every publish acknowledged");
    assert.equal(pub.stats.acked, 6000);
    assert.equal(pub.stats.resent, 0);
    assert.equal(disconnects, 0, "the server never dropped the connection (no garbled protocol)");
    const stored = await rawMessages(nc, "T");
    assert.equal(stored.length, 6000);
    for (const m of stored) {
      const i = Number(m.headers!.get("Nats-Msg-Id").slice(2));
      assert.ok(sameBytes(m.data, body(i)), `message ${i} stored as sent`);
    }
    pub.close();
  } finally {
    await nc.close();
    await server.dispose();
  }
});

Deno.test("batched publishes: a UTF-8 subject is published as it is; a header value that is not printable ASCII is refused", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  try {
    await ensureStream(nc, { name: "U", subjects: ["t.lögs"] }, log);
    const pub = new JetStreamPublisher(nc, { subject: "t.lögs", window: 64, log });
    for (let i = 0; i < 200; i++) pub.send(body(i), `u-${i}`);
    assert.equal(await pub.drain(10_000), true);
    const stored = await rawMessages(nc, "U");
    assert.equal(stored.length, 200);
    for (const m of stored) {
      assert.equal(m.subject, "t.lögs");
      const i = Number(m.headers!.get("Nats-Msg-Id").slice(2));
      assert.ok(sameBytes(m.data, body(i)), `message ${i} stored as sent`);
    }
    assert.throws(() => pub.send(body(0), "ok", { headers: [["Lm-Note", "grüße"]] }), TypeError);
    assert.throws(() => pub.send(body(0), "bad\r\nid"), TypeError);
    pub.close();
  } finally {
    await nc.close();
    await server.dispose();
  }
});
