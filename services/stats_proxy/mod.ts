/**
 * The stats proxy: MetricEvents from NATS to browsers over WebSocket, and
 * the dashboard. Run it with `deno task stats-proxy`, or in-process with
 * {@link runStatsProxy}.
 *
 * @example
 * ```ts
 * const running = await runStatsProxy(parseEnv(proxySpec, Deno.env.toObject()), log);
 * console.log(running.proxy.url);
 * await running.stop();
 * ```
 *
 * @module
 */
export {
  type Asset,
  buildDashboard,
  type BuildOutcome,
  bundleIsFresh,
  DASHBOARD_DIR,
  type DashboardAssets,
  type DashboardBuildOptions,
  loadDashboard,
  readDashboard,
} from "./assets.ts";
export { type ClientInfo, type ClientLimits, WsClient } from "./client.ts";
export { type ProxyConfig, proxyInfo, proxySpec } from "./config.ts";
export { MetricCatalog, type MetricCatalogJson, Ring } from "./history.ts";
export { isCrossOrigin, normalizeOrigin, originAllowed } from "./origin.ts";
export {
  type NatsState,
  type ProxyHealth,
  StatsProxy,
  type StatsProxyOptions,
  WS_PROTOCOL,
  WS_TOKEN_PREFIX,
} from "./server.ts";
export { type RunningStatsProxy, runStatsProxy } from "./run.ts";
