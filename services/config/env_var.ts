/**
 * Typed environment variables: each is a zod schema that parses the raw
 * string, plus what `--help` prints about it (type, default, required,
 * description) and how to redact it.
 *
 * @module
 */
import { z } from "zod";
import { parseBindAddress, parseBool, parseDuration, parseList } from "./values.ts";
import type { BindAddress } from "./values.ts";
import { REDACTED, redactJsonValues, redactUrl, redactUrlList } from "./redact.ts";

/** One environment variable of a program's configuration. */
export interface EnvVar<T> {
  /** The variable name, e.g. `SUB_BATCH_SIZE`. */
  readonly name: string;
  /** Type as printed by `--help` (as the original's envconfig table). */
  readonly type: string;
  /** What a valid value looks like, for error messages: "a positive integer". */
  readonly expected: string;
  /** The default as printed by `--help`; `undefined` when there is none. */
  readonly defaultText: string | undefined;
  /** The value used when the variable is unset or empty. */
  readonly defaultValue: T;
  readonly required: boolean;
  readonly description: string;
  /** Parses a non-empty raw value. */
  readonly schema: z.ZodType<T, string>;
  /** Present on secrets: turns a raw value into something safe to print. */
  readonly redact?: (raw: string) => string;
}

/** Options common to every variable builder. */
export interface VarOptions {
  description: string;
  required?: boolean;
  /** How to print the value; makes the variable a secret. */
  redact?: (raw: string) => string;
}

function custom<T>(parse: (raw: string) => T | undefined): z.ZodType<T, string> {
  return z.string().transform((raw, ctx) => {
    const v = parse(raw);
    if (v === undefined) {
      ctx.addIssue({ code: "custom", message: "invalid" });
      return z.NEVER;
    }
    return v;
  });
}

function make<T>(
  name: string,
  type: string,
  expected: string,
  schema: z.ZodType<T, string>,
  defaultValue: T,
  defaultText: string | undefined,
  o: VarOptions,
): EnvVar<T> {
  return {
    name,
    type,
    expected,
    schema,
    defaultValue,
    defaultText,
    required: o.required ?? false,
    description: o.description,
    redact: o.redact,
  };
}

/** A string; `""` when unset and no default. */
export function stringVar(name: string, o: VarOptions & { default?: string }): EnvVar<string> {
  return make(name, "String", "a string", z.string(), o.default ?? "", o.default, o);
}

/** A string restricted to some choices. */
export function enumVar<const T extends string>(
  name: string,
  choices: readonly T[],
  o: VarOptions & { default: T },
): EnvVar<T> {
  const set = new Set<string>(choices);
  return make(
    name,
    "String",
    `one of ${choices.join(", ")}`,
    custom((raw) => set.has(raw.trim()) ? raw.trim() as T : undefined),
    o.default,
    o.default,
    o,
  );
}

/** An integer with bounds. */
export function intVar(
  name: string,
  o: VarOptions & { default: number; min?: number; max?: number },
): EnvVar<number>;
/** An integer with bounds; `undefined` when unset. */
export function intVar(
  name: string,
  o: VarOptions & { min?: number; max?: number },
): EnvVar<number | undefined>;
export function intVar(
  name: string,
  o: VarOptions & { default?: number; min?: number; max?: number },
): EnvVar<number | undefined> {
  const min = o.min ?? Number.MIN_SAFE_INTEGER;
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  const expected = min === 1
    ? "a positive integer"
    : min === 0
    ? "a non-negative integer"
    : "an integer";
  const range = o.max !== undefined ? ` up to ${max}` : "";
  return make(
    name,
    min >= 0 ? "Unsigned Integer" : "Integer",
    expected + range,
    custom((raw) => {
      const s = raw.trim();
      if (!/^[-+]?\d+$/.test(s)) return undefined;
      const n = Number(s);
      return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
    }),
    o.default,
    o.default?.toString(),
    o,
  );
}

/** A Go-style duration, in milliseconds. */
export function durationVar(
  name: string,
  o: VarOptions & { default: string; min?: number },
): EnvVar<number>;
/** A Go-style duration in milliseconds; `undefined` when unset. */
export function durationVar(
  name: string,
  o: VarOptions & { min?: number },
): EnvVar<number | undefined>;
export function durationVar(
  name: string,
  o: VarOptions & { default?: string; min?: number },
): EnvVar<number | undefined> {
  const min = o.min ?? 0;
  return make(
    name,
    "Duration",
    min > 0
      ? "a positive duration like 500ms, 10s or 1m30s"
      : "a duration like 500ms, 10s or 1m30s",
    custom((raw) => {
      const v = parseDuration(raw);
      return v !== undefined && v >= min && (min === 0 || v > 0) ? v : undefined;
    }),
    o.default === undefined ? undefined : parseDuration(o.default),
    o.default,
    o,
  );
}

