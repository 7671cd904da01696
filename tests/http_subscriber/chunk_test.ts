/**
 * Issue #13: the subscriber reads chunks (Heka stream, `Lm-Format`,
 * `Lm-Count`) and single messages mixed in one stream. A chunk's lines span
 * several batches; a failed batch re-posts only its own lines; a chunk is
 * acked only after every line from it got a 2xx, so a SIGKILL mid-chunk
 * loses nothing (the chunk is redelivered); an undecodable line is a dead
 * letter of its own.
 */
import assert from "node:assert/strict";
import { headers, type JetStreamClient, type NatsConnection } from "nats";
import {
  COUNT_HEADER,
  FORMAT_HEADER,
  framedSize,
  HEKA_STREAM_FORMAT,
  writeFrame,
} from "../../services/heka/chunk.ts";
import { DeadLetterHeaders } from "../../services/http_subscriber/dead_letter.ts";
import { NatsServer } from "../../testing/mod.ts";
import {
  consumerSettled,
  hekaMessages,
  makeStream,
  parseLines,
  pollUntil,
  publishAll,
  Sink,
  sleep,
  storedOn,
  SubscriberProcess,
  tearDown,
  type TestMessage,
} from "./helpers.ts";
import { connect } from "nats";

const STREAM = "LAGERMEISTER";
const SUBJECT = "lagermeister-test";

/** Publishes messages as one chunk, as a receiver stores them; returns its stream sequence. */
async function publishChunk(
  js: JetStreamClient,
  messages: readonly Uint8Array[],
  id: string,
): Promise<number> {
  const data = new Uint8Array(messages.reduce((n, m) => n + framedSize(m.length), 0));
  let at = 0;
  for (const m of messages) at = writeFrame(data, at, m);
  const h = headers();
  h.set(FORMAT_HEADER, HEKA_STREAM_FORMAT);
  h.set(COUNT_HEADER, String(messages.length));
  return (await js.publish(SUBJECT, data, { headers: h, msgID: id })).seq;
}

function countByUuid(lines: readonly string[]): Map<string, number> {
  const n = new Map<string, number>();
  for (const o of parseLines(lines)) n.set(String(o.Uuid), (n.get(String(o.Uuid)) ?? 0) + 1);
  return n;
}

async function consumerState(nc: NatsConnection, name: string) {
  return await (await nc.jetstreamManager()).consumers.info(STREAM, name);
}

const ENV = {
  SUB_DURABLE: "chunks",
  SUB_CLIENT_ID: "c1",
  SUB_DELIVER_ALL: "true",
  SUB_BATCH_SIZE: "30",
  SUB_BATCH_TIMEOUT: "100ms",
  SUB_POSTERS: "4",
  SUB_ACK_WAIT: "3s",
  SUB_RETRY_MIN: "50ms",
  SUB_RETRY_MAX: "200ms",
};

