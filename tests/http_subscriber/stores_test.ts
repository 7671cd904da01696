/**
 * The subscriber process end to end (real nats-server, real HTTP) against
 * stand-ins of Elasticsearch `_bulk`, Loki push and Splunk HEC that check
 * each body as the real store does (testing/store_sinks.ts): ES
 * per-item results (retried alone, dead-lettered, acked after settlement),
 * Loki stream grouping and time order, Splunk framing and auth.
 */
import assert from "node:assert/strict";
import { connect, type NatsConnection, type StoredMsg } from "nats";
import { encodeMessage } from "../../services/heka/codec.ts";
import { formatUuid, newMessage } from "../../services/heka/message.ts";
import { DeadLetterHeaders } from "../../services/http_subscriber/dead_letter.ts";
import { type MetricEvent, metricEventSchema } from "../../services/metrics/event.ts";
import { EsBulkSink, freePort, LokiSink, NatsServer, SplunkHecSink } from "../../testing/mod.ts";
import {
  consumerSettled,
  makeStream,
  pollUntil,
  publishAll,
  sleep,
  storedOn,
  SubscriberProcess,
  tearDown,
  type TestMessage,
} from "./helpers.ts";

const STREAM = "LAGERMEISTER";
const SUBJECT = "lagermeister-test";
const DEAD = `${SUBJECT}.dead`;

function msg(i: number, o: { host?: string; ns?: bigint; payload?: string } = {}): TestMessage {
  const m = newMessage();
  m.uuid = crypto.getRandomValues(new Uint8Array(16));
  m.timestamp = o.ns ?? BigInt(Date.now()) * 1_000_000n + BigInt(i);
  m.type = "app.log";
  m.logger = "stores-test";
  m.severity = 6;
  m.hostname = o.host ?? "web-1";
  m.pid = 7;
  m.payload = o.payload ?? `line ${i} ünïcode`;
  return { bytes: encodeMessage(m), uuid: formatUuid(m.uuid), payload: m.payload };
}

const BASE_ENV = {
  SUB_DURABLE: "stores",
  SUB_DELIVER_ALL: "true",
  SUB_BATCH_SIZE: "50",
  SUB_BATCH_TIMEOUT: "200ms",
  SUB_POSTERS: "3",
  SUB_RETRY_MIN: "20ms",
  SUB_RETRY_MAX: "200ms",
};

/** The dead letters, once every message is acked (posted with a 2xx or dead-lettered). */
async function readDead(nc: NatsConnection): Promise<StoredMsg[]> {
  assert.ok(await consumerSettled(nc, STREAM, "stores", 20_000), "every message acked");
  return await storedOn(nc, STREAM, DEAD);
}

