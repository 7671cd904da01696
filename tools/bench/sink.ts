/**
 * The bench's local sink for the subscriber (a separate process, over the
 * shared `testing/sink.ts` with recording off): answers
 * every POST 200 as soon as the body is read, counts NDJSON lines and, with
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
import { countLines } from "../../services/net/request_body.ts";
import { Sink } from "../../testing/sink.ts";

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

/** The value at quantile `q` (0..1) of sorted numbers. */
export function quantile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Messages in a body of a SUB_FORMAT. */
export function countMessages(body: Uint8Array, format: string): number {
  if (format === "es-bulk") return countLines(body) / 2;
  if (format === "loki") {
    const push = JSON.parse(new TextDecoder().decode(body)) as {
      streams: { values: unknown[] }[];
    };
    return push.streams.reduce((n, s) => n + s.values.length, 0);
  }
  return countLines(body);
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
  // Counting lines needs no body in memory; latencies and Loki's JSON do.
  const countOnly = !values.latency && format !== "loki";
  const sink = Sink.start(
    (req) => {
      if (req.method === "GET") {
        if (samples > 0) {
          const sorted = latencies.slice(0, samples).sort();
          stats.p50Ms = quantile(sorted, 0.5);
          stats.p99Ms = quantile(sorted, 0.99);
          stats.maxMs = sorted[samples - 1];
        }
        stats.samples = samples;
        return Response.json(stats);
      }
      const body = req.bytes;
      const now = Date.now();
      const lines = countOnly
        ? (format === "es-bulk" ? req.lineCount / 2 : req.lineCount)
        : countMessages(body, format);
      if (stats.batches === 0) {
        stats.firstAt = now;
        stats.firstBatch = lines;
      }
      stats.batches++;
      stats.count += lines;
      stats.lastAt = now;
      if (values.latency) {
        const text = decoder.decode(body);
        let at = 0;
        while ((at = text.indexOf(TS_KEY, at)) >= 0) {
          at += TS_KEY.length;
          const sent = Date.parse(text.slice(at, text.indexOf('"', at)));
          if (Number.isNaN(sent)) continue;
          if (samples === latencies.length) {
            const bigger = new Float64Array(samples * 2);
            bigger.set(latencies);
            latencies = bigger;
          }
          latencies[samples++] = now - sent;
        }
      }
      if (format === "es-bulk") {
        return new Response(bulkAnswer(lines), {
          headers: { "content-type": "application/json" },
        });
      }
      return new Response(null, { status: format === "loki" ? 204 : 200 });
    },
    Number(values.port),
    {
      record: false,
      countOnly,
      onListen: () => console.log(JSON.stringify({ event: "listening" })),
    },
  );
  Deno.addSignalListener("SIGTERM", () => {
    sink.close().then(() => Deno.exit(0));
  });
}
