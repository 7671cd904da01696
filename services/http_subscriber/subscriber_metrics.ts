/**
 * The subscriber's metrics: its counters and gauges (served on `/metrics`
 * and `/debug/vars` of the stats endpoint, with `/health`), and the
 * MetricEvents it reports to the dashboard over NATS.
 *
 * The stages count into {@link SubscriberCounters}; the gauges and the
 * health answer read the running subscriber through
 * {@link SubscriberReadings}, only when asked.
 *
 * @module
 */
import type { NatsConnection } from "nats";
import type { BindAddress } from "../config/mod.ts";
import { errorMessage, type Logger } from "../log/mod.ts";
import type { BearerAuth } from "../net/bearer_auth.ts";
import {
  type Counter,
  counterRate,
  MetricsRegistry,
  MetricTypes,
  serveStats,
  StatsReporter,
} from "../metrics/mod.ts";
import { LAG_THRESHOLD } from "../metrics/thresholds.ts";
import { hostPort } from "../runtime/ready.ts";

/** The `Sender` of the subscriber's MetricEvents (with SUB_FORMAT=ndjson). */
export const STATS_SENDER = "http-output";

/** The `Sender` of a subscriber writing `format`: `http-output`, or `http-output:<format>`. */
export function statsSender(format: string): string {
  return format === "ndjson" ? STATS_SENDER : `${STATS_SENDER}:${format}`;
}

/** The subscriber's counters. */
export interface SubscriberCounters {
  received: Counter;
  delivered: Counter;
  batches: Counter;
  failures: Counter;
  retries: Counter;
  deadLettered: Counter;
  undecodable: Counter;
  redelivered: Counter;
  abandoned: Counter;
  /** Times the watchdog found the consume stalled and re-opened it. */
  stalls: Counter;
  itemRetries: Counter;
  itemsRefused: Counter;
}

/** What the gauges and the health answer read of the running subscriber. */
export interface SubscriberReadings {
  /** Messages in the stream not yet delivered to the consumer. */
  pending(): number;
  /** Messages received and not yet acked. */
  heldMessages(): number;
  /** POSTs in flight (including backoff pauses). */
  postsActive(): number;
  /** Batches waiting for a poster. */
  postsQueued(): number;
  /** See {@link lagSeconds}. */
  lagSeconds(): number;
  /** The `/health` answer; `ok` false answers 503. */
  health(): { ok: boolean } & Record<string, unknown>;
}

/** How the subscriber reports: to the dashboard, and on its stats endpoint. */
export interface SubscriberStatsOptions {
  /** The output format's name (SUB_FORMAT). */
  format: string;
  /** Whether the store answers item by item (then item retries and refusals are reported). */
  itemized: boolean;
  /** SUB_STATS_ADDRESS; undefined serves no endpoint. */
  address: BindAddress | undefined;
  log: Logger;
}

/**
 * Seconds between `now` and the stored time of the newest delivered
 * message (`newestDeliveredNs`, 0 when none yet); 0 when caught up (nothing
 * pending, nothing held).
 */
export function lagSeconds(
  newestDeliveredNs: number,
  caughtUp: boolean,
  now: number = Date.now(),
): number {
  if (newestDeliveredNs === 0 || caughtUp) return 0;
  return Math.max(0, now / 1000 - newestDeliveredNs / 1e9);
}

/** The subscriber's registry, counters and gauges, its stats reporter and endpoint. */
export class SubscriberMetrics {
  /** Counters and gauges, served on `/metrics` and `/debug/vars`. */
  readonly registry: MetricsRegistry = new MetricsRegistry("lagermeister_http_subscriber");
  readonly counters: SubscriberCounters;
  readonly #statsAuth: BearerAuth | undefined;
  #readings: SubscriberReadings | undefined;
  #reporter: StatsReporter | undefined;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;

