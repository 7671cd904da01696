/**
 * The HTTP subscriber (`deno task subscribe`): JetStream → NDJSON batches →
 * parallel POSTs, acked only after a 2xx, dead letters for what the remote
 * keeps rejecting.
 *
 * The stages: consumer_lifecycle.ts (open, recover, watchdog over
 * consumer.ts) → intake.ts (delivery → records → batcher.ts) → poster.ts (over
 * post_client.ts, retry_policy.ts) →
 * settlement.ts (acks, keep-alive, dead_letter.ts); subscriber_metrics.ts
 * counts; subscriber.ts wires them; run.ts is the program.
 *
 * @example
 * ```ts
 * const settings = resolveSettings(parseEnv(subscriberSpec, Deno.env.toObject()));
 * const sub = await startSubscriber(settings, new Logger("http_subscriber"));
 * // … later
 * await sub.stop();
 * ```
 *
 * @module
 */
export { type Batch, Batcher, type BatcherOptions, type FlushReason } from "./batcher.ts";
export { type SubscriberConfig, subscriberInfo, subscriberSpec } from "./config.ts";
export {
  consumerConfig,
  ConsumerMismatchError,
  consumerName,
  type ConsumerPlan,
  deleteConsumer,
  describeStart,
  EPHEMERAL_INACTIVE_MS,
  openConsumer,
  type OpenedConsumer,
  type StartPolicy,
} from "./consumer.ts";
export {
  ConsumerLifecycle,
  type ConsumerLifecycleOptions,
  type HeldMessages,
  type MessageHandler,
  PENDING_POLL_MS,
  PULL_BATCH,
  PULL_EXPIRES_MS,
  STALL_POLLS,
} from "./consumer_lifecycle.ts";
export {
  type DeadLetter,
  type DeadLetterCause,
  DeadLetterHeaders,
  type DeadLetterOptions,
  DeadLetterPublisher,
  headerValue,
  UNDECODABLE,
} from "./dead_letter.ts";
// The formats' own face is formats/mod.ts; here what choosing one takes.
export {
  createFormat,
  FORMAT_NAMES,
  type FormatName,
  type FormatOptions,
  type OutputFormat,
} from "./formats/mod.ts";
export { Intake, type IntakeHooks, type IntakeOptions } from "./intake.ts";
export {
  type AttemptFailure,
  BatchPoster,
  type ItemHandling,
  type PosterOptions,
  type PostOutcome,
  type RefusedItems,
} from "./poster.ts";
export {
  type AttemptResult,
  type FetchFn,
  gzipBytes,
  PostClient,
  type PostClientOptions,
} from "./post_client.ts";
export { backoffDelay, isRetryableStatus } from "./retry_policy.ts";
export { runSubscriber } from "./run.ts";
export { type OpenBatchView, Settlement, type SettlementOptions } from "./settlement.ts";
export {
  defaultAckWait,
  defaultMaxAckPending,
  resolveSettings,
  type SubscriberSettings,
} from "./settings.ts";
export { startSubscriber, Subscriber, type SubscriberOptions } from "./subscriber.ts";
export {
  lagSeconds,
  STATS_SENDER,
  statsSender,
  type SubscriberCounters,
  SubscriberMetrics,
  type SubscriberReadings,
  type SubscriberStatsOptions,
} from "./subscriber_metrics.ts";
