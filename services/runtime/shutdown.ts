/**
 * Graceful shutdown on SIGTERM/SIGINT: every program stops accepting,
 * flushes in-flight work and exits.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";

/**
 * Calls `stop` once on the first SIGTERM or SIGINT, then exits with its
 * code (0 by default). A second signal exits at once with 130.
 */
export function onShutdown(log: Logger, stop: () => Promise<number | void>): void {
  let stopping = false;
  const handler = (signal: Deno.Signal) => () => {
    if (stopping) {
      log.warn("second signal: exiting now", { signal });
      Deno.exit(130);
    }
    stopping = true;
    log.info("shutting down", { signal });
    stop().then(
      (code) => Deno.exit(code ?? 0),
      (err) => {
        log.error("shutdown failed", { error: err instanceof Error ? err.message : String(err) });
        Deno.exit(1);
      },
    );
  };
  Deno.addSignalListener("SIGTERM", handler("SIGTERM"));
  Deno.addSignalListener("SIGINT", handler("SIGINT"));
}
