/**
 * Acceptance 4: a batch the remote rejects (400) forever ends on the
 * dead-letter subject with its reason; later batches keep flowing; a
 * message that is not Heka is dead-lettered too; nothing stays unacked.
 */
import assert from "node:assert/strict";
import { connect, DiscardPolicy } from "nats";
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
} from "./helpers.ts";

const STREAM = "LAGERMEISTER";
const SUBJECT = "lagermeister-test";
const DEAD = `${SUBJECT}.dead`;

Deno.test("rejected batches and undecodable messages go to the dead-letter subject; the rest flows", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const sink = Sink.start((r) =>
    r.body.includes("POISON")
      ? new Response("poison payload rejected\r\nby the test", { status: 400 })
      : new Response("ok")
  );
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    const js = nc.jetstream();
    const good1 = hekaMessages(50, "good");
    const poison = hekaMessages(1, "POISON");
    const good2 = hekaMessages(49, "good2");
    const garbage = { bytes: new Uint8Array([0x0a, 0x05, 0x01]) }; // length overruns the message
    await publishAll(js, SUBJECT, good1);
    await publishAll(js, SUBJECT, poison);
    await publishAll(js, SUBJECT, [garbage]);
    await publishAll(js, SUBJECT, good2);
    const heka = [...good1, ...poison, ...good2];

    sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url("/bulk"),
      SUB_DURABLE: "dl",
      SUB_DELIVER_ALL: "true",
      SUB_BATCH_SIZE: "10",
      SUB_BATCH_TIMEOUT: "100ms",
      SUB_POSTERS: "3",
      SUB_REJECT_ATTEMPTS: "2",
      SUB_RETRY_MIN: "20ms",
    });
    await sub.waitReady();

    // Once every message is acked, the dead letters are stored: read them back.
    assert.ok(await consumerSettled(nc, STREAM, "dl", 15_000), sub.stderr);
    const dead = await storedOn(nc, STREAM, DEAD);

    const poisoned = dead.filter((m) => m.header.get(DeadLetterHeaders.Status) === "400");
    const undecodable = dead.filter((m) =>
      m.header.get(DeadLetterHeaders.Status) === "undecodable"
    );
    assert.equal(undecodable.length, 1);
    assert.deepEqual([...undecodable[0].data], [...garbage.bytes]);
    assert.match(undecodable[0].header.get(DeadLetterHeaders.Reason), /undecodable/);
    assert.equal(undecodable[0].header.get(DeadLetterHeaders.Sequence), "52");

    // The poison batch: the poison message and its batch mates, bytes unchanged.
    assert.ok(poisoned.length >= 1 && poisoned.length <= 10, `${poisoned.length} dead letters`);
    const byBytes = new Map(heka.map((m) => [m.bytes.join(","), m]));
    const deadPayloads = poisoned.map((m) => byBytes.get(m.data.join(","))?.payload);
    assert.ok(deadPayloads.every((p) => p !== undefined), "dead letters hold the original bytes");
    assert.ok(deadPayloads.includes(poison[0].payload));
    for (const m of poisoned) {
      const h = m.header;
      assert.equal(
        h.get(DeadLetterHeaders.Reason),
        "HTTP 400: poison payload rejected by the test",
      );
      assert.equal(h.get(DeadLetterHeaders.Attempts), "2");
      assert.equal(h.get(DeadLetterHeaders.Subject), SUBJECT);
      assert.equal(h.get(DeadLetterHeaders.Stream), STREAM);
      assert.match(h.get(DeadLetterHeaders.Sequence), /^\d+$/);
    }

    // Everything else was delivered, once.
    const delivered = parseLines(sink.accepted).map((o) => String(o.Payload));
    assert.deepEqual(
      [...delivered, ...deadPayloads].sort(),
      heka.map((m) => m.payload).sort(),
      "each Heka message was delivered or dead-lettered",
    );

    // Later batches keep flowing.
    const later = hekaMessages(25, "later");
    const before = sink.accepted.length;
    await publishAll(js, SUBJECT, later);
    assert.ok(await pollUntil(() => sink.accepted.length - before >= 25, 10_000), sub.stderr);

    // Nothing left unacked; the stream covers the dead-letter subject.
    assert.ok(await consumerSettled(nc, STREAM, "dl"), "every message acked");
    const jsm = await nc.jetstreamManager();
    assert.ok((await jsm.streams.info(STREAM)).config.subjects?.includes(DEAD));
    assert.match(sub.stderr, /batch stored on the dead-letter subject/);
  } finally {
    if (sub) assert.equal((await sub.stop()).code, 0, sub.stderr);
    await sink.close();
    await nc.close();
    await server.dispose();
  }
});

