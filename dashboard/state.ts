/**
 * The dashboard's state: every MetricEvent received, folded into time
 * series per (MetricType, Sender, SourceIP), plus the selectors the
 * components read (chart data, per-sender tables, headline numbers).
 * Plain TypeScript without DOM, so it is unit-tested without a browser.
 *
 * @module
 */
import type { MetricEvent, MetricTypes } from "../services/metrics/event.ts";
import { LAG_THRESHOLD } from "../services/metrics/thresholds.ts";

/** A MetricType the services publish (names shared with `services/metrics/event.ts`). */
export type MetricName = keyof typeof MetricTypes;

/** Warn/Error thresholds of a metric. */
export interface Threshold {
  Warn: number;
  Error: number;
}

/** The lag thresholds the original dashboard used, when events carry none. */
export const DEFAULT_LAG_THRESHOLD: Threshold = { ...LAG_THRESHOLD };

/** Health of a value against its thresholds. */
export type Level = "ok" | "warn" | "error";

/** The level of `value` against `t` (at or above Warn is warn, at or above Error is error). */
export function levelOf(value: number, t: Threshold): Level {
  if (value >= t.Error) return "error";
  if (value >= t.Warn) return "warn";
  return "ok";
}

/** One time series: one metric of one sender on one host. */
export interface Series {
  readonly key: string;
  readonly metric: string;
  readonly sender: string;
  readonly host: string;
  aggregate: "Total" | "Average";
  threshold?: Threshold;
  /** Unix seconds, ascending, within the store's window. */
  readonly times: number[];
  /** Values at `times` (events with the same second are summed, or averaged for Average). */
  readonly values: number[];
  /** Event count behind each value (for averaging). */
  readonly counts: number[];
  /** Sum of every value received (per-second counters: the count since the page opened). */
  total: number;
  /** When the last event was seen, in ms (the earlier of its Timestamp and its arrival). */
  seenMs: number;
}

/** One sending process group: a Sender on a host. */
export interface Source {
  readonly sender: string;
  readonly host: string;
  /** Timestamp (unix seconds) of its newest event. */
  lastTimestamp: number;
  /** When it was last heard of, in ms (the earlier of event time and arrival). */
  seenMs: number;
  /** Events received from it. */
  events: number;
  readonly metrics: Set<string>;
}

/** Data for one chart: shared x (unix seconds) and one aligned row per series. */
export interface ChartData {
  x: number[];
  series: ChartSeries[];
}

/** One line of a chart. */
export interface ChartSeries {
  key: string;
  label: string;
  values: (number | null)[];
  /** Newest value, null when the series is silent. */
  last: number | null;
}

/** Which side of the pipeline a sender is on. */
export type Role = "input" | "output";

/** Freshness of a source in the last-seen table. */
export type Freshness = "live" | "late" | "silent";

/** A row of the last-seen table. */
export interface SourceRow {
  sender: string;
  host: string;
  label: string;
  lastTimestamp: number;
  agoSeconds: number;
  freshness: Freshness;
  events: number;
}

/** A row of the receivers table (senders reporting input metrics). */
export interface ReceiverRow {
  label: string;
  sender: string;
  host: string;
  rate: number | null;
  received: number;
  invalid: number;
  refused: number;
  filtered: number;
  connections: number | null;
  freshness: Freshness;
}

/** A row of the subscribers table (senders reporting output metrics). */
export interface SubscriberRow {
  label: string;
  sender: string;
  host: string;
  rate: number | null;
  delivered: number;
  batchesPerSecond: number | null;
  batchSize: number | null;
  lag: number | null;
  lagLevel: Level;
  pending: number | null;
  retries: number;
  failures: number;
  deadLettered: number;
  /** The subscriber's SUB_FORMAT (from its sender name, see {@link subscriberFormat}). */
  format: string;
  /** Since the page opened: items a store failed one by one and that were sent again alone. */
  itemRetries: number;
  /** Since the page opened: items a store refused one by one (dead letters). */
  itemsRefused: number;
  freshness: Freshness;
}

/**
 * The output format of a subscriber: its sender is `http-output` (NDJSON)
 * or `http-output:<format>`.
 */
export function subscriberFormat(sender: string): string {
  const at = sender.lastIndexOf(":");
  return at < 0 ? "ndjson" : sender.slice(at + 1);
}

