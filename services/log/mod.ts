/**
 * Structured logging: one line per event on stderr, `key=value` (logfmt)
 * by default or JSON lines with `LOG_FORMAT=json`, with a level.
 *
 * ```ts
 * const log = new Logger("tcp_receiver", "info");
 * log.info("listening", { address: "127.0.0.1:35000" });
 * ```
 *
 * @module
 */
export { LOG_LEVELS, type LogFields, Logger, type LogLevel, type LogSink } from "./logger.ts";
/** The message of a thrown value (lives in services/runtime/async.ts). */
export { errorMessage } from "../runtime/async.ts";
