/**
 * Issue #13: packed storage. Both receivers store chunks by default (Heka
 * stream, `Lm-Format`, `Lm-Count`, a chunk id), clamp them to the server's
 * max_payload, `*_PACK=false` keeps one message per uuid, heka-cat reads a
 * chunk, and an `application/x-heka-stream` POST stores many messages.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "nats";
import {
  COUNT_HEADER,
  FORMAT_HEADER,
  HEKA_STREAM_CONTENT_TYPE,
  HEKA_STREAM_FORMAT,
  splitChunk,
} from "../../services/heka/chunk.ts";
import { frameMessage, frameMessages } from "../../services/heka/framing.ts";
import { NatsServer, ProgramProcess } from "../../testing/mod.ts";
import { makeMessage, rawMessages, readStream, streamMessages } from "../helpers/messages.ts";
import {
  concat,
  garbage,
  postMessage,
  startHttpReceiver,
  startTcpReceiver,
  writeInChunks,
} from "../helpers/receivers.ts";

async function waitForMessages(nc: NatsConnection, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (await streamMessages(nc, "LAGERMEISTER") < n && Date.now() < deadline) {
    await sleep(100);
  }
}

Deno.test("packed by default: TCP and HTTP store Heka stream chunks with Lm-Format, Lm-Count and a chunk id; heka-cat reads one", async () => {
  const nats = await NatsServer.start();
  // PACK is the default; said here so that a run with *_PACK=false in the environment tests both.
  const tcp = await startTcpReceiver(nats, { TCPRCVR_PACK_BYTES: "65536", TCPRCVR_PACK: "true" });
  const http = await startHttpReceiver(nats, { RCVR_PACK: "true" });
  const nc = await connect({ servers: nats.url });
  try {
    const uuids = new Set<string>();
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      const m = makeMessage(i, { size: 1000 });
      uuids.add(m.uuid);
      frames.push(frameMessage(m.bytes));
    }
    await writeInChunks(tcp.port, concat(frames));
    const posts = Array.from({ length: 40 }, (_, i) => makeMessage(1000 + i));
    for (const p of posts) uuids.add(p.uuid);
    const statuses = await Promise.all(posts.map((p) => postMessage(http.port, p.bytes)));
    assert.deepEqual(statuses.map((s) => s.status), posts.map(() => 200));
    await waitForMessages(nc, uuids.size);
    const raw = await rawMessages(nc, "LAGERMEISTER");
    assert.ok(raw.length < uuids.size / 4, `${raw.length} JetStream messages hold many each`);
    let count = 0;
    const ids = new Set<string>();
    for (const m of raw) {
      assert.equal(m.headers?.get(FORMAT_HEADER), HEKA_STREAM_FORMAT);
      const n = Number(m.headers?.get(COUNT_HEADER));
      const split = splitChunk(m.data);
      assert.equal(split.messages.length, n, "Lm-Count is the number of frames");
      assert.equal(split.skippedBytes, 0);
      assert.ok(m.data.length <= 256 * 1024);
      count += n;
      const id = m.headers!.get("Nats-Msg-Id");
      assert.ok(!/^[0-9a-f]{8}-/.test(id), "the id is a chunk's, not a message uuid");
      ids.add(id);
    }
    assert.equal(ids.size, raw.length, "chunk ids are unique");
    assert.equal(count, uuids.size, "every message stored once");
    const tcpChunk = raw.find((m) => m.data.length > 60_000) ?? raw[0];
    assert.ok(tcpChunk.data.length <= 65536, "TCPRCVR_PACK_BYTES bounds a chunk");
    const cat = await ProgramProcess.run(
      "services/heka_cat/main.ts",
      {},
      ["--format", "json", "-"],
      tcpChunk.data,
    );
    assert.equal(cat.code, 0, cat.stderr);
    const lines = cat.stdout.trim().split("\n");
    assert.equal(lines.length, Number(tcpChunk.headers!.get(COUNT_HEADER)));
    for (const l of lines) assert.ok(uuids.has(JSON.parse(l).Uuid));
    const health = await (await fetch(`http://127.0.0.1:${http.port}/health`)).json();
    assert.equal(health.stored_total, 40, "/health counts log messages, not chunks");
  } finally {
    await nc.close();
    await tcp.proc.stop();
    await http.proc.stop();
    await nats.dispose();
  }
});

Deno.test("*_PACK=false keeps one JetStream message per log message, Nats-Msg-Id = uuid", async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats, { TCPRCVR_PACK: "false" });
  const http = await startHttpReceiver(nats, { RCVR_PACK: "false" });
  const nc = await connect({ servers: nats.url });
  try {
    const a = makeMessage(1);
    const b = makeMessage(2);
    await writeInChunks(tcp.port, frameMessage(a.bytes));
    assert.equal((await postMessage(http.port, b.bytes)).status, 200);
    await waitForMessages(nc, 2);
    const raw = await rawMessages(nc, "LAGERMEISTER");
    assert.equal(raw.length, 2);
    assert.deepEqual(
      raw.map((m) => m.headers!.get("Nats-Msg-Id")).sort(),
      [a.uuid, b.uuid].sort(),
    );
    for (const m of raw) assert.equal(m.headers!.get(FORMAT_HEADER), "");
  } finally {
    await nc.close();
    await tcp.proc.stop();
    await http.proc.stop();
    await nats.dispose();
  }
});

Deno.test("a chunk never exceeds the server's max_payload", async () => {
  const nats = await NatsServer.start({ config: "max_payload: 32768\n" });
  const tcp = await startTcpReceiver(nats, { TCPRCVR_PACK: "true" }); // 256 KiB, clamped
  const nc = await connect({ servers: nats.url });
  try {
    const msgs = Array.from({ length: 300 }, (_, i) => makeMessage(i, { size: 2000 }).bytes);
    await writeInChunks(tcp.port, frameMessages(msgs));
    await waitForMessages(nc, msgs.length);
    const raw = await rawMessages(nc, "LAGERMEISTER");
    assert.ok(raw.length >= 300 * 2000 / 32768, `${raw.length} chunks`);
    for (const m of raw) assert.ok(m.data.length <= 32768 - 512, `chunk of ${m.data.length}`);
    assert.equal((await readStream(nc, "LAGERMEISTER")).length, msgs.length);
  } finally {
    await nc.close();
    await tcp.proc.stop();
    await nats.dispose();
  }
});

for (const pack of ["true", "false"]) {
  Deno.test(`POST application/x-heka-stream (PACK=${pack}) stores many messages, answers counts and reasons`, async () => {
    const nats = await NatsServer.start();
    const http = await startHttpReceiver(nats, {
      RCVR_PACK: pack,
      RCVR_MATCH_SPEC: "Type != 'drop'",
    });
    const nc = await connect({ servers: nats.url });
    try {
      const good = Array.from({ length: 100 }, (_, i) => makeMessage(i));
      const body = concat([
        frameMessages(good.map((m) => m.bytes)),
        frameMessage(garbage(50)), // undecodable
        frameMessage(makeMessage(500, { type: "drop" }).bytes),
      ]);
      const r = await postMessage(http.port, body, {
        headers: { "content-type": HEKA_STREAM_CONTENT_TYPE },
      });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.stored, 100);
      assert.equal(r.json.refused, 1);
      assert.equal(r.json.filtered, 1);
      assert.equal(Object.values(r.json.reasons as Record<string, number>)[0], 1);
      const stored = await readStream(nc, "LAGERMEISTER");
      assert.equal(stored.length, 100, "all 100 stored once the answer is 200");
      const empty = await postMessage(http.port, garbage(100), {
        headers: { "content-type": HEKA_STREAM_CONTENT_TYPE },
      });
      assert.equal(empty.status, 400);
      const health = await (await fetch(`http://127.0.0.1:${http.port}/health`)).json();
      assert.equal(health.stored_total, 100);
    } finally {
      await nc.close();
      await http.proc.stop();
      await nats.dispose();
    }
  });
}
