/**
 * Metrics for every program: counters and gauges, MetricEvents on NATS
 * once a second, and a stats HTTP endpoint.
 *
 * @module
 */
export * from "./event.ts";
export * from "./registry.ts";
export * from "./reporter.ts";
export * from "./stats_server.ts";
