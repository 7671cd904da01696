/**
 * The stats proxy: MetricEvents from NATS to browsers over WebSocket, and
 * the dashboard. Run it with `deno task stats-proxy` ({@link runStatsProxy}),
 * or in-process with {@link startStatsProxy}.
 *
 * @example
 * ```ts
 * const running = await startStatsProxy(parseEnv(proxySpec, Deno.env.toObject()), log);
 * console.log(running.proxy.url);
 * await running.stop();
 * ```
 *
 * @module
 */
export {
  type Asset,
  DASHBOARD_DIR,
  DASHBOARD_OUTPUTS,
  type DashboardAssets,
  loadDashboard,
  readDashboard,
} from "./assets.ts";
export { type ClientInfo, type ClientLimits, WsClient } from "./client.ts";
export { type ProxyConfig, proxyInfo, proxySpec } from "./config.ts";
export { MetricCatalog, type MetricCatalogJson, Ring } from "./history.ts";
export { isCrossOrigin, normalizeOrigin, originAllowed } from "./origin.ts";
export { type NatsState, type ProxyHealth, StatsProxy, type StatsProxyOptions } from "./server.ts";
export { WS_PROTOCOL, WS_TOKEN_PREFIX } from "./socket_token.ts";
export { type RunningStatsProxy, runStatsProxy, startStatsProxy } from "./run.ts";
