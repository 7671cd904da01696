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
import { brokerOptions } from "../broker/mod.ts";
import type { Logger } from "../log/mod.ts";
import { loadDashboard } from "./assets.ts";
import type { ProxyConfig } from "./config.ts";
import { StatsProxy } from "./server.ts";
import { hostPort } from "../runtime/ready.ts";
import { BearerAuth } from "../net/bearer_auth.ts";
import { readTlsFiles, watchTlsFiles } from "../net/tls_files.ts";

export * from "./assets.ts";
export * from "./client.ts";
export * from "./config.ts";
export * from "./history.ts";
export * from "./origin.ts";
export * from "./server.ts";

/** A stats proxy started by {@link runStatsProxy}. */
export interface RunningStatsProxy {
  proxy: StatsProxy;
  /** Stops the proxy (clients closed, NATS closed, server shut down). */
  stop: () => Promise<void>;
}

/**
 * Starts the proxy from its parsed config, serving the bundled dashboard
 * (`deno task bundle`). Listens at once; connects to NATS in the background.
 */
export async function runStatsProxy(cfg: ProxyConfig, log: Logger): Promise<RunningStatsProxy> {
  if ((cfg.tlsCert === "") !== (cfg.tlsKey === "")) {
    throw new Error("PROXY_TLS_CERT and PROXY_TLS_KEY must be set together (PEM files)");
  }
  const tlsFiles = cfg.tlsCert ? { certFile: cfg.tlsCert, keyFile: cfg.tlsKey } : undefined;
  const tls = tlsFiles ? readTlsFiles(tlsFiles) : undefined;
  const auth = cfg.token ? new BearerAuth(cfg.token, { log }).reloadOnSignal() : undefined;
  const assets = await loadDashboard(log);
  const proxy = await StatsProxy.start({
    hostname: cfg.bindAddress,
    port: cfg.httpPort,
    broker: brokerOptions(cfg, "stats_proxy"),
    subject: cfg.subChannel,
    history: cfg.history,
    allowedOrigins: cfg.allowedOrigins,
    clientBuffer: cfg.clientBuffer,
    clientQueue: cfg.clientQueue,
    assets,
    auth,
    tls,
    log,
  });
  const watch = tlsFiles && tls
    ? watchTlsFiles(tlsFiles, tls, { onChange: (m) => proxy.setTls(m), log })
    : undefined;
  log.info("stats proxy listening", {
    dashboard: `${proxy.url}/`,
    address: hostPort(proxy.addr),
    token: auth ? "required" : "none",
  });
  return {
    proxy,
    stop: () => {
      watch?.close();
      auth?.close();
      return proxy.stop();
    },
  };
}