  /** `statsAuth`: the token check of the stats endpoint (`SUB_STATS_TOKEN`); its refusals are counted here. */
  constructor(statsAuth?: BearerAuth) {
    const m = this.registry;
    this.#statsAuth = statsAuth?.countIn(m, "stats_unauthorized");
    this.counters = {
      received: m.counter("received", "messages received from JetStream"),
      delivered: m.counter("delivered", "messages delivered (their batch got a 2xx) and acked"),
      batches: m.counter("batches", "batches delivered"),
      failures: m.counter("failures", "failed POST attempts (network, timeout, non-2xx)"),
      retries: m.counter("retries", "POST attempts retried"),
      deadLettered: m.counter("dead_lettered", "messages stored on the dead-letter subject"),
      undecodable: m.counter("undecodable", "messages that were not Heka protobuf"),
      redelivered: m.counter("redelivered", "messages JetStream delivered more than once"),
      abandoned: m.counter(
        "abandoned",
        "messages left unacked at shutdown (JetStream redelivers them)",
      ),
      stalls: m.counter(
        "stalls",
        "times messages were pending but none arrived, so the consume was re-opened",
      ),
      itemRetries: m.counter(
        "item_retries",
        "items a store failed one by one (ES bulk 429/5xx) and that were sent again alone",
      ),
      itemsRefused: m.counter(
        "items_refused",
        "items a store refused one by one (ES bulk 4xx), stored on the dead-letter subject",
      ),
    };
  }

  /** `host:port` of the stats endpoint, when it serves. */
  get statsAddress(): string | undefined {
    return this.#server ? hostPort(this.#server.addr) : undefined;
  }

  /** Registers the gauges, read from `r` on every scrape; `r` also answers `/health`. */
  readFrom(r: SubscriberReadings): void {
    this.#readings = r;
    const m = this.registry;
    m.gauge(
      "pending",
      "messages in the stream not yet delivered to the consumer",
      () => r.pending(),
    );
    m.gauge("held_messages", "messages received and not yet acked", () => r.heldMessages());
    m.gauge("posts_active", "POSTs in flight (including backoff pauses)", () => r.postsActive());
    m.gauge("posts_queued", "batches waiting for a poster", () => r.postsQueued());
    m.gauge(
      "lag_seconds",
      "seconds since the newest delivered message was stored",
      () => r.lagSeconds(),
    );
  }

  /**
   * Starts reporting MetricEvents over `nc` and, when `o.address` is set,
   * serves the stats endpoint (a failure to listen is logged, not thrown).
   */
  start(nc: NatsConnection, o: SubscriberStatsOptions): void {
    const r = this.#readings;
    if (r === undefined) throw new Error("SubscriberMetrics.readFrom must be called before start");
    const c = this.counters;
    let lastDelivered = c.delivered.value;
    let lastBatches = c.batches.value;
    this.#reporter = new StatsReporter(nc, {
      sender: statsSender(o.format),
      sources: [
        counterRate(MetricTypes.Throughput, c.delivered),
        counterRate(MetricTypes.BatchCount, c.batches),
        {
          type: MetricTypes.BatchSize,
          aggregate: "Average",
          value: () => {
            const msgs = c.delivered.value - lastDelivered;
            const batches = c.batches.value - lastBatches;
            lastDelivered = c.delivered.value;
            lastBatches = c.batches.value;
            return batches === 0 ? 0 : msgs / batches;
          },
        },
        {
          type: MetricTypes.Lag,
          aggregate: "Average",
          value: () => r.lagSeconds(),
          threshold: LAG_THRESHOLD,
        },
        { type: MetricTypes.Pending, aggregate: "Average", value: () => r.pending() },
        counterRate(MetricTypes.Retries, c.retries),
        counterRate(MetricTypes.Failures, c.failures),
        counterRate(MetricTypes.DeadLettered, c.deadLettered),
        ...(o.itemized
          ? [
            counterRate(MetricTypes.ItemRetries, c.itemRetries),
            counterRate(MetricTypes.ItemsRefused, c.itemsRefused),
          ]
          : []),
      ],
    });
    if (o.address === undefined) return;
    try {
      this.#server = serveStats({
        address: o.address,
        registry: this.registry,
        auth: this.#statsAuth,
        health: () => r.health(),
        onListen: (addr) =>
          o.log.info("stats endpoint listening", {
            address: `${addr.hostname}:${addr.port}`,
          }),
      });
    } catch (err) {
      o.log.warn("stats endpoint not started", { error: errorMessage(err) });
    }
  }

  /** Stops the MetricEvents (before the connection closes). */
  stopReporting(): void {
    this.#reporter?.stop();
  }

  /** Closes the stats endpoint (last: it answers while the subscriber drains). */
  async closeEndpoint(): Promise<void> {
    await this.#server?.shutdown().catch(() => {});
  }
}
