/**
 * The stats proxy as a function: {@link startStatsProxy} (the in-process
 * proxy) and {@link runStatsProxy}, the program `main.ts` runs with its
 * config.
 *
 * @module
 */
import { brokerOptions } from "../broker/mod.ts";
import { describeConfig } from "../config/mod.ts";
import { Logger } from "../log/mod.ts";
import { errorMessage } from "../runtime/async.ts";
import { ExitError } from "../runtime/exit.ts";
import { announceReady, hostPort } from "../runtime/ready.ts";
import { onShutdown } from "../runtime/shutdown.ts";
import { BearerAuth } from "../net/bearer_auth.ts";
import { readTlsFiles, watchTlsFiles } from "../net/tls_files.ts";
import { loadDashboard } from "./assets.ts";
import { type ProxyConfig, proxySpec } from "./config.ts";
import { StatsProxy } from "./server.ts";

/** A stats proxy started by {@link startStatsProxy}. */
export interface RunningStatsProxy {
  proxy: StatsProxy;
  /** Stops the proxy (clients closed, NATS closed, server shut down). */
  stop: () => Promise<void>;
}

/**
 * Starts the proxy in-process from its parsed config, serving the bundled
 * dashboard (`deno task bundle`). Listens at once; connects to NATS in the
 * background.
 */
export async function startStatsProxy(cfg: ProxyConfig, log: Logger): Promise<RunningStatsProxy> {
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

/**
 * Runs the stats proxy with `cfg` until SIGTERM/SIGINT, printing the
 * readiness line once it listens. Throws an {@link ExitError} when it
 * cannot start (the port is taken, a bad TLS file).
 */
export async function runStatsProxy(cfg: ProxyConfig): Promise<void> {
  const log = new Logger("stats_proxy", cfg.loggingLevel);
  log.info("starting", describeConfig(proxySpec, Deno.env.toObject()));
  let running: RunningStatsProxy;
  try {
    running = await startStatsProxy(cfg, log);
  } catch (err) {
    const msg = err instanceof Deno.errors.AddrInUse
      ? `port ${cfg.httpPort} on ${cfg.bindAddress} is in use (set PROXY_HTTP_PORT)`
      : errorMessage(err);
    throw new ExitError(`stats_proxy: ${msg}`, 1);
  }
  onShutdown(log, running.stop);
  announceReady("stats_proxy", {
    listen: hostPort(running.proxy.addr),
    dashboard: `${running.proxy.url}/`,
  });
}