Deno.test("es-bulk: mixed item results are retried alone, dead-lettered with the reason, then acked", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const msgs = Array.from(
    { length: 300 },
    (_, i) => msg(i, { payload: i % 30 === 5 ? `poison ${i}` : `line ${i} ünïcode` }),
  );
  const poisoned = new Set(msgs.filter((m) => m.payload.startsWith("poison")).map((m) => m.uuid));
  const tries = new Map<string, number>();
  // In one answer: 201s, 429s (every 7th document, twice), 503 (every 11th, once) and
  // 400 mapper_parsing_exception for the poisoned ones.
  const es = new EsBulkSink((item) => {
    const id = item.id!;
    const n = (tries.get(id) ?? 0) + 1;
    tries.set(id, n);
    if (poisoned.has(id)) {
      return {
        status: 400,
        error: { type: "mapper_parsing_exception", reason: "failed to parse field [Payload]" },
      };
    }
    const i = msgs.findIndex((m) => m.uuid === id);
    if (i % 7 === 0 && n <= 2) {
      return { status: 429, error: { type: "es_rejected_execution_exception", reason: "full" } };
    }
    if (i % 11 === 0 && n === 1) {
      return { status: 503, error: { type: "unavailable_shards_exception", reason: "x" } };
    }
    return { status: 201 };
  });
  const statsPort = freePort();
  const events: MetricEvent[] = [];
  nc.subscribe("stats-events", {
    callback: (_err, m) =>
      events.push(metricEventSchema.parse(JSON.parse(new TextDecoder().decode(m.data)))),
  });
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    await publishAll(nc.jetstream(), SUBJECT, msgs);
    sub = SubscriberProcess.spawn({
      ...BASE_ENV,
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: es.url(),
      SUB_FORMAT: "es-bulk",
      SUB_ES_INDEX: "logs-%Y.%m.%d",
      SUB_GZIP: "true",
      SUB_STATS_ADDRESS: `127.0.0.1:${statsPort}`,
    });
    await sub.waitReady();
    assert.ok(await pollUntil(() => es.docs.size >= 290, 20_000), sub.stderr.slice(-3000));
    const dead = await readDead(nc);
    assert.equal(dead.length, 10, "each poisoned document is one dead letter");
    for (const d of dead) {
      assert.equal(d.header.get(DeadLetterHeaders.Status), "400");
      assert.match(
        d.header.get(DeadLetterHeaders.Reason) ?? "",
        /mapper_parsing_exception: failed to parse field \[Payload\]/,
      );
      const original = msgs.find((m) => m.bytes.join() === d.data.join());
      assert.ok(original && poisoned.has(original.uuid), "a dead letter holds the original bytes");
    }
    assert.equal(es.docs.size, 290, "every good document stored once (by _id)");
    const today = new Date().toISOString().slice(0, 10).replaceAll("-", ".");
    assert.ok([...es.docs.keys()].every((k) => k.startsWith(`logs-${today}/`)));
    assert.deepEqual(es.malformed, []);
    // Only failed items were sent again: each document was tried exactly as often as its
    // answers demand, and the bulks add up to those tries.
    msgs.forEach((m, i) => {
      const want = poisoned.has(m.uuid) ? 1 : i % 7 === 0 ? 3 : i % 11 === 0 ? 2 : 1;
      assert.equal(tries.get(m.uuid), want, `tries of document ${i}`);
    });
    const sent = es.bulks.reduce((n, b) => n + b.length, 0);
    assert.equal(sent, [...tries.values()].reduce((a, b) => a + b, 0));
    const vars = await (await fetch(`http://127.0.0.1:${statsPort}/debug/vars`)).json();
    assert.equal(vars.items_refused, 10);
    assert.equal(vars.dead_lettered, 10);
    assert.equal(vars.delivered, 290);
    assert.equal(vars.item_retries, sent - msgs.length, "item_retries counts items sent again");
    assert.match(sub.stderr, /refused items stored on the dead-letter subject/);
    const health = await (await fetch(`http://127.0.0.1:${statsPort}/health`)).json();
    assert.equal(health.format, "es-bulk");
    // MetricEvents name the format and carry the per-item outcomes (the dashboard shows them).
    await sleep(1500);
    const mine = events.filter((e) => e.Sender === "http-output:es-bulk");
    const total = (t: string) =>
      mine.filter((e) => e.MetricType === t).reduce((n, e) => n + e.Value, 0);
    assert.equal(total("ItemsRefused"), 10);
    assert.equal(total("ItemRetries"), sent - msgs.length);
    const status = await sub.stop();
    assert.equal(status.code, 0, sub.stderr);
  } finally {
    await tearDown([sub], [es, nc], server);
  }
});

