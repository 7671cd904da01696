/**
 * One configuration mechanism for every program: a spec of typed env vars
 * → parsed config object → `--help` table → printable (redacted) summary.
 *
 * @module
 */
import type { EnvVar } from "./env_var.ts";
import { configExit, ExitError } from "../runtime/exit.ts";

/** A program's env vars, by config key. */
// deno-lint-ignore no-explicit-any
export type ConfigSpec = Record<string, EnvVar<any>>;

/** The parsed config of a spec. */
export type ConfigOf<S extends ConfigSpec> = {
  readonly [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never;
};

/** What `--help` says of a program. */
export interface ProgramInfo {
  /** e.g. `tcp_receiver`. */
  name: string;
  /** The deno task that runs it, e.g. `receive-tcp`. */
  task: string;
  /** One paragraph on what it does. */
  summary: string;
  /** Extra lines printed after the table (examples, notes). */
  notes?: string[];
}

/** A bad or missing value; its message is one line meant for the operator. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses env vars by a spec. Throws {@link ConfigError} naming the variable. */
export function parseEnv<S extends ConfigSpec>(
  spec: S,
  env: Record<string, string | undefined>,
): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(spec)) {
    const raw = env[v.name];
    if (raw === undefined || raw.trim() === "") {
      if (v.required) {
        throw new ConfigError(`${v.name} is required: ${v.description}`);
      }
      out[key] = v.defaultValue;
      continue;
    }
    const r = v.schema.safeParse(raw);
    if (!r.success) {
      throw new ConfigError(
        v.redact
          ? `${v.name} must be ${v.expected} (the value is not shown: it may hold a secret)`
          : `${v.name} must be ${v.expected}, got ${JSON.stringify(raw)}`,
      );
    }
    out[key] = r.data;
  }
  return out as ConfigOf<S>;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s + " " : s + " ".repeat(n - s.length);
}

/** The env var table, in the original README's layout. */
export function helpTable(spec: ConfigSpec): string {
  const rows = [["KEY", "TYPE", "DEFAULT", "REQUIRED", "DESCRIPTION"]];
  for (const v of Object.values(spec)) {
    rows.push([
      v.name,
      v.type,
      v.defaultText === undefined ? "" : v.redact ? v.redact(v.defaultText) : v.defaultText,
      v.required ? "true" : "",
      v.description,
    ]);
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)) + 2);
  return rows.map((r) => r.slice(0, 4).map((c, i) => pad(c, widths[i])).join("") + r[4]).join("\n");
}

/** The whole `--help` text of a program. */
export function helpText(info: ProgramInfo, spec: ConfigSpec): string {
  const lines = [
    `${info.name} — ${info.summary}`,
    "",
    `Usage: deno task ${info.task} [--help]`,
    "",
    "Configured by environment variables (durations like 500ms, 10s, 1m30s;",
    "booleans true/false or 1/0; lists comma-separated):",
    "",
    helpTable(spec),
  ];
  if (info.notes?.length) lines.push("", ...info.notes);
  return lines.join("\n");
}

/** The config as printable `NAME=value` pairs, secrets redacted, unset ones left out. */
export function describeConfig(
  spec: ConfigSpec,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of Object.values(spec)) {
    const raw = env[v.name];
    const text = raw === undefined || raw === "" ? v.defaultText : raw;
    if (text === undefined || text === "") continue;
    out[v.name] = v.redact ? v.redact(text) : text;
  }
  return out;
}

/**
 * Loads a program's config from the process. Throws an {@link ExitError}
 * (for `runMain`): the `--help` text with code 0 when asked, one clear
 * line with code 2 on a bad value.
 */
export function loadConfig<S extends ConfigSpec>(
  info: ProgramInfo,
  spec: S,
  args: string[] = Deno.args,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): ConfigOf<S> {
  if (args.includes("--help") || args.includes("-h")) {
    throw new ExitError(helpText(info, spec), 0);
  }
  const unknown = args.filter((a) => a.startsWith("-"));
  if (unknown.length > 0) {
    throw configExit(
      info.name,
      `unknown option ${unknown[0]} (configure with env vars; see --help)`,
    );
  }
  try {
    return parseEnv(spec, env);
  } catch (err) {
    if (err instanceof ConfigError) throw configExit(info.name, err.message);
    throw err;
  }
}
