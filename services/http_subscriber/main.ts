/**
 * `deno task subscribe`: the HTTP subscriber as a program. Configured by
 * `SUB_*` env vars (see `--help`).
 *
 * @module
 */
import { loadConfig } from "../config/mod.ts";
import { runMain } from "../runtime/exit.ts";
import { subscriberInfo, subscriberSpec } from "./config.ts";
import { runSubscriber } from "./run.ts";

if (import.meta.main) {
  await runMain(() => runSubscriber(loadConfig(subscriberInfo, subscriberSpec)));
}
