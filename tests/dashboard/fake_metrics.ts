/**
 * A small stand-in for the real services' stats reporters, for the browser
 * test: realistic MetricEvents for every sender (two TCP receivers on two
 * hosts, an HTTP receiver, two subscribers), each series once a second,
 * the senders staggered so something is published every 200 ms.
 *
 * @module
 */
import type { NatsConnection } from "nats";
import type { MetricEvent } from "../../services/metrics/event.ts";
import { STATS_SUBJECT } from "../../services/metrics/event.ts";

interface FakeSender {
  sender: string;
  host: string;
  events: (ts: number, t: number) => Omit<MetricEvent, "Timestamp" | "Sender" | "SourceIP">[];
}

const wave = (t: number, period: number, phase = 0) => Math.sin((t / period) * 2 * Math.PI + phase);
const LAG_THRESHOLD = { Warn: 30, Error: 60 };

function receiver(sender: string, host: string, base: number, conns: number | null): FakeSender {
  return {
    sender,
    host,
    events: (_ts, t) => {
      const ev: Omit<MetricEvent, "Timestamp" | "Sender" | "SourceIP">[] = [
        {
          MetricType: "Throughput",
          Aggregate: "Total",
          Value: Math.round(base * (1 + 0.12 * wave(t, 40, base) + 0.04 * wave(t, 7))),
        },
        { MetricType: "Invalid", Aggregate: "Total", Value: t % 17 === 0 ? 2 : 0 },
        { MetricType: "Refused", Aggregate: "Total", Value: t % 29 === 0 ? 1 : 0 },
        { MetricType: "Filtered", Aggregate: "Total", Value: Math.round(base * 0.004) },
      ];
      if (conns !== null) {
        ev.push({
          MetricType: "Connections",
          Aggregate: "Total",
          Value: conns + (t % 5 === 0 ? 1 : 0),
        });
      }
      return ev;
    },
  };
}

function subscriber(
  host: string,
  base: number,
  lagBase: number,
  pendingBase: number,
  format = "ndjson",
): FakeSender {
  let stream = 1_184_000;
  const perItem = format === "es-bulk";
  return {
    sender: format === "ndjson" ? "http-output" : `http-output:${format}`,
    host,
    events: (_ts, t) => {
      const rate = Math.round(base * (1 + 0.1 * wave(t, 40)));
      stream += Math.round(rate * 0.05);
      return [
        { MetricType: "Throughput", Aggregate: "Total", Value: rate },
        { MetricType: "BatchCount", Aggregate: "Total", Value: Math.round(rate / 100) },
        { MetricType: "BatchSize", Aggregate: "Average", Value: 100 },
        {
          MetricType: "Lag",
          Aggregate: "Average",
          Value: Math.max(0.1, lagBase + lagBase * 0.6 * wave(t, 30, lagBase)),
          Threshold: LAG_THRESHOLD,
        },
        {
          MetricType: "Pending",
          Aggregate: "Total",
          Value: Math.round(pendingBase + 900 * wave(t, 30, lagBase)),
        },
        { MetricType: "Retries", Aggregate: "Total", Value: t % 23 === 0 ? 3 : 0 },
        { MetricType: "Failures", Aggregate: "Total", Value: 0 },
        { MetricType: "DeadLettered", Aggregate: "Total", Value: 0 },
        ...(perItem
          ? [
            { MetricType: "ItemRetries", Aggregate: "Total" as const, Value: t % 7 === 0 ? 5 : 0 },
            {
              MetricType: "ItemsRefused",
              Aggregate: "Total" as const,
              Value: t % 11 === 0 ? 1 : 0,
            },
          ]
          : []),
        { MetricType: "StreamMessages", Aggregate: "Total", Value: stream },
        { MetricType: "StreamBytes", Aggregate: "Total", Value: stream * 3100 },
      ];
    },
  };
}

/** The senders the fake publisher plays. */
export function fakeSenders(): FakeSender[] {
  return [
    receiver("tcp-receiver", "edge-1", 5200, 42),
    receiver("tcp-receiver", "edge-2", 3100, 17),
    receiver("http-receiver", "edge-1", 850, null),
    subscriber("relay-1", 4700, 2.4, 2400),
    subscriber("relay-2", 4400, 6.5, 5200, "es-bulk"),
  ];
}

/** All events of one second of every sender. */
export function fakeSecond(senders: FakeSender[], ts: number): MetricEvent[] {
  const out: MetricEvent[] = [];
  for (const s of senders) {
    for (const e of s.events(ts, ts)) {
      out.push({ ...e, Timestamp: ts, Sender: s.sender, SourceIP: s.host });
    }
  }
  return out;
}

/** Publishes fake metrics until stopped. */
export class FakeMetricsPublisher {
  readonly #senders = fakeSenders();
  readonly #enc = new TextEncoder();
  readonly #last = new Map<number, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #tick = 0;
  /** Events published. */
  published = 0;

  constructor(readonly nc: NatsConnection, readonly subject: string = STATS_SUBJECT) {}

  #publish(e: MetricEvent): void {
    this.nc.publish(this.subject, this.#enc.encode(JSON.stringify(e)));
    this.published++;
  }

  /** Publishes `seconds` of history at once (timestamps before now), as if the services had run. */
  backfill(seconds: number): void {
    const now = Math.floor(Date.now() / 1000);
    for (let ts = now - seconds; ts < now; ts++) {
      for (const e of fakeSecond(this.#senders, ts)) this.#publish(e);
    }
    for (let i = 0; i < this.#senders.length; i++) this.#last.set(i, now - 1);
  }

  /** Every 200 ms, the senders whose turn it is publish their current second. */
  start(intervalMs = 200): void {
    this.#timer = setInterval(() => {
      const ts = Math.floor(Date.now() / 1000);
      for (let i = 0; i < this.#senders.length; i++) {
        if (i % 5 !== this.#tick % 5 || (this.#last.get(i) ?? 0) >= ts) continue;
        this.#last.set(i, ts);
        const s = this.#senders[i];
        for (const e of s.events(ts, ts)) {
          this.#publish({ ...e, Timestamp: ts, Sender: s.sender, SourceIP: s.host });
        }
      }
      this.#tick++;
    }, intervalMs);
  }

  /** Stops publishing. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
