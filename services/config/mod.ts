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
export * from "./config.ts";
export * from "./env_var.ts";
export * from "./values.ts";
export * from "./redact.ts";