/** The headline numbers. */
export interface Overview {
  /** Messages per second into the receivers (fresh senders only). */
  inputRate: number | null;
  /** Messages per second delivered by the subscribers. */
  outputRate: number | null;
  /** The worst current lag, seconds. */
  lag: number | null;
  lagThreshold: Threshold;
  lagLevel: Level;
  /** Messages the consumer has not been delivered yet (the real backlog). */
  pending: number | null;
  streamMessages: number | null;
  streamBytes: number | null;
  /** Since the page opened: refused + invalid at the receivers. */
  rejected: number;
  /** Since the page opened: failed deliveries and dead letters at the subscribers. */
  failures: number;
  deadLettered: number;
  retries: number;
  /** Unix seconds of the oldest event received (what "since" the totals count from). */
  since: number | null;
}

/** Options of a {@link DashboardStore}. */
export interface StoreOptions {
  /** Seconds of history kept per series for the charts (default 300). */
  windowSeconds?: number;
  /** A source is "late" after this many seconds without events (default 5). */
  lateAfterSeconds?: number;
  /** …and "silent" after this many (default 30); silent series no longer count in headline numbers. */
  silentAfterSeconds?: number;
  /** Most series kept (default 2000); events of further series are ignored. */
  maxSeries?: number;
  /** The clock, in ms (tests pass their own). */
  now?: () => number;
}

const RECEIVER_METRICS = new Set<string>(
  ["Invalid", "Refused", "Filtered", "Connections"] satisfies MetricName[],
);
const SUBSCRIBER_METRICS = new Set<string>(
  [
    "BatchCount",
    "BatchSize",
    "Lag",
    "Pending",
    "Retries",
    "Failures",
    "DeadLettered",
    "ItemRetries",
    "ItemsRefused",
  ] satisfies MetricName[],
);

function seriesKey(metric: string, sender: string, host: string): string {
  return `${metric}\u0000${sender}\u0000${host}`;
}

function sourceKey(sender: string, host: string): string {
  return `${sender}\u0000${host}`;
}

