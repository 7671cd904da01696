import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "nats";
import {
  ensureStream,
  FRAME_HEAD_ROOM,
  FRAME_TAIL_ROOM,
  framedPublisher,
  JetStreamPublisher,
} from "../../services/broker/mod.ts";
import { Logger } from "../../services/log/mod.ts";
import { NatsServer } from "../../testing/mod.ts";

const log = new Logger("test", "warn");

async function streamCount(nc: NatsConnection, name: string): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(name)).state.messages;
}

Deno.test("publisher stores every message once, even when sent twice", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  try {
    await ensureStream(nc, { name: "T", subjects: ["t.logs"] }, log);
    const pub = new JetStreamPublisher(nc, { subject: "t.logs", window: 64, log });
    const data = new Uint8Array(3000).fill(7);
    for (let i = 0; i < 2000; i++) {
      if (pub.full) await pub.waitForCapacity();
      pub.send(data, `id-${i % 1000}`);
    }
    assert.equal(await pub.drain(10_000), true);
    assert.equal(pub.stats.acked, 2000);
    assert.equal(pub.stats.duplicates, 1000);
    assert.equal(await streamCount(nc, "T"), 1000);
    assert.equal(await pub.publish(data, "single", 2000), "ok");
    pub.close();
  } finally {
    await nc.close();
    await server.dispose();
  }
});

Deno.test("publisher resends across a broker restart and reports unavailable meanwhile", async () => {
  const server = await NatsServer.start();
  const nc = await connect({
    servers: server.url,
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  try {
    await ensureStream(nc, { name: "T", subjects: ["t.logs"] }, log);
    const pub = new JetStreamPublisher(nc, { subject: "t.logs", window: 1024, log });
    const data = new Uint8Array(100).fill(1);
    for (let i = 0; i < 500; i++) {
      if (pub.full) await pub.waitForCapacity();
      pub.send(data, `a-${i}`);
    }
    await server.kill();
    await sleep(300);
    assert.equal(pub.available, false);
    const t0 = performance.now();
    assert.equal(await pub.publish(data, "during-outage", 2000), "unavailable");
    assert.ok(performance.now() - t0 < 100);
    for (let i = 500; i < 700; i++) {
      if (pub.full) await pub.waitForCapacity();
      pub.send(data, `a-${i}`);
    }
    await server.restart();
    assert.equal(await pub.drain(20_000), true);
    assert.equal(await streamCount(nc, "T"), 700);
    assert.equal(pub.available, true);
    pub.close();
  } finally {
    await nc.close();
    await server.dispose();
  }
});

Deno.test("framed publishes store the same bytes and headers as plain ones, with or without room", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  try {
    await ensureStream(nc, { name: "T", subjects: ["t.logs"] }, log);
    const pub = new JetStreamPublisher(nc, { subject: "t.logs", window: 64, log });
    const payload = new Uint8Array(200_000).map((_, i) => i % 251);
    // Room around the data, as the packer leaves it; the bytes there are the publisher's.
    const backing = new Uint8Array(FRAME_HEAD_ROOM + payload.length + FRAME_TAIL_ROOM).fill(0xee);
    const roomy = backing.subarray(FRAME_HEAD_ROOM, FRAME_HEAD_ROOM + payload.length);
    roomy.set(payload);
    const extras = { headers: [["Lm-Count", "7"]] as [string, string][], framed: true };
    assert.equal(await pub.publish(roomy, "framed", 5000, extras), "ok");
    // No room (a view at the start of its buffer): sent the plain way, same result.
    assert.equal(await pub.publish(payload.slice(), "tight", 5000, extras), "ok");
    assert.equal(
      await pub.publish(payload.slice(), "plain", 5000, { headers: extras.headers }),
      "ok",
    );
    pub.close();
    const js = nc.jetstream();
    for (let seq = 1; seq <= 3; seq++) {
      const m = await (await js.consumers.get("T", { opt_start_seq: seq })).next();
      assert.ok(m, `message ${seq}`);
      assert.deepEqual(m.data, payload, `data of message ${seq}`);
      assert.equal(m.headers?.get("Lm-Count"), "7");
      assert.equal(m.headers?.get("Nats-Msg-Id"), ["framed", "tight", "plain"][seq - 1]);
    }
    assert.deepEqual(roomy, payload, "the data itself is never written");
    assert.ok(framedPublisher(nc) !== undefined, "nats.js exposes what framed publishing needs");
    const head = backing.subarray(0, FRAME_HEAD_ROOM);
    assert.ok(head.some((b) => b !== 0xee), "the HPUB frame was written into the room (no copy)");
    assert.equal(backing[backing.length - 2], 0x0d);
  } finally {
    await nc.close();
    await server.dispose();
  }
});
