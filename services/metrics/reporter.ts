/**
 * StatsReporter: publishes a program's MetricEvents on core NATS once a
 * second per metric.
 *
 * @module
 */
import type { NatsConnection } from "nats";
import type { Counter } from "./registry.ts";
import { type MetricEvent, STATS_SUBJECT } from "./event.ts";

/** One metric a reporter publishes every interval. */
export interface MetricSource {
  /** MetricType, e.g. `Throughput`. */
  type: string;
  aggregate: "Total" | "Average";
  /** Read once per interval. */
  value: () => number;
  threshold?: { Warn: number; Error: number };
}

/** A source whose value is how much a count grew since the last report. */
export function counterRate(
  type: string,
  count: Counter | (() => number),
  aggregate: "Total" | "Average" = "Total",
): MetricSource {
  const read = typeof count === "function" ? count : () => count.value;
  let last = read();
  return {
    type,
    aggregate,
    value: () => {
      const now = read();
      const v = now - last;
      last = now;
      return v;
    },
  };
}

/** Options of a {@link StatsReporter}. */
export interface ReporterOptions {
  /** The `Sender` of every event, e.g. `tcp-receiver`. */
  sender: string;
  sources: MetricSource[];
  subject?: string;
  intervalMs?: number;
}

/** The host name events carry as `SourceIP`. */
export function sourceHost(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/** Publishes every source as a MetricEvent once per interval. */
export class StatsReporter {
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #encoder = new TextEncoder();
  readonly #host = sourceHost();

  constructor(readonly nc: NatsConnection, readonly options: ReporterOptions) {
    this.#timer = setInterval(() => this.report(), options.intervalMs ?? 1000);
  }

  /** The events of one report (also used by tests). */
  events(now = Date.now()): MetricEvent[] {
    const ts = Math.floor(now / 1000);
    return this.options.sources.map((s) => {
      const e: MetricEvent = {
        Timestamp: ts,
        Value: s.value(),
        Sender: this.options.sender,
        SourceIP: this.#host,
        MetricType: s.type,
        Aggregate: s.aggregate,
      };
      if (s.threshold) e.Threshold = s.threshold;
      return e;
    });
  }

  /** Publishes one report now. */
  report(): void {
    if (this.nc.isClosed()) return;
    const subject = this.options.subject ?? STATS_SUBJECT;
    for (const e of this.events()) {
      try {
        this.nc.publish(subject, this.#encoder.encode(JSON.stringify(e)));
      } catch {
        // stats are best effort; the broker may be reconnecting
      }
    }
  }

  /** Stops reporting. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