Deno.test("chunks and single messages mixed: a failed batch re-posts only its lines; an undecodable line is a dead letter alone", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  // The first two POSTs holding line "c1-50" fail: only that batch is posted again.
  let failures = 0;
  const sink = Sink.start((r) => {
    if (r.body.includes('"c1-50"') && failures < 2) {
      failures++;
      return new Response("try again", { status: 503 });
    }
    return new Response("ok");
  });
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    const js = nc.jetstream();
    const single1 = hekaMessages(10, "s1");
    const chunks = [0, 1, 2].map((c) => hekaMessages(100, `c${c}`));
    const single2 = hekaMessages(10, "s2");
    const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff]); // field 1, length past the end
    await publishAll(js, SUBJECT, single1);
    const seqs: number[] = [];
    for (const [c, msgs] of chunks.entries()) {
      const bytes = msgs.map((m) => m.bytes);
      if (c === 0) bytes.splice(5, 0, garbage);
      seqs.push(await publishChunk(js, bytes, `chunk-${c}`));
    }
    await publishAll(js, SUBJECT, single2);
    const all: TestMessage[] = [...single1, ...chunks.flat(), ...single2];

    sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url("/bulk"),
      ...ENV,
    });
    await sub.waitReady();
    assert.ok(
      await pollUntil(() => countByUuid(sink.accepted).size === all.length, 20_000),
      sub.stderr,
    );
    assert.ok(await consumerSettled(nc, STREAM, "chunks-c1"), "every message acked");
    const n = countByUuid(sink.accepted);
    for (const m of all) assert.equal(n.get(m.uuid), 1, `${m.payload} posted once`);
    assert.equal(failures, 2);
    assert.ok(sink.requests.length >= 350 / 30, "chunks span several batches");
    const info = await consumerState(nc, "chunks-c1");
    assert.equal(info.num_ack_pending, 0, "every chunk acked");
    assert.equal(info.num_pending, 0);
    // (The dead letter, stored in this stream after them, may count as passed too.)
    assert.ok(info.ack_floor.stream_seq >= seqs[2] + single2.length, "acked up to the last");
    // SUB_MAX_ACK_PENDING left at its default (30 x (4 + 2) lines): fitted to chunks of ~100.
    assert.equal(info.config.max_ack_pending, 16);

    const dead = await (await nc.jetstreamManager()).streams.getMessage(STREAM, {
      last_by_subj: `${SUBJECT}.dead`,
    });
    assert.deepEqual(dead.data, garbage, "the undecodable line alone, bytes unchanged");
    assert.equal(dead.header.get(DeadLetterHeaders.Status), "undecodable");
    assert.equal(dead.header.get(DeadLetterHeaders.Sequence), String(seqs[0]));
    assert.equal(dead.header.get(DeadLetterHeaders.Index), "5");
    assert.equal(await sub.stop().then((s) => s.code), 0, sub.stderr);
  } finally {
    await tearDown([sub], [sink, nc], server);
  }
});

Deno.test("SIGKILL mid-chunk: the chunk is not acked, redelivered, and every line arrives", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  // First run: batches holding lines c1-60 and later hang; the rest is delivered.
  let hang = true;
  const release = Promise.withResolvers<void>();
  const sink = Sink.start(async (r) => {
    if (hang && /"c1-(6|7|8|9)\d"/.test(r.body)) {
      await release.promise;
      return new Response("too late", { status: 500 }); // its poster is gone
    }
    return new Response("ok");
  });
  const subs: SubscriberProcess[] = [];
  try {
    await makeStream(nc, STREAM, SUBJECT);
    const js = nc.jetstream();
    const chunks = [0, 1, 2].map((c) => hekaMessages(100, `c${c}`));
    const seqs: number[] = [];
    for (const [c, msgs] of chunks.entries()) {
      seqs.push(await publishChunk(js, msgs.map((m) => m.bytes), `chunk-${c}`));
    }
    const all = chunks.flat();
    const env = { SUB_NATS_URL: server.url, SUB_REMOTE_URL: sink.url("/bulk"), ...ENV };
    const first = SubscriberProcess.spawn(env);
    subs.push(first);
    await first.waitReady();
    const chunk1 = new Set(chunks[1].map((m) => m.uuid));
    // Lines of chunk 1 before the hang are delivered, its later lines wait.
    assert.ok(
      await pollUntil(() => {
        const n = countByUuid(sink.accepted);
        return [...n.keys()].filter((u) => chunk1.has(u)).length >= 30;
      }, 20_000),
      first.stderr,
    );
    await sleep(300);
    first.kill("SIGKILL");
    assert.equal((await first.exited()).signal, "SIGKILL");
    const before = countByUuid(sink.accepted);
    const deliveredOfChunk1 = [...before.keys()].filter((u) => chunk1.has(u));
    assert.ok(deliveredOfChunk1.length < 100, "killed mid-chunk");
    const info = await consumerState(nc, "chunks-c1");
    assert.ok(info.ack_floor.stream_seq < seqs[1], "chunk 1 was not acked");

    hang = false;
    release.resolve();
    const second = SubscriberProcess.spawn(env);
    subs.push(second);
    await second.waitReady();
    assert.ok(
      await pollUntil(() => countByUuid(sink.accepted).size === all.length, 30_000),
      second.stderr,
    );
    const after = countByUuid(sink.accepted);
    for (const u of deliveredOfChunk1) {
      assert.ok(after.get(u)! >= 2, "the redelivered chunk re-posts its lines (at least once)");
    }
    assert.ok(await consumerSettled(nc, STREAM, "chunks-c1"), "every message acked");
    const end = await consumerState(nc, "chunks-c1");
    assert.equal(end.ack_floor.stream_seq, seqs[2]);
    assert.equal((await second.stop()).code, 0, second.stderr);
  } finally {
    release.resolve();
    await tearDown(subs, [sink, nc], server);
  }
});