/** Index of the first element of sorted `a` that is `>= v`. */
function lowerBound(a: number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Everything the dashboard knows, and what it derives from it. */
export class DashboardStore {
  readonly #series = new Map<string, Series>();
  readonly #sources = new Map<string, Source>();
  readonly #hostsBySender = new Map<string, Set<string>>();
  readonly #listeners = new Set<() => void>();
  #watermark = new Map<string, number>();
  readonly #window: number;
  readonly #late: number;
  readonly #silent: number;
  readonly #maxSeries: number;
  readonly #now: () => number;
  #since: number | null = null;
  #version = 0;
  /** Events accepted. */
  accepted = 0;
  /** Events skipped because they were already received (replayed after a reconnect). */
  duplicates = 0;

  constructor(o: StoreOptions = {}) {
    this.#window = o.windowSeconds ?? 300;
    this.#late = o.lateAfterSeconds ?? 5;
    this.#silent = o.silentAfterSeconds ?? 30;
    this.#maxSeries = o.maxSeries ?? 2000;
    this.#now = o.now ?? Date.now;
  }

  /** Grows with every accepted event. */
  get version(): number {
    return this.#version;
  }

  /** Calls `fn` after every accepted event; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Marks a new connection: the proxy replays its recent history to every
   * new client, so events not newer than what each series already has are
   * skipped from here on instead of counted twice.
   */
  beginSession(): void {
    this.#watermark = new Map();
    for (const s of this.#series.values()) {
      if (s.times.length > 0) this.#watermark.set(s.key, s.times[s.times.length - 1]);
    }
  }

  /** Adds one event. Returns false when it was skipped as already seen. */
  ingest(e: MetricEvent, receivedAtMs: number = this.#now()): boolean {
    const key = seriesKey(e.MetricType, e.Sender, e.SourceIP);
    const mark = this.#watermark.get(key);
    if (mark !== undefined && e.Timestamp <= mark) {
      this.duplicates++;
      return false;
    }
    let s = this.#series.get(key);
    if (!s) {
      if (this.#series.size >= this.#maxSeries) return false;
      s = {
        key,
        metric: e.MetricType,
        sender: e.Sender,
        host: e.SourceIP,
        aggregate: e.Aggregate,
        times: [],
        values: [],
        counts: [],
        total: 0,
        seenMs: 0,
      };
      this.#series.set(key, s);
    }
    s.aggregate = e.Aggregate;
    if (e.Threshold) s.threshold = e.Threshold;
    const seenMs = Math.min(e.Timestamp * 1000, receivedAtMs);
    this.#addPoint(s, e.Timestamp, e.Value);
    s.total += e.Value;
    s.seenMs = Math.max(s.seenMs, seenMs);

    const sk = sourceKey(e.Sender, e.SourceIP);
    let src = this.#sources.get(sk);
    if (!src) {
      src = {
        sender: e.Sender,
        host: e.SourceIP,
        lastTimestamp: 0,
        seenMs: 0,
        events: 0,
        metrics: new Set(),
      };
      this.#sources.set(sk, src);
      let hosts = this.#hostsBySender.get(e.Sender);
      if (!hosts) this.#hostsBySender.set(e.Sender, hosts = new Set());
      hosts.add(e.SourceIP);
    }
    src.lastTimestamp = Math.max(src.lastTimestamp, e.Timestamp);
    src.seenMs = Math.max(src.seenMs, seenMs);
    src.events++;
    src.metrics.add(e.MetricType);

    this.#since = this.#since === null ? e.Timestamp : Math.min(this.#since, e.Timestamp);
    this.accepted++;
    this.#version++;
    for (const fn of this.#listeners) fn();
    return true;
  }

  #addPoint(s: Series, ts: number, value: number): void {
    const n = s.times.length;
    let i: number;
    if (n === 0 || ts > s.times[n - 1]) i = n;
    else i = lowerBound(s.times, ts);
    if (i < n && s.times[i] === ts) {
      // several processes with the same Sender and host: one point per second
      const c = s.counts[i];
      s.values[i] = s.aggregate === "Average"
        ? (s.values[i] * c + value) / (c + 1)
        : s.values[i] + value;
      s.counts[i] = c + 1;
    } else if (i === n) {
      s.times.push(ts);
      s.values.push(value);
      s.counts.push(1);
    } else {
      s.times.splice(i, 0, ts);
      s.values.splice(i, 0, value);
      s.counts.splice(i, 0, 1);
    }
    const cutoff = s.times[s.times.length - 1] - this.#window;
    if (s.times[0] < cutoff) {
      const drop = lowerBound(s.times, cutoff);
      s.times.splice(0, drop);
      s.values.splice(0, drop);
      s.counts.splice(0, drop);
    }
  }

  /** `Sender`, or `Sender@host` when the sender runs on several hosts. */
  label(sender: string, host: string): string {
    const hosts = this.#hostsBySender.get(sender);
    return hosts && hosts.size > 1 ? `${sender}@${host}` : sender;
  }

  /** Every series of a metric, sorted by label. */
  series(metric: string, filter?: (s: Series) => boolean): Series[] {
    const out: Series[] = [];
    for (const s of this.#series.values()) {
      if (s.metric === metric && (!filter || filter(s))) out.push(s);
    }
    return out.sort((a, b) =>
      this.label(a.sender, a.host).localeCompare(this.label(b.sender, b.host))
    );
  }

  #freshness(seenMs: number): Freshness {
    const ago = (this.#now() - seenMs) / 1000;
    return ago > this.#silent ? "silent" : ago > this.#late ? "late" : "live";
  }

  #current(s: Series | undefined): number | null {
    if (!s || s.times.length === 0 || this.#freshness(s.seenMs) === "silent") return null;
    return s.values[s.values.length - 1];
  }

  #get(metric: string, sender: string, host: string): Series | undefined {
    return this.#series.get(seriesKey(metric, sender, host));
  }

  /** Whether a series belongs to a receiver ("input") or a subscriber ("output"). */
  hasRole(s: Series, role: Role): boolean {
    const src = this.#sources.get(sourceKey(s.sender, s.host));
    if (!src) return false;
    return role === "input" ? this.isReceiver(src) : this.isSubscriber(src);
  }

  /**
   * Chart data for a metric: one line per series (only those of receivers
   * or of subscribers when `role` is given), aligned on the union of their
   * seconds.
   */
  chart(metric: MetricName, role?: Role): ChartData {
    const list = this.series(metric, role ? (s) => this.hasRole(s, role) : undefined);
    const xs = new Set<number>();
    for (const s of list) for (const t of s.times) xs.add(t);
    const x = [...xs].sort((a, b) => a - b);
    const index = new Map(x.map((t, i) => [t, i]));
    return {
      x,
      series: list.map((s) => {
        const values: (number | null)[] = new Array(x.length).fill(null);
        for (let i = 0; i < s.times.length; i++) values[index.get(s.times[i])!] = s.values[i];
        return {
          key: s.key,
          label: this.label(s.sender, s.host),
          values,
          last: this.#current(s),
        };
      }),
    };
  }

  /** Whether a source reports input (receiver) metrics. */
  isReceiver(src: Source): boolean {
    for (const m of src.metrics) if (RECEIVER_METRICS.has(m)) return true;
    return src.sender.includes("receiver");
  }

  /** Whether a source reports output (subscriber) metrics. */
  isSubscriber(src: Source): boolean {
    for (const m of src.metrics) if (SUBSCRIBER_METRICS.has(m)) return true;
    return src.sender.includes("output") || src.sender.includes("subscriber");
  }

  /** Sources in label order. */
  #sortedSources(filter?: (s: Source) => boolean): Source[] {
    return [...this.#sources.values()]
      .filter((s) => !filter || filter(s))
      .sort((a, b) => this.label(a.sender, a.host).localeCompare(this.label(b.sender, b.host)));
  }

  /** The last-seen table: every sender and host, with how long ago it was heard of. */
  lastSeen(): SourceRow[] {
    const now = this.#now();
    return this.#sortedSources().map((s) => ({
      sender: s.sender,
      host: s.host,
      label: this.label(s.sender, s.host),
      lastTimestamp: s.lastTimestamp,
      agoSeconds: Math.max(0, Math.floor((now - s.seenMs) / 1000)),
      freshness: this.#freshness(s.seenMs),
      events: s.events,
    }));
  }

  /** The receivers table. */
  receivers(): ReceiverRow[] {
    return this.#sortedSources((s) => this.isReceiver(s)).map((s) => {
      const total = (m: MetricName) => this.#get(m, s.sender, s.host)?.total ?? 0;
      const current = (m: MetricName) => this.#current(this.#get(m, s.sender, s.host));
      return {
        label: this.label(s.sender, s.host),
        sender: s.sender,
        host: s.host,
        rate: current("Throughput"),
        received: total("Throughput"),
        invalid: total("Invalid"),
        refused: total("Refused"),
        filtered: total("Filtered"),
        connections: current("Connections"),
        freshness: this.#freshness(s.seenMs),
      };
    });
  }

  /** The subscribers table. */
  subscribers(): SubscriberRow[] {
    return this.#sortedSources((s) => this.isSubscriber(s)).map((s) => {
      const total = (m: MetricName) => this.#get(m, s.sender, s.host)?.total ?? 0;
      const current = (m: MetricName) => this.#current(this.#get(m, s.sender, s.host));
      const lagSeries = this.#get("Lag", s.sender, s.host);
      const lag = current("Lag");
      return {
        label: this.label(s.sender, s.host),
        sender: s.sender,
        host: s.host,
        rate: current("Throughput"),
        delivered: total("Throughput"),
        batchesPerSecond: current("BatchCount"),
        batchSize: current("BatchSize"),
        lag,
        lagLevel: lag === null ? "ok" : levelOf(lag, lagSeries?.threshold ?? DEFAULT_LAG_THRESHOLD),
        pending: current("Pending"),
        retries: total("Retries"),
        failures: total("Failures"),
        deadLettered: total("DeadLettered"),
        format: subscriberFormat(s.sender),
        itemRetries: total("ItemRetries"),
        itemsRefused: total("ItemsRefused"),
        freshness: this.#freshness(s.seenMs),
      };
    });
  }

  /** Headline numbers across every sender. */
  overview(): Overview {
    const sources = [...this.#sources.values()];
    const receivers = sources.filter((s) => this.isReceiver(s));
    const subscribers = sources.filter((s) => this.isSubscriber(s));
    const values = (list: Source[], m: MetricName) =>
      list.map((s) => this.#current(this.#get(m, s.sender, s.host))).filter((v) => v !== null);
    const sum = (vs: number[]) => vs.length ? vs.reduce((a, b) => a + b, 0) : null;
    const max = (vs: number[]) => vs.length ? Math.max(...vs) : null;
    const totals = (list: Source[], m: MetricName) =>
      list.reduce((n, s) => n + (this.#get(m, s.sender, s.host)?.total ?? 0), 0);

    let lag: number | null = null;
    let lagThreshold = DEFAULT_LAG_THRESHOLD;
    for (const s of this.series("Lag")) {
      const v = this.#current(s);
      if (v !== null && (lag === null || v > lag)) {
        lag = v;
        lagThreshold = s.threshold ?? DEFAULT_LAG_THRESHOLD;
      }
    }
    if (lag === null) {
      lagThreshold = this.series("Lag").find((s) => s.threshold)?.threshold ??
        DEFAULT_LAG_THRESHOLD;
    }
    return {
      inputRate: sum(values(receivers, "Throughput")),
      outputRate: sum(values(subscribers, "Throughput")),
      lag,
      lagThreshold,
      lagLevel: lag === null ? "ok" : levelOf(lag, lagThreshold),
      pending: max(values(sources, "Pending")),
      streamMessages: max(values(sources, "StreamMessages")),
      streamBytes: max(values(sources, "StreamBytes")),
      rejected: totals(receivers, "Invalid") + totals(receivers, "Refused"),
      failures: totals(subscribers, "Failures"),
      deadLettered: totals(subscribers, "DeadLettered"),
      retries: totals(subscribers, "Retries"),
      since: this.#since,
    };
  }
}
