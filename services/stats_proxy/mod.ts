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
export * from "./assets.ts";
export * from "./client.ts";
export * from "./config.ts";
export * from "./history.ts";
export * from "./origin.ts";
export * from "./run.ts";
export * from "./server.ts";
