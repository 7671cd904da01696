/**
 * The HTTP subscriber (`deno task subscribe`): JetStream → NDJSON batches →
 * parallel POSTs, acked only after a 2xx, dead letters for what the remote
 * keeps rejecting.
 *
 * The stages: consumer_lifecycle.ts (open, recover, watchdog over
 * consumer.ts) → intake.ts (delivery → records → batcher.ts) → poster.ts →
 * settlement.ts (acks, keep-alive, dead_letter.ts); subscriber_metrics.ts
 * counts; subscriber.ts wires them; run.ts is the program.
 *
 * @example
 * ```ts
 * const settings = resolveSettings(parseEnv(SUBSCRIBER_SPEC, Deno.env.toObject()));
 * const sub = await startSubscriber(settings, new Logger("http_subscriber"));
 * // … later
 * await sub.stop();
 * ```
 *
 * @module
 */
export * from "./batcher.ts";
export * from "./config.ts";
export * from "./consumer.ts";
export * from "./consumer_lifecycle.ts";
export * from "./dead_letter.ts";
export * from "./formats/mod.ts";
export * from "./intake.ts";
export * from "./poster.ts";
export * from "./run.ts";
export * from "./settlement.ts";
export * from "./subscriber.ts";
export * from "./subscriber_metrics.ts";
