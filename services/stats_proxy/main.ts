/**
 * `deno task stats-proxy`: relays MetricEvents from NATS to the dashboard.
 * Configured by `PROXY_*` env vars; `--help` prints them.
 *
 * @module
 */
import { describeConfig, loadConfig } from "../config/mod.ts";
import { errorMessage, Logger } from "../log/mod.ts";
import { announceReady, hostPort } from "../runtime/ready.ts";
import { onShutdown } from "../runtime/shutdown.ts";
import { proxyInfo, proxySpec } from "./config.ts";
import { runStatsProxy } from "./mod.ts";
import { runMain } from "../runtime/exit.ts";

if (import.meta.main) {
  await runMain(async () => {
    const cfg = loadConfig(proxyInfo, proxySpec);
    const log = new Logger("stats_proxy", cfg.loggingLevel);
    log.info("starting", describeConfig(proxySpec, Deno.env.toObject()));
    try {
      const running = await runStatsProxy(cfg, log);
      onShutdown(log, running.stop);
      announceReady("stats_proxy", {
        listen: hostPort(running.proxy.addr),
        dashboard: `${running.proxy.url}/`,
      });
    } catch (err) {
      const msg = err instanceof Deno.errors.AddrInUse
        ? `port ${cfg.httpPort} on ${cfg.bindAddress} is in use (set PROXY_HTTP_PORT)`
        : errorMessage(err);
      console.error(`stats_proxy: ${msg}`);
      Deno.exit(1);
    }
  });
}