/** A boolean (`true`/`false`/`1`/`0`, as Go's strconv.ParseBool). */
export function boolVar(name: string, o: VarOptions & { default?: boolean }): EnvVar<boolean> {
  return make(
    name,
    "True or False",
    "true or false",
    custom(parseBool),
    o.default ?? false,
    o.default?.toString(),
    o,
  );
}

/** A comma-separated list. */
export function listVar(name: string, o: VarOptions & { default?: string }): EnvVar<string[]> {
  return make(
    name,
    "List",
    "a comma-separated list",
    custom(parseList),
    parseList(o.default ?? ""),
    o.default,
    o,
  );
}

/** A `host:port` bind address (`:35000` binds every interface). */
export function bindAddressVar(
  name: string,
  o: VarOptions & { default: string },
): EnvVar<BindAddress> {
  return make(
    name,
    "String",
    "an address like :35000 or 127.0.0.1:35000",
    custom(parseBindAddress),
    parseBindAddress(o.default)!,
    o.default,
    o,
  );
}

/** A bind address that `off` turns off (the feature is then disabled). */
export function optionalBindAddressVar(
  name: string,
  o: VarOptions & { default?: string },
): EnvVar<BindAddress | undefined> {
  return make<BindAddress | undefined>(
    name,
    "String",
    "an address like :34999 or 127.0.0.1:34999, or off",
    z.string().transform((raw, ctx) => {
      if (raw.trim() === "off") return undefined;
      const v = parseBindAddress(raw);
      if (v === undefined) {
        ctx.addIssue({ code: "custom", message: "invalid" });
        return z.NEVER;
      }
      return v;
    }),
    o.default ? parseBindAddress(o.default) : undefined,
    o.default,
    o,
  );
}

/** One URL; secrets in it are redacted when printed. */
export function urlVar(
  name: string,
  o: VarOptions & { default?: string; protocols?: string[] },
): EnvVar<string> {
  const protocols = o.protocols ?? ["http:", "https:"];
  return make(
    name,
    "String",
    `a URL (${protocols.map((p) => p.replace(":", "")).join(" or ")})`,
    custom((raw) => {
      try {
        const u = new URL(raw.trim());
        return protocols.includes(u.protocol) ? raw.trim() : undefined;
      } catch {
        return undefined;
      }
    }),
    o.default ?? "",
    o.default,
    { redact: redactUrl, ...o },
  );
}

/** A comma-separated list of NATS server URLs (a cluster). */
export function natsUrlVar(name: string, o: VarOptions & { default: string }): EnvVar<string[]> {
  return make(
    name,
    "String",
    "NATS URLs like nats://host:4222, comma-separated for a cluster",
    custom((raw) => {
      const urls = parseList(raw);
      if (urls.length === 0) return undefined;
      for (const u of urls) {
        if (/^[a-z]+:\/\//i.test(u)) {
          try {
            new URL(u);
          } catch {
            return undefined;
          }
        } else if (!/^[\w.-]+(:\d+)?$/.test(u)) return undefined;
      }
      return urls;
    }),
    parseList(o.default),
    o.default,
    { redact: redactUrlList, ...o },
  );
}

/** A JSON object of string values (e.g. HMAC signer keys); always a secret. */
export function jsonRecordVar(
  name: string,
  o: VarOptions & { example: string },
): EnvVar<Record<string, string>> {
  const record = z.record(z.string(), z.string());
  return make(
    name,
    "JSON",
    `a JSON object of strings like ${o.example}`,
    custom((raw) => {
      try {
        const r = record.safeParse(JSON.parse(raw));
        return r.success ? r.data : undefined;
      } catch {
        return undefined;
      }
    }),
    {},
    undefined,
    { redact: redactJsonValues, ...o },
  );
}

/** Bearer tokens: given inline, or the path of a file holding one per line. */
export interface TokenSource {
  /** Tokens given inline (empty when `file` is set). */
  tokens: string[];
  /** A file to read (and re-read on SIGHUP) instead. */
  file?: string;
}

/** Prints a token setting without its tokens: `@path` stays, inline tokens become `***`. */
export function redactTokens(raw: string): string {
  const s = raw.trim();
  return s.startsWith("@") ? s : REDACTED;
}

/**
 * Secret bearer tokens: a comma-separated list, or `@/path/file` with one
 * token per line; `undefined` when unset (no authentication).
 */
export function tokensVar(name: string, o: VarOptions): EnvVar<TokenSource | undefined> {
  return make<TokenSource | undefined>(
    name,
    "Secret",
    "a comma-separated list of tokens, or @/path/to/file with one token per line",
    custom((raw) => {
      const s = raw.trim();
      if (s.startsWith("@")) return s.length > 1 ? { tokens: [], file: s.slice(1) } : undefined;
      const tokens = parseList(s);
      return tokens.length > 0 && tokens.every((t) => !/\s/.test(t)) ? { tokens } : undefined;
    }),
    undefined,
    undefined,
    { redact: redactTokens, ...o },
  );
}