Deno.test("an ack window fitted to big chunks widens again when small ones follow (no starved batches)", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const sink = Sink.start(() => new Response("ok"));
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    const js = nc.jetstream();
    sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url("/bulk"),
      SUB_DURABLE: "widen",
      SUB_CLIENT_ID: "c1",
      SUB_DELIVER_ALL: "true",
      SUB_BATCH_SIZE: "100",
      SUB_BATCH_TIMEOUT: "2s",
      SUB_POSTERS: "4",
    });
    await sub.waitReady();
    // A TCP burst packed into one big chunk: the window (600 lines by default) is fitted to 16.
    await publishChunk(js, hekaMessages(300, "big").map((m) => m.bytes), "big");
    const s = sub;
    assert.ok(
      await pollUntil(() => /ack window fitted[^\n]*max_ack_pending=16\b/.test(s.stderr), 10_000),
      sub.stderr,
    );
    // Then HTTP single-message POSTs: one line a chunk. In a window of 16 messages each batch
    // of 100 would wait out the 2 s timeout for 16 lines: 200 lines in 25 s. (A full window
    // now sends its batch at once, and the window changes at most once a second: a pause
    // halfway lets the later ones find it widened.)
    const t0 = performance.now();
    const small = hekaMessages(200, "small");
    for (const [i, m] of small.entries()) {
      if (i === 100) await sleep(1100);
      await publishChunk(js, [m.bytes], `small-${i}`);
    }
    assert.ok(
      await pollUntil(() => countByUuid(sink.accepted).size === 500, 12_000),
      `only ${countByUuid(sink.accepted).size} of 500 lines in 12 s\n${sub.stderr}`,
    );
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds < 8, `the small chunks took ${seconds.toFixed(1)} s`);
    const info = await consumerState(nc, "widen-c1");
    assert.ok((info.config.max_ack_pending ?? 0) > 16, `window ${info.config.max_ack_pending}`);
    assert.equal(await sub.stop().then((s) => s.code), 0, sub.stderr);
  } finally {
    await tearDown([sub], [sink, nc], server);
  }
});