Deno.test("loki: streams by Type/Logger/Hostname, entries in time order, every line arrives", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const base = BigInt(Date.now()) * 1_000_000n;
  // Timestamps out of order on purpose: the subscriber sorts each stream.
  const msgs = Array.from(
    { length: 400 },
    (_, i) => msg(i, { host: `web-${i % 3}`, ns: base + BigInt((i * 7919) % 400) * 1000n }),
  );
  const loki = new LokiSink();
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    await publishAll(nc.jetstream(), SUBJECT, msgs);
    sub = SubscriberProcess.spawn({
      ...BASE_ENV,
      SUB_BATCH_SIZE: "100",
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: loki.url(),
      SUB_FORMAT: "loki",
      SUB_GZIP: "true",
    });
    await sub.waitReady();
    const seen = new Set<string>();
    const count = () => {
      seen.clear();
      for (const p of loki.pushes) {
        for (const s of p.streams) for (const v of s.values) seen.add(JSON.parse(v[1]).Uuid);
      }
      return seen.size;
    };
    assert.ok(await pollUntil(() => count() === 400, 20_000), sub.stderr.slice(-3000));
    assert.deepEqual(loki.malformed, [], "every push valid and in order");
    for (const p of loki.pushes) {
      assert.ok(p.streams.length <= 3);
      for (const s of p.streams) {
        assert.deepEqual(Object.keys(s.stream), ["Type", "Logger", "Hostname"]);
        for (const v of s.values) {
          const line = JSON.parse(v[1]);
          assert.equal(line.Hostname, s.stream.Hostname, "grouped by its labels");
          assert.equal(line.Payload.endsWith("ünïcode"), true);
        }
      }
    }
    assert.ok(await consumerSettled(nc, STREAM, "stores"), "every message acked");
    assert.equal((await sub.stop()).code, 0);
  } finally {
    await tearDown([sub], [loki, nc], server);
  }
});

Deno.test("splunk-hec: concatenated events with Authorization: Splunk <token>", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const msgs = Array.from({ length: 200 }, (_, i) => msg(i, { host: `h${i % 2}` }));
  const hec = new SplunkHecSink("b6f3e7a2-1c4d-4e5f-9a8b-0c1d2e3f4a5b");
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    await publishAll(nc.jetstream(), SUBJECT, msgs);
    sub = SubscriberProcess.spawn({
      ...BASE_ENV,
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: hec.url(),
      SUB_FORMAT: "splunk-hec",
      SUB_SPLUNK_TOKEN: hec.token,
    });
    await sub.waitReady();
    assert.ok(await pollUntil(() => hec.events.length >= 200, 20_000), sub.stderr.slice(-3000));
    assert.deepEqual(hec.malformed, []);
    const uuids = new Set(hec.events.map((e) => (e.event as { Uuid: string }).Uuid));
    assert.equal(uuids.size, 200);
    for (const e of hec.events) {
      const ev = e.event as { Hostname: string; Type: string; Timestamp: string };
      assert.equal(e.host, ev.Hostname);
      assert.equal(e.sourcetype, "app.log");
      assert.ok(Math.abs((e.time as number) * 1000 - Date.parse(ev.Timestamp)) < 1);
    }
    assert.ok(!sub.stderr.includes(hec.token));
    assert.ok(await consumerSettled(nc, STREAM, "stores"), "every message acked");
    assert.equal((await sub.stop()).code, 0);
  } finally {
    await tearDown([sub], [hec, nc], server);
  }
});

Deno.test("splunk-hec: a wrong token is refused (403) and, after SUB_REJECT_ATTEMPTS, dead-lettered", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const hec = new SplunkHecSink("right-token-0000");
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    await publishAll(nc.jetstream(), SUBJECT, [msg(1), msg(2)]);
    sub = SubscriberProcess.spawn({
      ...BASE_ENV,
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: hec.url(),
      SUB_FORMAT: "splunk-hec",
      SUB_HEADERS: JSON.stringify({ Authorization: "Splunk wrong-token-1111" }),
      SUB_REJECT_ATTEMPTS: "2",
    });
    await sub.waitReady();
    const dead = await readDead(nc);
    assert.equal(dead.length, 2);
    assert.equal(dead[0].header.get(DeadLetterHeaders.Status), "403");
    assert.match(dead[0].header.get(DeadLetterHeaders.Reason) ?? "", /Invalid token/);
    assert.equal(hec.events.length, 0);
    assert.ok(!sub.stderr.includes("wrong-token-1111"), "the header value is never logged");
  } finally {
    await tearDown([sub], [hec, nc], server);
  }
});
