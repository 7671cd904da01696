/**
 * Parsers for env var values in the syntax of Go's envconfig, which the
 * original Lagermeister used: durations like `500ms` or `1m30s`, booleans
 * `true`/`false`/`1`/`0`, comma-separated lists.
 *
 * @module
 */

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Go duration string (`300ms`, `1.5s`, `1m30s`, `2h`, `0`) into
 * milliseconds. Returns `undefined` when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "0") return 0;
  if (s === "") return undefined;
  let i = 0;
  let sign = 1;
  if (s[0] === "-" || s[0] === "+") {
    sign = s[0] === "-" ? -1 : 1;
    i = 1;
  }
  let total = 0;
  let parts = 0;
  while (i < s.length) {
    DURATION_PART.lastIndex = i;
    const m = DURATION_PART.exec(s);
    if (!m) return undefined;
    total += parseFloat(m[1]) * DURATION_UNITS[m[2]];
    i = DURATION_PART.lastIndex;
    parts++;
  }
  return parts > 0 ? sign * total : undefined;
}

/** Formats milliseconds as a Go-style duration (`1m30s`, `500ms`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  let out = "";
  const h = Math.floor(rest / 3_600_000);
  if (h) {
    out += `${h}h`;
    rest -= h * 3_600_000;
  }
  const m = Math.floor(rest / 60_000);
  if (m) {
    out += `${m}m`;
    rest -= m * 60_000;
  }
  if (rest) out += `${rest / 1000}s`;
  return out;
}

const TRUE_WORDS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_WORDS = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Parses a boolean as Go's `strconv.ParseBool`; `undefined` when not one. */
export function parseBool(text: string): boolean | undefined {
  const s = text.trim();
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  return undefined;
}

/** Splits a comma-separated list, trimming items and dropping empty ones. */
export function parseList(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** A `host:port` bind address as Go writes it (`:35000` = all interfaces). */
export interface BindAddress {
  hostname: string;
  port: number;
}

/** Parses `:35000`, `127.0.0.1:35000`, `[::1]:35000` or a bare port. */
export function parseBindAddress(text: string): BindAddress | undefined {
  const s = text.trim();
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const hostname = m[1] ?? (m[2] || "0.0.0.0");
  return { hostname, port };
}
