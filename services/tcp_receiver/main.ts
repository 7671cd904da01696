/**
 * `deno task receive-tcp`: the TCP receiver program. Configured by env vars (`--help`).
 *
 * @module
 */
import { loadConfig } from "../config/mod.ts";
import { runMain } from "../runtime/exit.ts";
import { tcpReceiverInfo, tcpReceiverSpec } from "./config.ts";
import { runTcpReceiver } from "./run.ts";

if (import.meta.main) {
  await runMain(() => runTcpReceiver(loadConfig(tcpReceiverInfo, tcpReceiverSpec)));
}
