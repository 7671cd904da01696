// The dashboard's store, without a browser.
import assert from "node:assert/strict";
import type { MetricEvent } from "../../services/metrics/event.ts";
import { DashboardStore, levelOf, subscriberFormat } from "../../dashboard/state.ts";

const T0 = 1_780_000_000; // unix seconds

function ev(over: Partial<MetricEvent>): MetricEvent {
  return {
    Timestamp: T0,
    Value: 1,
    Sender: "tcp-receiver",
    SourceIP: "edge-1",
    MetricType: "Throughput",
    Aggregate: "Total",
    ...over,
  };
}

/** A store whose clock the test sets (ms). */
function store(nowSec = T0 + 1, o: { windowSeconds?: number } = {}) {
  const clock = { now: nowSec * 1000 };
  const s = new DashboardStore({ now: () => clock.now, ...o });
  return { s, clock };
}

Deno.test("charts: one aligned line per sender, labelled with the host only when needed", () => {
  const { s } = store();
  s.ingest(ev({ Timestamp: T0 - 2, Value: 10 }));
  s.ingest(ev({ Timestamp: T0 - 1, Value: 20 }));
  s.ingest(ev({ Timestamp: T0, Value: 30 }));
  s.ingest(ev({ Sender: "http-receiver", Timestamp: T0 - 1, Value: 5 }));
  let c = s.chart("Throughput");
  assert.deepEqual(c.x, [T0 - 2, T0 - 1, T0]);
  assert.deepEqual(c.series.map((x) => x.label), ["http-receiver", "tcp-receiver"]);
  assert.deepEqual(c.series[0].values, [null, 5, null]);
  assert.deepEqual(c.series[1].values, [10, 20, 30]);
  assert.equal(c.series[1].last, 30);

  // the same sender on a second host: both get host labels
  s.ingest(ev({ SourceIP: "edge-2", Value: 7 }));
  c = s.chart("Throughput");
  assert.deepEqual(c.series.map((x) => x.label), [
    "http-receiver",
    "tcp-receiver@edge-1",
    "tcp-receiver@edge-2",
  ]);
});

Deno.test("events of one second from several processes are summed (Total) or averaged (Average)", () => {
  const { s } = store();
  s.ingest(ev({ Value: 100 }));
  s.ingest(ev({ Value: 50 }));
  s.ingest(ev({ Sender: "http-output", MetricType: "Lag", Aggregate: "Average", Value: 2 }));
  s.ingest(ev({ Sender: "http-output", MetricType: "Lag", Aggregate: "Average", Value: 4 }));
  assert.deepEqual(s.chart("Throughput").series[0].values, [150]);
  assert.deepEqual(s.chart("Lag").series[0].values, [3]);
  // a late event lands in its place
  s.ingest(ev({ Timestamp: T0 - 5, Value: 9 }));
  assert.deepEqual(s.chart("Throughput").x, [T0 - 5, T0]);
});

Deno.test("history replayed after a reconnect is not counted twice", () => {
  const { s } = store();
  const events = [
    ev({ Timestamp: T0 - 2, Value: 1 }),
    ev({ Timestamp: T0 - 1, Value: 2, MetricType: "Invalid" }),
    ev({ Timestamp: T0, Value: 3 }),
  ];
  s.beginSession();
  for (const e of events) assert.equal(s.ingest(e), true);
  s.beginSession(); // reconnected: the proxy replays the same history, then new events
  for (const e of events) assert.equal(s.ingest(e), false);
  assert.equal(s.ingest(ev({ Timestamp: T0 + 1, Value: 4 })), true);
  assert.equal(s.duplicates, 3);
  assert.equal(s.accepted, 4);
  assert.equal(s.receivers()[0].received, 1 + 3 + 4);
  assert.equal(s.receivers()[0].invalid, 2);
});

Deno.test("points older than the window are dropped", () => {
  const { s } = store(T0 + 1, { windowSeconds: 10 });
  for (let t = T0 - 30; t <= T0; t++) s.ingest(ev({ Timestamp: t }));
  const c = s.chart("Throughput");
  assert.equal(c.x[0], T0 - 10);
  assert.equal(c.x.length, 11);
  assert.equal(s.receivers()[0].received, 31, "totals still count everything");
});

Deno.test("last seen: every sender and host, how long ago, live / late / silent", () => {
  const { s, clock } = store(T0);
  s.ingest(ev({ Timestamp: T0 }));
  s.ingest(ev({ Sender: "http-output", SourceIP: "relay-1", Timestamp: T0 - 8 }));
  s.ingest(ev({ Sender: "http-receiver", Timestamp: T0 - 45 }));
  // a host whose clock runs ahead: its arrival time counts, not its timestamp
  s.ingest(ev({ Sender: "log-generator", SourceIP: "fast-clock", Timestamp: T0 + 3600 }));
  clock.now = (T0 + 2) * 1000;
  const rows = s.lastSeen();
  assert.deepEqual(
    rows.map((r) => [r.sender, r.host, r.agoSeconds, r.freshness]),
    [
      ["http-output", "relay-1", 10, "late"],
      ["http-receiver", "edge-1", 47, "silent"],
      ["log-generator", "fast-clock", 2, "live"],
      ["tcp-receiver", "edge-1", 2, "live"],
    ],
  );
  assert.equal(rows[0].lastTimestamp, T0 - 8);
});

