/**
 * The broker side of every program: connecting to NATS, the JetStream
 * stream, and the fast publisher.
 *
 * @module
 */
export * from "./connection.ts";
export * from "./stream.ts";
export * from "./publisher.ts";
export * from "./stream_stats.ts";
export * from "./max_payload.ts";
