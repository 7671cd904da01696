/**
 * `deno task heka-cat [--match SPEC] [--format json|text] [--max-size N] FILE...`
 *
 * Reads Heka-framed stream files (`-` = stdin) and prints the messages that
 * match. `--format json` prints one JSON object per line in the
 * subscriber's shape. Counts of skipped and invalid records go to stderr.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { decodeMessage, HekaDecodeError } from "../heka/codec.ts";
import { DEFAULT_MAX_MESSAGE_SIZE, FrameSplitter } from "../heka/framing.ts";
import { JsonLineWriter } from "../heka/json.ts";
import { compileMatcher, MatcherSyntaxError, type MessageMatcher } from "../heka/matcher/mod.ts";
import { formatText } from "./text_format.ts";

const USAGE = `heka-cat — prints the messages of Heka-framed stream files

Usage: deno task heka-cat [--match SPEC] [--format json|text] [--max-size N] FILE...

  --match SPEC     only messages matching this Heka message matcher spec
  --format FORMAT  text (default, readable) or json (one JSON object per line,
                   the subscriber's shape, every default field)
  --max-size N     largest message in bytes (default ${DEFAULT_MAX_MESSAGE_SIZE})
  FILE             a Heka stream file; - reads standard input

Counts of printed, skipped and invalid records go to standard error.`;

function fail(message: string): never {
  console.error(`heka-cat: ${message}`);
  Deno.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      match: { type: "string" },
      format: { type: "string", default: "text" },
      "max-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (err) {
  fail(`${(err as Error).message}\n\n${USAGE}`);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
if (values.format !== "json" && values.format !== "text") {
  fail(`--format must be json or text, got ${JSON.stringify(values.format)}`);
}
let maxSize = DEFAULT_MAX_MESSAGE_SIZE;
if (values["max-size"] !== undefined) {
  maxSize = Number(values["max-size"]);
  if (!Number.isSafeInteger(maxSize) || maxSize < 1) {
    fail(`--max-size must be a positive integer, got ${JSON.stringify(values["max-size"])}`);
  }
}
let matcher: MessageMatcher | undefined;
if (values.match !== undefined) {
  try {
    matcher = compileMatcher(values.match);
  } catch (err) {
    if (err instanceof MatcherSyntaxError) fail(`bad --match spec: ${err.message}`);
    throw err;
  }
}
if (positionals.length === 0) fail(`no input file (use - for standard input)\n\n${USAGE}`);

const json = values.format === "json" ? new JsonLineWriter() : undefined;
const encoder = new TextEncoder();
const counts = {
  printed: 0,
  filtered: 0,
  undecodable: 0,
  garbageBytes: 0,
  invalidHeaders: 0,
  oversized: 0,
};
/** Output waiting to be written: `pending[0, pendingBytes)`. */
let pending = new Uint8Array(1 << 17);
let pendingBytes = 0;

/** Appends a line (and its newline) to the pending output. */
function append(line: Uint8Array): void {
  const need = pendingBytes + line.length + 1;
  if (need > pending.length) {
    const grown = new Uint8Array(Math.max(need, pending.length * 2));
    grown.set(pending.subarray(0, pendingBytes));
    pending = grown;
  }
  pending.set(line, pendingBytes);
  pending[need - 1] = 0x0a;
  pendingBytes = need;
}

async function flush(): Promise<void> {
  let written = 0;
  while (written < pendingBytes) {
    written += await Deno.stdout.write(pending.subarray(written, pendingBytes));
  }
  pendingBytes = 0;
}

for (const name of positionals) {
  let file: Deno.FsFile | undefined;
  let readable: ReadableStream<Uint8Array>;
  if (name === "-") readable = Deno.stdin.readable;
  else {
    try {
      file = await Deno.open(name);
    } catch (err) {
      fail(`cannot open ${name}: ${(err as Error).message}`);
    }
    readable = file.readable;
  }
  const splitter = new FrameSplitter({ maxMessageSize: maxSize });
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
      append(line);
      if (pendingBytes > 1 << 16) await flush();
    }
  }
  counts.garbageBytes += splitter.stats.garbageBytes;
  counts.invalidHeaders += splitter.stats.invalidHeaders;
  counts.oversized += splitter.stats.oversized;
}
await flush();
console.error(
  `heka-cat: printed=${counts.printed} filtered=${counts.filtered} undecodable=${counts.undecodable} ` +
    `invalid_headers=${counts.invalidHeaders} oversized=${counts.oversized} garbage_bytes=${counts.garbageBytes}`,
);
