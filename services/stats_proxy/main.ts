/**
 * `deno task stats-proxy`: relays MetricEvents from NATS to the dashboard.
 * Configured by `PROXY_*` env vars; `--help` prints them.
 *
 * @module
 */
import { loadConfig } from "../config/mod.ts";
import { runMain } from "../runtime/exit.ts";
import { proxyInfo, proxySpec } from "./config.ts";
import { runStatsProxy } from "./run.ts";

if (import.meta.main) {
  await runMain(() => runStatsProxy(loadConfig(proxyInfo, proxySpec)));
}
