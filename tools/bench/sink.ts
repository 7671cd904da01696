/**
 * The bench's local sink for the subscriber (a separate process), over the
 * lean `line_counting_server.ts`: it keeps no body, answers every POST as
 * soon as the body is read, counts messages as the bytes pass and, with
 * `--latency`, measures each line's age from its `Timestamp` (set by the
 * generator when it sent the message).
 *
 * `deno run -A tools/bench/sink.ts --port P [--latency] [--format F]`
 *
 * `--format` (SUB_FORMAT) says how to count messages in a body: NDJSON and
 * Splunk HEC lines, ES bulk line pairs (answered with a realistic
 * `"errors":false` item list), Loki values.
 *
 * `GET /stats` answers {@link SinkStats}. Prints `{"event":"listening"}` when ready.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type CountedAnswer, serveLineCounting } from "./line_counting_server.ts";

/** What `GET /stats` answers. */
export interface SinkStats {
  /** NDJSON lines received. */
  count: number;
  /** POSTs received. */
  batches: number;
  /** Epoch ms of the first and the latest POST (0 before any). */
  firstAt: number;
  lastAt: number;
  /** Lines in the first POST. */
  firstBatch: number;
  /** Latency percentiles in ms (0 without `--latency` or samples). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Latency samples taken. */
  samples: number;
}

const TS_KEY = '"Timestamp":"';
const TS_KEY_BYTES = new TextEncoder().encode(TS_KEY);
/** One line in this many is timed. */
const LATENCY_EVERY = 8;
/** How far into a line the lean sink looks for its Timestamp. */
const TS_SEARCH = 200;

/** Where the Timestamp's value starts in `buf[from, to)`, or -1. */
function findKey(buf: Uint8Array, from: number, to: number): number {
  const k = TS_KEY_BYTES;
  for (
    let i = buf.indexOf(k[0], from);
    i >= 0 && i + k.length <= to;
    i = buf.indexOf(k[0], i + 1)
  ) {
    let j = 1;
    while (j < k.length && buf[i + j] === k[j]) j++;
    if (j === k.length) return i + k.length;
  }
  return -1;
}

/** The value at quantile `q` (0..1) of sorted numbers. */
export function quantile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const LBRACKET = 0x5b;
const QUOTE = 0x22;

/**
 * The Loki push values in a piece of a body, `before` being the byte
 * before it: each value opens with `["` (`"values":[["<ns>","<line>"],…`),
 * which no JSON string holds (its quotes are escaped) and nothing else of
 * the push body has. Counted as the bytes pass, without parsing the JSON
 * (`JSON.parse` of every 4 MiB body made the sink cost 6× the NDJSON one,
 * on the cores the subscriber it measures uses).
 */
export function countLokiValues(piece: Uint8Array, before: number): number {
  let n = before === LBRACKET && piece[0] === QUOTE ? 1 : 0;
  for (let at = piece.indexOf(LBRACKET); at >= 0; at = piece.indexOf(LBRACKET, at + 1)) {
    if (at + 1 < piece.length && piece[at + 1] === QUOTE) n++;
  }
  return n;
}

/** A `_bulk` answer of `n` created items. */
function bulkAnswer(n: number): string {
  const item =
    '{"index":{"_index":"bench","_id":"x","_version":1,"result":"created","status":201}}';
  return `{"took":1,"errors":false,"items":[${new Array(n).fill(item).join(",")}]}`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string" },
      latency: { type: "boolean", default: false },
      format: { type: "string", default: "ndjson" },
    },
  });
  const stats: SinkStats = {
    count: 0,
    batches: 0,
    firstAt: 0,
    lastAt: 0,
    firstBatch: 0,
    p50Ms: 0,
    p99Ms: 0,
    maxMs: 0,
    samples: 0,
  };
  let latencies = new Float64Array(1 << 16);
  let samples = 0;
  const decoder = new TextDecoder();
  const format = values.format ?? "ndjson";
  /** Counts a POST's `lines` messages (or answers GET /stats). */
  const respond = (method: string, lines: number): CountedAnswer => {
    if (method === "GET") {
      if (samples > 0) {
        const sorted = latencies.slice(0, samples).sort();
        stats.p50Ms = quantile(sorted, 0.5);
        stats.p99Ms = quantile(sorted, 0.99);
        stats.maxMs = sorted[samples - 1];
      }
      stats.samples = samples;
      return { status: 200, body: JSON.stringify(stats), contentType: "application/json" };
    }
    const now = Date.now();
    if (stats.batches === 0) {
      stats.firstAt = now;
      stats.firstBatch = lines;
    }
    stats.batches++;
    stats.count += lines;
    stats.lastAt = now;
    if (format === "es-bulk") {
      return { status: 200, body: bulkAnswer(lines), contentType: "application/json" };
    }
    return { status: format === "loki" ? 204 : 200 };
  };
  let lineNo = 0;
  /**
   * The age of every LATENCY_EVERY-th line from its `"Timestamp":"…"`
   * (within its first TS_SEARCH bytes): a uniform sample keeps the sink's
   * CPU, which the pipeline it measures shares, small.
   */
  const sampleLatency = (buf: Uint8Array, start: number, _end: number): void => {
    if (++lineNo % LATENCY_EVERY !== 0) return;
    const at = findKey(buf, start, start + TS_SEARCH);
    if (at < 0) return;
    const sent = Date.parse(decoder.decode(buf.subarray(at, at + 30)).split('"')[0]);
    if (Number.isNaN(sent)) return;
    if (samples === latencies.length) {
      const bigger = new Float64Array(samples * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[samples++] = Date.now() - sent;
  };
  if (values.latency && format === "loki") {
    throw new Error("--latency is measured for line formats, not loki");
  }
  const server = serveLineCounting(
    Number(values.port),
    (req) => respond(req.method, format === "es-bulk" ? req.lines / 2 : req.lines),
    values.latency ? { head: TS_SEARCH + 40, onLine: sampleLatency } : undefined,
    format === "loki" ? countLokiValues : undefined,
  );
  const close = () => Promise.resolve(server.close());
  console.log(JSON.stringify({ event: "listening" }));
  Deno.addSignalListener("SIGTERM", () => {
    close().then(() => Deno.exit(0));
  });
}
