/**
 * Acceptance 1 and 2: at-least-once delivery through a flaky, slow sink
 * across a SIGKILL and restart; two queue group members splitting the work.
 */
import assert from "node:assert/strict";
import { connect } from "nats";
import { freePort, NatsServer } from "../../testing/mod.ts";
import {
  hekaMessages,
  makeStream,
  parseLines,
  pollUntil,
  publishAll,
  Sink,
  sleep,
  SubscriberProcess,
  tearDown,
} from "./helpers.ts";

const STREAM = "LAGERMEISTER";
const SUBJECT = "lagermeister-test";

Deno.test("every message arrives at least once through a flaky sink, across SIGKILL and restart", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  // 10 % 500, 10 % 429 (Retry-After: 1), 5 % answered after 2.5 s (longer than the ack wait).
  const sink = Sink.start(async (r) => {
    if (r.n % 10 === 3) return new Response("overloaded", { status: 500 });
    if (r.n % 10 === 7) {
      return new Response("slow down", { status: 429, headers: { "retry-after": "1" } });
    }
    if (r.n % 20 === 11) await sleep(2500);
    return new Response("ok");
  });
  const subs: SubscriberProcess[] = [];
  try {
    await makeStream(nc, STREAM, SUBJECT);
    const msgs = hekaMessages(5000, "kill", 3000);
    const byUuid = new Map(msgs.map((m) => [m.uuid, m.payload]));
    assert.equal(byUuid.size, 5000, "unique uuids");
    const t0 = performance.now();
    await publishAll(nc.jetstream(), SUBJECT, msgs);
    console.log(`published 5000 × 3 KB in ${(performance.now() - t0).toFixed(0)} ms`);

    const statsPort = freePort();
    const env = {
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url("/bulk"),
      SUB_DURABLE: "killtest",
      SUB_CLIENT_ID: "k1",
      SUB_DELIVER_ALL: "true",
      SUB_BATCH_SIZE: "50",
      SUB_BATCH_TIMEOUT: "200ms",
      SUB_POSTERS: "4",
      SUB_ACK_WAIT: "2s",
      SUB_REQUEST_TIMEOUT: "5s",
      SUB_RETRY_MIN: "50ms",
      SUB_RETRY_MAX: "1s",
    };
    const first = SubscriberProcess.spawn({
      ...env,
      SUB_STATS_ADDRESS: `127.0.0.1:${statsPort}`,
    });
    subs.push(first);
    await first.waitReady();
    assert.ok(await pollUntil(() => sink.accepted.length >= 2000, 20_000), first.stderr);
    // Slow answers (2.5 s) outlast the 2 s ack wait: only in-progress acks prevent redelivery.
    const vars = await (await fetch(`http://127.0.0.1:${statsPort}/debug/vars`)).json();
    assert.equal(vars.redelivered, 0, "nothing redelivered while POSTs were merely slow");
    assert.ok(vars.retries > 0 && vars.failures > 0);
    first.kill("SIGKILL");
    const killed = await first.exited();
    assert.equal(killed.signal, "SIGKILL");
    const atKill = sink.accepted.length;

    const second = SubscriberProcess.spawn(env);
    subs.push(second);
    await second.waitReady();
    const seen = new Set<string>();
    let checked = 0;
    const complete = await pollUntil(
      () => {
        for (; checked < sink.accepted.length; checked++) {
          const [o] = parseLines([sink.accepted[checked]]);
          const uuid = String(o.Uuid);
          assert.equal(o.Payload, byUuid.get(uuid), `payload of ${uuid}`);
          seen.add(uuid);
        }
        return seen.size === 5000;
      },
      25_000,
      100,
    );
    assert.ok(complete, `${seen.size} of 5000 arrived\n${second.stderr.slice(-3000)}`);
    await sleep(500);
    const status = await second.stop();
    assert.equal(status.code, 0, second.stderr);

    const total = sink.accepted.length;
    const duplicates = total - 5000;
    console.log(
      `delivered ${total} lines for 5000 messages: ${duplicates} duplicates ` +
        `(${(duplicates / 50).toFixed(1)} %), killed after ${atKill} lines, ` +
        `${sink.requests.length} requests`,
    );
    assert.ok(duplicates < 1000, `duplicates ${duplicates} ≥ 20 %`);
    const info = await (await nc.jetstreamManager()).consumers.info(STREAM, "killtest-k1");
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
  } finally {
    await tearDown(subs, [sink, nc], server);
  }
});

Deno.test("two subscribers in one SUB_QGROUP split 3,000 messages between them", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const slow = async () => {
    await sleep(20);
    return new Response("ok");
  };
  const sinks = [Sink.start(slow), Sink.start(slow)];
  const subs: SubscriberProcess[] = [];
  try {
    await makeStream(nc, STREAM, SUBJECT);
    for (const [i, sink] of sinks.entries()) {
      const s = SubscriberProcess.spawn({
        SUB_NATS_URL: server.url,
        SUB_REMOTE_URL: sink.url(),
        SUB_QGROUP: "workers",
        SUB_CLIENT_ID: `member-${i}`,
        SUB_UNSUBSCRIBE: "true",
        SUB_BATCH_SIZE: "50",
        SUB_BATCH_TIMEOUT: "100ms",
        SUB_POSTERS: "2",
      });
      subs.push(s);
    }
    for (const s of subs) await s.waitReady();
    const msgs = hekaMessages(3000, "group", 500);
    await publishAll(nc.jetstream(), SUBJECT, msgs);
    const all = () => new Set([...sinks[0].accepted, ...sinks[1].accepted]).size;
    assert.ok(await pollUntil(() => all() >= 3000, 20_000), subs.map((s) => s.stderr).join("\n"));

    const shares = sinks.map((s) => new Set(s.accepted).size);
    console.log(
      `queue group shares: ${shares.join(" + ")} (duplicates: ${
        sinks[0].accepted.length + sinks[1].accepted.length - 3000
      })`,
    );
    for (const share of shares) assert.ok(share >= 300, `share ${share} < 10 %`);
    const payloads = new Set(
      parseLines([...sinks[0].accepted, ...sinks[1].accepted]).map((o) => o.Payload),
    );
    assert.equal(payloads.size, 3000);

    // SUB_UNSUBSCRIBE: the shared consumer stays while a member still pulls…
    const jsm = await nc.jetstreamManager();
    assert.equal((await subs[0].stop()).code, 0, subs[0].stderr);
    assert.equal((await jsm.consumers.info(STREAM, "workers")).name, "workers");
    // …and goes with the last one.
    assert.equal((await subs[1].stop()).code, 0, subs[1].stderr);
    await assert.rejects(jsm.consumers.info(STREAM, "workers"));
  } finally {
    await tearDown(subs, [...sinks, nc], server);
  }
});
