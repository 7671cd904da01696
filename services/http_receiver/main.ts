/**
 * `deno task receive-http`: the HTTP receiver program. Configured by env vars (`--help`).
 *
 * @module
 */
import { loadConfig } from "../config/mod.ts";
import { runMain } from "../runtime/exit.ts";
import { httpReceiverInfo, httpReceiverSpec } from "./config.ts";
import { runHttpReceiver } from "./run.ts";

if (import.meta.main) {
  await runMain(() => runHttpReceiver(loadConfig(httpReceiverInfo, httpReceiverSpec)));
}
