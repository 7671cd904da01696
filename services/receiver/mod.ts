/**
 * What both receivers share: config, the message gate, the store and the
 * metrics. Transport (TCP, HTTP) stays in each receiver.
 *
 * @module
 */
export * from "./config.ts";
export * from "./gate.ts";
export * from "./store.ts";
export * from "./metrics.ts";
export * from "./runtime.ts";