Deno.test("receivers and subscribers tables, and the headline numbers", () => {
  const { s } = store(T0);
  const lag = { Warn: 30, Error: 60 };
  for (const t of [T0 - 1, T0]) {
    s.ingest(ev({ Timestamp: t, Value: 5000 }));
    s.ingest(ev({ Timestamp: t, MetricType: "Invalid", Value: 2 }));
    s.ingest(ev({ Timestamp: t, MetricType: "Refused", Value: 1 }));
    s.ingest(ev({ Timestamp: t, MetricType: "Connections", Value: 40 }));
    s.ingest(ev({ Timestamp: t, Sender: "http-receiver", Value: 800 }));
    s.ingest(ev({ Timestamp: t, Sender: "http-receiver", MetricType: "Filtered", Value: 3 }));
    for (const [host, l, pending] of [["relay-1", 12, 900], ["relay-2", 45, 2500]] as const) {
      const o = { Timestamp: t, Sender: "http-output", SourceIP: host };
      s.ingest(ev({ ...o, Value: 2900 }));
      s.ingest(ev({ ...o, MetricType: "BatchCount", Value: 29 }));
      s.ingest(ev({ ...o, MetricType: "BatchSize", Aggregate: "Average", Value: 100 }));
      s.ingest(ev({ ...o, MetricType: "Lag", Aggregate: "Average", Value: l, Threshold: lag }));
      s.ingest(ev({ ...o, MetricType: "Pending", Value: pending }));
      s.ingest(ev({ ...o, MetricType: "Retries", Value: 1 }));
      s.ingest(ev({ ...o, MetricType: "DeadLettered", Value: host === "relay-2" ? 1 : 0 }));
      s.ingest(ev({ ...o, MetricType: "StreamMessages", Value: 1_000_000 }));
      s.ingest(ev({ ...o, MetricType: "StreamBytes", Value: 3e9 }));
    }
  }
  const r = s.receivers();
  assert.deepEqual(r.map((x) => x.label), ["http-receiver", "tcp-receiver"]);
  assert.equal(r[1].rate, 5000);
  assert.equal(r[1].received, 10_000);
  assert.equal(r[1].invalid, 4);
  assert.equal(r[1].refused, 2);
  assert.equal(r[1].connections, 40);
  assert.equal(r[0].connections, null, "the HTTP receiver has no connections metric");
  assert.equal(r[0].filtered, 6);

  const sub = s.subscribers();
  assert.deepEqual(sub.map((x) => x.label), ["http-output@relay-1", "http-output@relay-2"]);
  assert.equal(sub[0].lagLevel, "ok");
  assert.equal(sub[1].lagLevel, "warn");
  assert.equal(sub[1].pending, 2500);
  assert.equal(sub[1].deadLettered, 2);
  assert.equal(sub[0].batchesPerSecond, 29);

  const o = s.overview();
  assert.equal(o.inputRate, 5800);
  assert.equal(o.outputRate, 5800);
  assert.equal(o.lag, 45);
  assert.equal(o.lagLevel, "warn");
  assert.deepEqual(o.lagThreshold, lag);
  assert.equal(o.pending, 2500, "the largest backlog, not a sum of the same consumer's");
  assert.equal(o.streamMessages, 1_000_000);
  assert.equal(o.rejected, 6);
  assert.equal(o.deadLettered, 2);
  assert.equal(o.retries, 4);
  assert.equal(o.since, T0 - 1);

  const input = s.chart("Throughput", "input");
  assert.deepEqual(input.series.map((x) => x.label), ["http-receiver", "tcp-receiver"]);
  const output = s.chart("Throughput", "output");
  assert.equal(output.series.length, 2);
});

Deno.test("silent senders leave the headline numbers; an empty store has none", () => {
  const { s, clock } = store(T0);
  assert.equal(s.overview().inputRate, null);
  assert.equal(s.overview().lag, null);
  assert.equal(s.overview().lagLevel, "ok");
  s.ingest(ev({ Value: 100 }));
  assert.equal(s.overview().inputRate, 100);
  clock.now = (T0 + 60) * 1000;
  assert.equal(s.overview().inputRate, null);
  assert.equal(s.chart("Throughput").series[0].last, null);
});

Deno.test("levels against thresholds; subscribers are notified", () => {
  const t = { Warn: 30, Error: 60 };
  assert.equal(levelOf(0, t), "ok");
  assert.equal(levelOf(29.9, t), "ok");
  assert.equal(levelOf(30, t), "warn");
  assert.equal(levelOf(60, t), "error");
  const { s } = store();
  let calls = 0;
  const off = s.subscribe(() => calls++);
  s.ingest(ev({}));
  assert.equal(calls, 1);
  assert.equal(s.version, 1);
  off();
  s.ingest(ev({ Timestamp: T0 + 1 }));
  assert.equal(calls, 1);
});

Deno.test("a subscriber's format comes from its sender; per-item outcomes are totalled", () => {
  assert.equal(subscriberFormat("http-output"), "ndjson");
  assert.equal(subscriberFormat("http-output:es-bulk"), "es-bulk");
  const { s } = store(T0);
  for (const t of [T0 - 1, T0]) {
    const o = { Timestamp: t, Sender: "http-output:es-bulk", SourceIP: "relay-9" };
    s.ingest(ev({ ...o, Value: 1000 }));
    s.ingest(ev({ ...o, MetricType: "ItemRetries", Value: 3 }));
    s.ingest(ev({ ...o, MetricType: "ItemsRefused", Value: 1 }));
  }
  const [row] = s.subscribers();
  assert.equal(row.format, "es-bulk");
  assert.equal(row.itemRetries, 6);
  assert.equal(row.itemsRefused, 2);
  assert.equal(s.receivers().length, 0, "ItemRetries is a subscriber metric");
});
