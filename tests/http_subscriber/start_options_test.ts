/**
 * Acceptance 3: every start option lands on the right first message, and a
 * durable resumes after a restart whatever the start options say.
 */
import assert from "node:assert/strict";
import { connect, type JetStreamClient, type NatsConnection } from "nats";
import { NatsServer } from "../../testing/mod.ts";
import {
  hekaMessages,
  makeStream,
  parseLines,
  pollUntil,
  publishAll,
  Sink,
  sleep,
  SubscriberProcess,
  type TestMessage,
} from "./helpers.ts";

const STREAM = "LAGERMEISTER";
const SUBJECT = "lagermeister-test";

interface Env {
  server: NatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  sink: Sink;
}

async function withEnv(fn: (e: Env) => Promise<void>): Promise<void> {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const sink = Sink.start();
  try {
    await makeStream(nc, STREAM, SUBJECT);
    await fn({ server, nc, js: nc.jetstream(), sink });
  } finally {
    await sink.close();
    await nc.close();
    await server.dispose();
  }
}

function subscriberEnv(e: Env, extra: Record<string, string>): Record<string, string> {
  return {
    SUB_NATS_URL: e.server.url,
    SUB_REMOTE_URL: e.sink.url("/in"),
    SUB_BATCH_TIMEOUT: "100ms",
    SUB_BATCH_SIZE: "50",
    SUB_POSTERS: "2",
    ...extra,
  };
}

/** Runs a subscriber until the sink holds `expect` lines (+ a moment for extras); returns payloads. */
async function runUntil(e: Env, env: Record<string, string>, expect: number): Promise<string[]> {
  const before = e.sink.accepted.length;
  const sub = SubscriberProcess.spawn(subscriberEnv(e, env));
  try {
    await sub.waitReady();
    const ok = await pollUntil(() => e.sink.accepted.length - before >= expect, 10_000);
    await sleep(300); // anything beyond the expected would show up now
    assert.ok(
      ok,
      `expected ${expect} lines, got ${e.sink.accepted.length - before}\n${sub.stderr}`,
    );
  } finally {
    const status = await sub.stop();
    assert.equal(status.code, 0, sub.stderr);
  }
  return parseLines(e.sink.accepted.slice(before)).map((o) => String(o.Payload));
}

const payloads = (ms: TestMessage[]) => ms.map((m) => m.payload);

Deno.test("start options: all, seq, last, delta and new land on the right first message", async () => {
  await withEnv(async (e) => {
    const early = hekaMessages(5, "early");
    await publishAll(e.js, SUBJECT, early);
    await sleep(3000);
    const late = hekaMessages(5, "late");
    await publishAll(e.js, SUBJECT, late);
    const all = [...early, ...late];

    // first, while the late batch is fresh: now − 2s falls between the early
    // batch (≥ 3 s old) and the late one
    assert.deepEqual(await runUntil(e, { SUB_START_DELTA: "2s" }, 5), payloads(late));
    assert.deepEqual(await runUntil(e, { SUB_DELIVER_ALL: "true" }, 10), payloads(all));
    assert.deepEqual(await runUntil(e, { SUB_START_SEQ: "4" }, 7), payloads(all.slice(3)));
    assert.deepEqual(await runUntil(e, { SUB_DELIVER_LAST: "true" }, 1), ["late-4"]);

    // new only: nothing stored before the consumer exists
    const before = e.sink.accepted.length;
    const sub = SubscriberProcess.spawn(subscriberEnv(e, {}));
    try {
      await sub.waitReady();
      const fresh = hekaMessages(3, "fresh");
      await publishAll(e.js, SUBJECT, fresh);
      assert.ok(await pollUntil(() => e.sink.accepted.length - before >= 3, 10_000), sub.stderr);
      await sleep(300);
      const got = parseLines(e.sink.accepted.slice(before)).map((o) => String(o.Payload));
      assert.deepEqual(got, payloads(fresh));
    } finally {
      assert.equal((await sub.stop()).code, 0, sub.stderr);
    }
  });
});

Deno.test("a durable resumes where it left off after a restart, whatever the start options say", async () => {
  await withEnv(async (e) => {
    const first = hekaMessages(10, "first");
    await publishAll(e.js, SUBJECT, first);
    const durable = { SUB_DURABLE: "resume", SUB_CLIENT_ID: "fwd.1" };
    assert.deepEqual(
      await runUntil(e, { ...durable, SUB_DELIVER_ALL: "true" }, 10),
      payloads(first),
    );
    const jsm = await e.nc.jetstreamManager();
    const info = await jsm.consumers.info(STREAM, "resume-fwd_1");
    assert.equal(info.num_ack_pending, 0, "every delivered message was acked");
    assert.equal(info.delivered.stream_seq, 10);

    const second = hekaMessages(5, "second");
    await publishAll(e.js, SUBJECT, second);
    // restarted with another start option: the durable ignores it and resumes
    assert.deepEqual(
      await runUntil(e, { ...durable, SUB_DELIVER_LAST: "true" }, 5),
      payloads(second),
    );
    // and with SUB_UNSUBSCRIBE=true the durable is gone after exit
    const third = hekaMessages(2, "third");
    await publishAll(e.js, SUBJECT, third);
    assert.deepEqual(
      await runUntil(e, { ...durable, SUB_UNSUBSCRIBE: "true" }, 2),
      payloads(third),
    );
    const names: string[] = [];
    for await (const c of jsm.consumers.list(STREAM)) names.push(c.name);
    assert.deepEqual(names, [], "durable deleted and ephemeral consumers cleaned up");
  });
});
