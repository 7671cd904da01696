/**
 * Process plumbing every program shares: small async helpers (sleep,
 * withTimeout, backoff, errorMessage), exiting from mains only, the
 * readiness line, ordered shutdown on signals, and which nats-server to
 * launch.
 *
 * @module
 */
export { backoff, errorMessage, sleep, withTimeout } from "./async.ts";
export { configExit, ExitError, runMain } from "./exit.ts";
export {
  compareVersions,
  findNatsServer,
  type NatsServerBin,
  natsServerVersion,
  requireNatsServer,
} from "./nats_server_bin.ts";
export { announceReady, findReadyLine, hostPort, type ReadyLine } from "./ready.ts";
export { onShutdown } from "./shutdown.ts";
