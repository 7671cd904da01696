/**
 * `deno task generate`: the log generator — realistic Heka messages at a
 * chosen rate, over TCP (Heka framing) or HTTP, as a load source.
 * Configured by `GEN_*` env vars (`--help`); the work is {@link runLogGenerator}.
 *
 * @module
 */
import { loadConfig } from "../config/mod.ts";
import { runMain } from "../runtime/exit.ts";
import { generatorInfo, generatorSpec } from "./config.ts";
import { runLogGenerator } from "./run.ts";

if (import.meta.main) {
  await runMain(() => runLogGenerator(loadConfig(generatorInfo, generatorSpec)));
}
