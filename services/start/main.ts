/**
 * `deno task start`: the whole pipeline on one machine, zero configuration.
 * Configured by env vars (`--help`); the work is {@link runStart}.
 *
 * @module
 */
import { loadConfig } from "../config/mod.ts";
import { runMain } from "../runtime/exit.ts";
import { startInfo, startSpec } from "./config.ts";
import { runStart } from "./run.ts";

if (import.meta.main) {
  await runMain(() => runStart(loadConfig(startInfo, startSpec)));
}
