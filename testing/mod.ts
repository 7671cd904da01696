/**
 * Test and bench infrastructure, apart from the product (nats.js's `nst`
 * is the model): real servers and processes, never mocks.
 *
 * - {@link NatsServer}, {@link startCluster}: `nats-server -js` on a free
 *   port with a temp store, stopped by its pid, restarted for chaos tests.
 * - {@link ProgramProcess}: a program as a child process, waiting for its
 *   readiness line.
 * - {@link Sink} and the log-store stand-ins ({@link EsBulkSink},
 *   {@link LokiSink}, {@link SplunkHecSink}).
 * - {@link ensureDashboardBundle}: the dashboard bundle tests serve.
 *
 * @example
 * ```ts
 * import { NatsServer, ProgramProcess } from "../testing/mod.ts";
 * const nats = await NatsServer.start();
 * const proc = ProgramProcess.start("services/tcp_receiver/main.ts", { TCPRCVR_NATS_URL: nats.url });
 * await proc.waitReady();
 * await proc.stop();
 * await nats.dispose();
 * ```
 *
 * @module
 */
export * from "./dashboard_bundle.ts";
export * from "./free_port.ts";
export * from "./nats_server.ts";
export * from "./program_process.ts";
export * from "./sink.ts";
export * from "./store_sinks.ts";
