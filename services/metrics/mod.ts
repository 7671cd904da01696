/**
 * Metrics for every program: counters and gauges, MetricEvents on NATS
 * once a second, and a stats HTTP endpoint.
 *
 * @module
 */
export {
  type MetricEvent,
  metricEventSchema,
  MetricTypes,
  STATS_SUBJECT,
  thresholdSchema,
} from "./event.ts";
export { Counter, Gauge, MetricsRegistry } from "./registry.ts";
export {
  counterRate,
  type MetricSource,
  type ReporterOptions,
  sourceHost,
  StatsReporter,
} from "./reporter.ts";
export { serveStats, statsHandler, type StatsServerOptions } from "./stats_server.ts";
