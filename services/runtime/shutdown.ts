/**
 * Graceful shutdown on SIGTERM/SIGINT: every program stops accepting,
 * flushes in-flight work and exits.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { errorMessage } from "./async.ts";

/** A repeat of a signal within this is taken as the same one (`deno task` forwards signals). */
const REPEAT_WINDOW_MS = 2000;

/**
 * Calls `stop` once on the first SIGTERM or SIGINT, then exits with its
 * code (0 by default). A signal again after {@link REPEAT_WINDOW_MS} exits
 * at once with 130; one sooner is taken as the same signal delivered twice
 * (`deno task` and the terminal both deliver Ctrl-C).
 */
export function onShutdown(log: Logger, stop: () => Promise<number | void>): void {
  let stoppingSince = 0;
  const handler = (signal: Deno.Signal) => () => {
    if (stoppingSince) {
      if (performance.now() - stoppingSince < REPEAT_WINDOW_MS) return;
      log.warn("second signal: exiting now", { signal });
      Deno.exit(130);
    }
    stoppingSince = performance.now();
    log.info("shutting down", { signal });
    stop().then(
      (code) => Deno.exit(code ?? 0),
      (err) => {
        log.error("shutdown failed", { error: errorMessage(err) });
        Deno.exit(1);
      },
    );
  };
  Deno.addSignalListener("SIGTERM", handler("SIGTERM"));
  Deno.addSignalListener("SIGINT", handler("SIGINT"));
}
