/**
 * The HTTP subscriber (`deno task subscribe`): JetStream → NDJSON batches →
 * parallel POSTs, acked only after a 2xx, dead letters for what the remote
 * keeps rejecting.
 *
 * @example
 * ```ts
 * const settings = resolveSettings(parseEnv(subscriberSpec, Deno.env.toObject()));
 * const sub = await runSubscriber(settings, new Logger("http_subscriber"));
 * // … later
 * await sub.stop();
 * ```
 *
 * @module
 */
export * from "./batcher.ts";
export * from "./config.ts";
export * from "./consumer.ts";
export * from "./dead_letter.ts";
export * from "./formats/mod.ts";
export * from "./poster.ts";
export * from "./subscriber.ts";
