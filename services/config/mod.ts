/**
 * Configuration for every Lagermeister program: typed env vars (zod),
 * parsing with one-line errors, `--help` tables, redacted summaries.
 *
 * @example
 * ```ts
 * const spec = { batchSize: intVar("SUB_BATCH_SIZE", { default: 100, min: 1, description: "…" }) };
 * const cfg = loadConfig({ name: "http_subscriber", task: "subscribe", summary: "…" }, spec);
 * ```
 *
 * @module
 */
export {
  ConfigError,
  type ConfigOf,
  type ConfigSpec,
  describeConfig,
  helpTable,
  helpText,
  loadConfig,
  parseEnv,
  type ProgramInfo,
} from "./config.ts";
export {
  bindAddressVar,
  boolVar,
  durationVar,
  enumVar,
  type EnvVar,
  intVar,
  jsonRecordVar,
  listVar,
  natsUrlVar,
  optionalBindAddressVar,
  redactTokens,
  stringVar,
  type TokenSource,
  tokensVar,
  urlVar,
  type VarOptions,
} from "./env_var.ts";
export {
  type BindAddress,
  formatDuration,
  parseBindAddress,
  parseBool,
  parseDuration,
  parseList,
} from "./values.ts";
export {
  REDACTED,
  redactJsonValues,
  redactUrl,
  redactUrlList,
  urlSecretReplacements,
} from "./redact.ts";
