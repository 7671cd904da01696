/**
 * heka-cat as a function: {@link runHekaCat} reads Heka-framed streams and
 * writes the messages that match to standard output, one per line (text or
 * the subscriber's JSON), and a count line to standard error. `main.ts`
 * parses the command line into {@link HekaCatOptions}.
 *
 * @module
 */
import { decodeMessage, HekaDecodeError } from "../heka/codec.ts";
import { FrameSplitter } from "../heka/framing.ts";
import { JsonLineWriter } from "../heka/json.ts";
import { compileMatcher, MatcherSyntaxError, type MessageMatcher } from "../heka/matcher/mod.ts";
import { ExitError } from "../runtime/exit.ts";
import { errorMessage } from "../runtime/async.ts";
import { formatText } from "./text_format.ts";

/** What heka-cat does. */
export interface HekaCatOptions {
  /** Files to read; `-` is standard input. */
  files: string[];
  /** Only messages matching this Heka message matcher spec. */
  match?: string;
  /** `text` (readable) or `json` (the subscriber's shape). */
  format: "json" | "text";
  /** Largest message in bytes. */
  maxSize: number;
}

/** Counts heka-cat reports on standard error. */
export interface HekaCatCounts {
  printed: number;
  filtered: number;
  undecodable: number;
  garbageBytes: number;
  invalidHeaders: number;
  oversized: number;
}

/**
 * Prints the matching messages of every file and returns the counts
 * (also written to standard error). Throws an {@link ExitError} (2) for a
 * bad spec or a file that cannot be opened.
 */
export async function runHekaCat(o: HekaCatOptions): Promise<HekaCatCounts> {
  let matcher: MessageMatcher | undefined;
  if (o.match !== undefined) {
    try {
      matcher = compileMatcher(o.match);
    } catch (err) {
      if (err instanceof MatcherSyntaxError) {
        throw new ExitError(`heka-cat: bad --match spec: ${err.message}`, 2);
      }
      throw err;
    }
  }
  const json = o.format === "json" ? new JsonLineWriter() : undefined;
  const encoder = new TextEncoder();
  const counts: HekaCatCounts = {
    printed: 0,
    filtered: 0,
    undecodable: 0,
    garbageBytes: 0,
    invalidHeaders: 0,
    oversized: 0,
  };
  const out = new LineOutput();
  for (const name of o.files) {
    let readable: ReadableStream<Uint8Array>;
    if (name === "-") readable = Deno.stdin.readable;
    else {
      try {
        readable = (await Deno.open(name)).readable;
      } catch (err) {
        throw new ExitError(`heka-cat: cannot open ${name}: ${errorMessage(err)}`, 2);
      }
    }
    const splitter = new FrameSplitter({ maxMessageSize: o.maxSize });
    for await (const chunk of readable) {
      splitter.push(chunk);
      for (let f = splitter.next(); f !== null; f = splitter.next()) {
        let line: Uint8Array;
        try {
          // JSON straight from the bytes; a decoded message only for --match and text.
          if (json !== undefined && matcher === undefined) line = json.encode(f.message);
          else {
            const msg = decodeMessage(f.message);
            if (matcher && !matcher.matches(msg)) {
              counts.filtered++;
              continue;
            }
            line = json ? json.encode(f.message) : encoder.encode(formatText(msg));
          }
        } catch (err) {
          if (!(err instanceof HekaDecodeError)) throw err;
          counts.undecodable++;
          continue;
        }
        counts.printed++;
        await out.append(line);
      }
    }
    counts.garbageBytes += splitter.stats.garbageBytes;
    counts.invalidHeaders += splitter.stats.invalidHeaders;
    counts.oversized += splitter.stats.oversized;
  }
  await out.flush();
  console.error(
    `heka-cat: printed=${counts.printed} filtered=${counts.filtered} undecodable=${counts.undecodable} ` +
      `invalid_headers=${counts.invalidHeaders} oversized=${counts.oversized} garbage_bytes=${counts.garbageBytes}`,
  );
  return counts;
}

/** Lines for standard output, written in blocks of about 64 KiB. */
class LineOutput {
  #pending = new Uint8Array(1 << 17);
  #bytes = 0;

  /** Appends a line and its newline; writes out once 64 KiB wait. */
  async append(line: Uint8Array): Promise<void> {
    const need = this.#bytes + line.length + 1;
    if (need > this.#pending.length) {
      const grown = new Uint8Array(Math.max(need, this.#pending.length * 2));
      grown.set(this.#pending.subarray(0, this.#bytes));
      this.#pending = grown;
    }
    this.#pending.set(line, this.#bytes);
    this.#pending[need - 1] = 0x0a;
    this.#bytes = need;
    if (this.#bytes > 1 << 16) await this.flush();
  }

  /** Writes out what waits. */
  async flush(): Promise<void> {
    let written = 0;
    while (written < this.#bytes) {
      written += await Deno.stdout.write(this.#pending.subarray(written, this.#bytes));
    }
    this.#bytes = 0;
  }
}