Deno.test("dead letters go to a stream that already takes the dead-letter subject", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const sink = Sink.start(() => new Response("no", { status: 422 }));
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    await makeStream(nc, "DEAD_LETTERS", DEAD);
    sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url(),
      SUB_BATCH_TIMEOUT: "50ms",
      SUB_REJECT_ATTEMPTS: "1",
    });
    await sub.waitReady();
    assert.match(sub.stderr, /msg="dead letters go to another stream" stream=DEAD_LETTERS/);
    const js = nc.jetstream();
    await publishAll(js, SUBJECT, hekaMessages(3, "rejected"));
    const jsm = await nc.jetstreamManager();
    let stored = 0;
    for (let i = 0; i < 100 && stored < 3; i++) {
      stored = (await jsm.streams.info("DEAD_LETTERS")).state.messages;
      if (stored < 3) await sleep(100);
    }
    assert.equal(stored, 3, sub.stderr);
    assert.deepEqual((await jsm.streams.info(STREAM)).config.subjects, [SUBJECT]);
    const m = await jsm.streams.getMessage("DEAD_LETTERS", { seq: 1 });
    assert.equal(m.header.get(DeadLetterHeaders.Status), "422");
    assert.equal(m.header.get(DeadLetterHeaders.Reason), "HTTP 422: no");
  } finally {
    if (sub) assert.equal((await sub.stop()).code, 0, sub.stderr);
    await sink.close();
    await nc.close();
    await server.dispose();
  }
});

Deno.test("a dead letter that cannot be stored (stream full) holds its message unacked until it can", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const sink = Sink.start((r) =>
    r.body.includes("POISON") ? new Response("no", { status: 400 }) : new Response("ok")
  );
  let sub: SubscriberProcess | undefined;
  try {
    // The operator's stream, bounded and refusing new messages when full.
    const jsm = await nc.jetstreamManager();
    const config = {
      name: STREAM,
      subjects: [SUBJECT, DEAD],
      max_bytes: 64 * 1024,
      discard: DiscardPolicy.New,
    };
    await jsm.streams.add(config);
    const js = nc.jetstream();
    const poison = hekaMessages(1, "POISON");
    await publishAll(js, SUBJECT, [...hekaMessages(5, "good"), ...poison]);
    // Fill it to the brim with good messages.
    let fillers = 0;
    for (;;) {
      try {
        await js.publish(SUBJECT, hekaMessages(1, `filler-${fillers}`)[0].bytes);
        fillers++;
      } catch (err) {
        const api = (err as { api_error?: { description?: string } }).api_error;
        assert.match(api?.description ?? String(err), /maximum bytes exceeded/);
        break;
      }
    }

    sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url(),
      SUB_DURABLE: "dl-full",
      SUB_DELIVER_ALL: "true",
      SUB_BATCH_SIZE: "1",
      SUB_BATCH_TIMEOUT: "50ms",
      SUB_REJECT_ATTEMPTS: "1",
      SUB_RETRY_MIN: "20ms",
    });
    await sub.waitReady();
    assert.ok(
      await pollUntil(
        () =>
          /could not store dead letters; retrying.*error="503: maximum bytes exceeded"/.test(
            sub!.stderr,
          ),
        15_000,
      ),
      sub.stderr,
    );
    // Every good message was delivered; the poison one is neither acked nor lost.
    assert.ok(await pollUntil(() => sink.accepted.length === 5 + fillers, 10_000));
    // (The good ones' acks land a moment after their POSTs.)
    let held = await jsm.consumers.info(STREAM, "dl-full");
    for (let i = 0; i < 100 && held.num_ack_pending > 1; i++) {
      await sleep(100);
      held = await jsm.consumers.info(STREAM, "dl-full");
    }
    assert.equal(held.num_ack_pending, 1, JSON.stringify(held));
    assert.equal(held.num_pending, 0, JSON.stringify(held));

    // Room again: the dead letter is stored and the message acked.
    await jsm.streams.update(STREAM, { ...config, max_bytes: 1024 * 1024 });
    assert.ok(await consumerSettled(nc, STREAM, "dl-full", 15_000), sub.stderr);
    const dead = await storedOn(nc, STREAM, DEAD);
    assert.equal(dead.length, 1);
    assert.deepEqual([...dead[0].data], [...poison[0].bytes]);
  } finally {
    if (sub) assert.equal((await sub.stop(40_000)).code, 0, sub.stderr);
    await sink.close();
    await nc.close();
    await server.dispose();
  }
});
