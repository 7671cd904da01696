/**
 * The counters both receivers keep, and the MetricEvents they report.
 *
 * @module
 */
import type { JetStreamPublisher, StreamStats } from "../broker/mod.ts";
import type { MessageSink } from "./sink.ts";
import {
  type Counter,
  counterRate,
  type MetricSource,
  MetricsRegistry,
  MetricTypes,
} from "../metrics/mod.ts";

/** Counters of a receiver. Hot paths increment `.value` directly. */
export class ReceiverMetrics {
  readonly registry: MetricsRegistry;
  /** Messages read off the wire (valid or not). */
  readonly received: Counter;
  /** Messages handed to the store. */
  readonly accepted: Counter;
  readonly invalid: Counter;
  readonly filtered: Counter;
  /** Refused: bad or missing signature, or too large. */
  readonly refused: Counter;
  /** Answers "broker unavailable" (HTTP 503). */
  readonly unavailable: Counter;
  /** Refused because the NATS server cannot store a message that large (also in `refused`). */
  readonly tooLarge: Counter;

  /**
   * @param sink what counts stored log messages; without one, the
   * publisher's acks (one per log message).
   */
  constructor(
    program: string,
    readonly publisher: JetStreamPublisher,
    readonly sink?: MessageSink,
  ) {
    const r = new MetricsRegistry(`lagermeister_${program}`);
    this.registry = r;
    this.received = r.counter("received", "messages read from clients");
    this.accepted = r.counter("accepted", "valid, matching messages handed to JetStream");
    this.invalid = r.counter("invalid", "undecodable or incomplete messages and frames");
    this.filtered = r.counter("filtered", "messages not matching the match spec");
    this.refused = r.counter("refused", "messages refused: signature or size");
    this.unavailable = r.counter("unavailable", "requests answered 503: broker unavailable");
    this.tooLarge = r.counter(
      "too_large",
      "messages refused: larger than the NATS server's max_payload allows",
    );
    const s = publisher.stats;
    r.gauge("stored_total", "log messages acknowledged by JetStream", () => this.storedMessages);
    r.gauge("publishes_acked_total", "JetStream messages (chunks) acknowledged", () => s.acked);
    r.gauge("duplicates_total", "acks saying the message was already stored", () => s.duplicates);
    r.gauge("resent_total", "publishes sent again", () => s.resent);
    r.gauge(
      "rejected_total",
      "publishes the server refused for good (never stored, never resent)",
      () => s.rejected,
    );
    r.gauge("inflight", "publishes awaiting a JetStream ack", () => publisher.inflight);
    r.gauge(
      "broker_available",
      "1 while JetStream accepts publishes",
      () => publisher.available ? 1 : 0,
    );
  }

  /**
   * The MetricEvents of a receiver: Throughput (stored/s), problem counts
   * per second, and the stream's size.
   */
  sources(stream: StreamStats, extra: MetricSource[] = []): MetricSource[] {
    return [
      { type: MetricTypes.StreamMessages, aggregate: "Total", value: () => stream.messages },
      { type: MetricTypes.StreamBytes, aggregate: "Total", value: () => stream.bytes },
      counterRate(MetricTypes.Throughput, () => this.storedMessages),
      counterRate(MetricTypes.Invalid, this.invalid),
      counterRate(MetricTypes.Refused, this.refused),
      counterRate(MetricTypes.Filtered, this.filtered),
      ...extra,
    ];
  }

  /** The largest message the server stores now (in a chunk of its own when packing). */
  maxMessageBytes(): number {
    return this.sink?.maxMessageBytes() ?? this.publisher.maxDataBytes();
  }

  /** Log messages acknowledged by JetStream (not chunks). */
  get storedMessages(): number {
    return this.sink ? this.sink.stored : this.publisher.stats.acked;
  }

  /**
   * Health as JSON: ok while the broker is available; the largest message
   * the server stores now, and the last publish it refused for good.
   */
  health(): { ok: boolean } & Record<string, unknown> {
    const rejection = this.publisher.lastRejection;
    const trouble = this.publisher.trouble;
    return {
      ok: this.publisher.available,
      ...(trouble ? { trouble } : {}),
      maxMessageBytes: this.maxMessageBytes(),
      ...(rejection
        ? { lastRejection: { reason: rejection.reason, at: new Date(rejection.at).toISOString() } }
        : {}),
      ...this.registry.snapshot(),
    };
  }

  /**
   * Whether a message of `bytes` is too large for the NATS server; counts it
   * (refused, too large) if so. Checked before a message counts as accepted.
   */
  refuseTooLarge(bytes: number): boolean {
    if (bytes <= this.maxMessageBytes()) return false;
    this.refused.value++;
    this.tooLarge.value++;
    return true;
  }
}
