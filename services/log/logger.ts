/**
 * The structured logger: one line per event on stderr, `key=value`
 * (logfmt) by default or JSON lines with `LOG_FORMAT=json`, with a level.
 *
 * @module
 */

/** Log levels, most severe first. */
export type LogLevel = "error" | "warn" | "info" | "debug";

const LEVEL_RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** The level names accepted by `*_LOGGING_LEVEL`. */
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

/** Values a log line may carry. */
export type LogFields = Record<string, string | number | boolean | bigint | null | undefined>;

/** Where lines go (tests may capture them). */
export type LogSink = (line: string) => void;

const encoder = new TextEncoder();
const stderrSink: LogSink = (line) => {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing sensible left to do
  }
};

function logfmtValue(v: unknown): string {
  const s = String(v);
  return s === "" || /[\s="\\]/.test(s) ? JSON.stringify(s) : s;
}

/** A leveled structured logger bound to a program name and context fields. */
export class Logger {
  readonly #rank: number;
  readonly #json: boolean;

  /** @param program included as `program=` in every line */
  constructor(
    readonly program: string,
    readonly level: LogLevel = "info",
    readonly context: LogFields = {},
    readonly sink: LogSink = stderrSink,
    format: "logfmt" | "json" = Deno.env.get("LOG_FORMAT") === "json" ? "json" : "logfmt",
  ) {
    this.#rank = LEVEL_RANK[level];
    this.#json = format === "json";
  }

  /** A logger with more context fields. */
  with(fields: LogFields): Logger {
    return new Logger(
      this.program,
      this.level,
      { ...this.context, ...fields },
      this.sink,
      this.#json ? "json" : "logfmt",
    );
  }

  /** Whether lines of this level are written. */
  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] <= this.#rank;
  }

  error(msg: string, fields?: LogFields): void {
    this.#write("error", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#write("warn", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#write("info", msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.#write("debug", msg, fields);
  }

  #write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LEVEL_RANK[level] > this.#rank) return;
    const all: Record<string, unknown> = {
      ts: new Date().toISOString(),
      level,
      program: this.program,
      msg,
      ...this.context,
      ...fields,
    };
    if (this.#json) {
      this.sink(JSON.stringify(all, (_k, v) => typeof v === "bigint" ? v.toString() : v));
      return;
    }
    let line = "";
    for (const [k, v] of Object.entries(all)) {
      if (v === undefined) continue;
      line += (line ? " " : "") + k + "=" + logfmtValue(v);
    }
    this.sink(line);
  }
}