Deno.test("large chunks (frame buffers given back and reused): a dead letter carries its own line's bytes, every accepted line its own payload", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  // A batch holding a line "cK-33" is rejected for good, slowly: its lines become dead
  // letters, read back from their chunk after other lines of it were acked and later
  // chunks arrived. Every fourth POST fails once.
  let posts = 0;
  const sink = Sink.start(async (r) => {
    if (r.body.includes("-33 x")) {
      await sleep(300);
      return new Response("no", { status: 400 });
    }
    if (++posts % 4 === 0) return new Response("try again", { status: 503 });
    return new Response("ok");
  });
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    const js = nc.jetstream();
    // 24 chunks of 40 lines of 2 KB: 80 KB each, built in pooled frame buffers.
    const chunks = Array.from({ length: 24 }, (_, c) => hekaMessages(40, `c${c}`, 2000));
    for (const [c, msgs] of chunks.entries()) {
      await publishChunk(js, msgs.map((m) => m.bytes), `big-${c}`);
    }
    const all = chunks.flat();
    const byBytes = new Map(all.map((m) => [m.bytes.join(","), m.uuid]));
    const payloadOf = new Map(all.map((m) => [m.uuid, m.payload]));
    sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url("/bulk"),
      ...ENV,
      SUB_REJECT_ATTEMPTS: "1",
      // Few chunks at a time: a chunk arrives when one is acked, in the buffer given back last.
      SUB_MAX_ACK_PENDING: "4",
    });
    await sub.waitReady();

    // Every line acked means every line posted with a 2xx or stored as a dead letter.
    assert.ok(await consumerSettled(nc, STREAM, "chunks-c1", 30_000), sub.stderr);
    const dead = new Set<string>();
    for (const m of await storedOn(nc, STREAM, `${SUBJECT}.dead`)) {
      const uuid = byBytes.get(m.data.join(","));
      assert.ok(uuid !== undefined, `dead letter ${m.seq} is the bytes of a line sent`);
      assert.ok(!dead.has(uuid), `dead letter ${m.seq} is the only one of its line`);
      dead.add(uuid);
    }
    assert.equal(countByUuid(sink.accepted).size + dead.size, all.length, sub.stderr);
    assert.ok(dead.size >= 24, "a batch per chunk was dead-lettered");
    for (const o of parseLines(sink.accepted)) {
      assert.equal(o.Payload, payloadOf.get(String(o.Uuid)), "a line carries its own payload");
      assert.ok(!dead.has(String(o.Uuid)), "accepted or dead-lettered, not both");
    }
    assert.equal((await sub.stop()).code, 0, sub.stderr);
  } finally {
    await tearDown([sub], [sink, nc], server);
  }
});

Deno.test("a full ack window sends the open batch at once, not after SUB_BATCH_TIMEOUT", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const sink = Sink.start(() => new Response("ok"));
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    const js = nc.jetstream();
    // Single messages and chunks: 13 + 3 × 6 lines in 16 JetStream messages, four windows' worth.
    const singles = hekaMessages(13, "single");
    const chunks = [0, 1, 2].map((c) => hekaMessages(6, `w${c}`));
    await publishAll(js, SUBJECT, singles.slice(0, 6));
    for (const [c, msgs] of chunks.entries()) {
      await publishChunk(js, msgs.map((m) => m.bytes), `window-${c}`);
    }
    await publishAll(js, SUBJECT, singles.slice(6));
    const all = [...singles, ...chunks.flat()];
    const t0 = performance.now();
    // The server sends 4 messages, then waits for acks; a batch of 100 lines would wait 60 s.
    sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url("/bulk"),
      SUB_DURABLE: "window",
      SUB_CLIENT_ID: "c1",
      SUB_DELIVER_ALL: "true",
      SUB_MAX_ACK_PENDING: "4",
      SUB_BATCH_SIZE: "100",
      SUB_BATCH_TIMEOUT: "60s",
      SUB_POSTERS: "2",
    });
    await sub.waitReady();
    assert.ok(
      await pollUntil(() => countByUuid(sink.accepted).size === all.length, 15_000),
      `only ${countByUuid(sink.accepted).size} of ${all.length} lines\n${sub.stderr}`,
    );
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds < 15, `took ${seconds.toFixed(1)} s`);
    // One batch per window: the count of messages in hand goes down as acks go out (counting
    // too many would cut batches before the window is full: more of them).
    assert.equal(sink.requests.length, 4, "one batch per window of 4 messages");
    const info = await consumerState(nc, "window-c1");
    assert.equal(info.num_ack_pending, 0);
    assert.equal(await sub.stop().then((s) => s.code), 0, sub.stderr);
  } finally {
    await tearDown([sub], [sink, nc], server);
  }
});
