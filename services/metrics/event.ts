/**
 * The MetricEvent wire format on the core NATS subject `stats-events`
 * (ARCHITECTURE.md "Metrics"), shared by every reporter, the stats proxy and the
 * dashboard.
 *
 * @module
 */
import { z } from "zod";

/** The subject MetricEvents are published on by default. */
export const STATS_SUBJECT = "stats-events";

/** Warn/Error thresholds a dashboard colours a metric by. */
export const thresholdSchema = z.object({ Warn: z.number(), Error: z.number() });

/** Schema of one MetricEvent. */
export const metricEventSchema = z.object({
  /** Unix seconds. */
  Timestamp: z.number(),
  Value: z.number(),
  /** e.g. `tcp-receiver`, `http-output`. */
  Sender: z.string().min(1).max(200),
  SourceIP: z.string().max(200),
  /** e.g. `Throughput`, `Lag`, `BatchCount`, `BatchSize`. */
  MetricType: z.string().min(1).max(100),
  Aggregate: z.enum(["Total", "Average"]),
  Threshold: thresholdSchema.optional(),
});

/** One metric sample. */
export type MetricEvent = z.infer<typeof metricEventSchema>;

/**
 * The MetricTypes Lagermeister programs report. The first four are the
 * original's; the rest were added.
 */
export const MetricTypes = {
  Throughput: "Throughput",
  Lag: "Lag",
  BatchCount: "BatchCount",
  BatchSize: "BatchSize",
  Invalid: "Invalid",
  Refused: "Refused",
  Filtered: "Filtered",
  Connections: "Connections",
  Errors: "Errors",
  Retries: "Retries",
  Failures: "Failures",
  DeadLettered: "DeadLettered",
  /** Items a store failed one by one (ES bulk 429/5xx), sent again alone. */
  ItemRetries: "ItemRetries",
  /** Items a store refused one by one (ES bulk 4xx), dead-lettered. */
  ItemsRefused: "ItemsRefused",
  Pending: "Pending",
  StreamBytes: "StreamBytes",
  StreamMessages: "StreamMessages",
  /** Requests refused 401 (no or wrong bearer token), per second. */
  Unauthorized: "Unauthorized",
} as const;
