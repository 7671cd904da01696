/**
 * `SUB_FORMAT=es-bulk`: the Elasticsearch / OpenSearch `_bulk` API. Each
 * message becomes an action line and its document:
 *
 * ```
 * {"index":{"_index":"logs-2026.11.29","_id":"9d40abfe-…"}}
 * {"Uuid":"9d40abfe-…","Timestamp":…}
 * ```
 *
 * `_id` is the message's Uuid, so a resend overwrites rather than
 * duplicates (a message without a Uuid gets no `_id`: the store makes one).
 * The index comes from `SUB_ES_INDEX`, whose `%Y %m %d %H` are taken from
 * the message's Timestamp (UTC) and `%%` is a `%`.
 *
 * Per-item results: see {@link EsBulkResponseInterpreter} (es_bulk_response.ts).
 *
 * @module
 */
import { JsonLineWriter } from "../../heka/json.ts";
import type { JsonEncoderOptions } from "../../heka/json_options.ts";
import { EsBulkResponseInterpreter } from "./es_bulk_response.ts";
import {
  ByteSink,
  ConcatenatingBuilder,
  type InPlaceRecordEncoder,
  type OutputFormat,
} from "./format.ts";

/** `SUB_ES_INDEX` when unset. */
export const DEFAULT_ES_INDEX = "lagermeister-%Y.%m.%d";

const textEncoder = new TextEncoder();

/** Why an index pattern is not usable, or undefined when it is. */
export function checkIndexPattern(pattern: string): string | undefined {
  const bad = pattern.replace(/%[YmdH%]/g, "");
  const unknown = /%./.exec(bad) ?? (bad.endsWith("%") ? ["%"] : null);
  if (unknown) return `unknown date directive ${unknown[0]} (use %Y, %m, %d, %H or %%)`;
  const sample = formatIndex(pattern, 0);
  // Elasticsearch's index name rules (docs: "Create index API", path parameters).
  if (sample === "") return "the index name is empty";
  if (sample !== sample.toLowerCase()) return "index names must be lowercase";
  if (/[\\/*?"<>| ,#:]/.test(sample)) {
    return 'index names must not contain \\ / * ? " < > | space , # :';
  }
  if (/^[-_+]/.test(sample)) return "index names must not start with -, _ or +";
  if (sample === "." || sample === "..") return "index names cannot be . or ..";
  if (textEncoder.encode(sample).length > 255) return "index names are 255 bytes at most";
  return undefined;
}

/** The index name for a time (seconds since the epoch, UTC). */
export function formatIndex(pattern: string, seconds: number): string {
  if (!pattern.includes("%")) return pattern;
  const iso = new Date(seconds * 1000).toISOString(); // YYYY-MM-DDTHH:…
  return pattern.replace(
    /%([YmdH%])/g,
    (_, d: string) =>
      d === "Y"
        ? iso.slice(0, 4)
        : d === "m"
        ? iso.slice(5, 7)
        : d === "d"
        ? iso.slice(8, 10)
        : d === "H"
        ? iso.slice(11, 13)
        : "%",
  );
}

/** Encodes messages as `_bulk` index actions and documents. */
export class EsBulkEncoder implements InPlaceRecordEncoder {
  readonly #writer: JsonLineWriter;
  readonly #pattern: string;
  /** Seconds per distinct index name (the pattern's finest directive). */
  readonly #period: number;
  #cachedPeriod = Number.NaN;
  /** `{"index":{"_index":"…"` of the cached period. */
  #actionHead = new Uint8Array(0);
  readonly #out = new ByteSink();

  constructor(json: JsonEncoderOptions, indexPattern: string) {
    const why = checkIndexPattern(indexPattern);
    if (why !== undefined) throw new RangeError(`index ${JSON.stringify(indexPattern)}: ${why}`);
    this.#writer = new JsonLineWriter(json);
    this.#pattern = indexPattern;
    this.#period = indexPattern.includes("%H") ? 3600 : 86400;
  }

  encode(messageBytes: Uint8Array): Uint8Array {
    const line = this.#writer.encode(messageBytes);
    const out = this.#action();
    out.bytes(line);
    return out.view();
  }

  maxRecordBytes(messageLength: number): number {
    // The document; the action line: its keys, the index name (255 bytes at
    // most, escaped) and the _id (the Uuid's bytes in hex: 2 per byte, dashes).
    return JsonLineWriter.maxLineBytes(messageLength) + 2 * messageLength + 2048;
  }

  encodeInto(messageBytes: Uint8Array, out: Uint8Array, outView: DataView, at: number): number {
    const w = this.#writer;
    w.prepare(messageBytes);
    const action = this.#action().view();
    out.set(action, at);
    return w.writePrepared(out, outView, at + action.length);
  }

  /** The action line (with its newline) of the message the writer last saw, in #out. */
  #action(): ByteSink {
    const w = this.#writer;
    const out = this.#out;
    out.length = 0;
    out.reserve(200);
    const { seconds } = w.timestampParts();
    const period = Math.floor(seconds / this.#period);
    if (period !== this.#cachedPeriod) {
      this.#cachedPeriod = period;
      const name = formatIndex(this.#pattern, seconds);
      this.#actionHead = textEncoder.encode(`{"index":{"_index":${JSON.stringify(name)}`);
    }
    out.bytes(this.#actionHead);
    const id = w.valueOf("Uuid");
    if (id.length > 2) {
      out.ascii(',"_id":');
      out.bytes(id);
    }
    out.ascii("}}\n");
    return out;
  }
}

/** The ES bulk format. */
export function esBulkFormat(json: JsonEncoderOptions, indexPattern: string): OutputFormat {
  return {
    name: "es-bulk",
    encoder: new EsBulkEncoder(json, indexPattern),
    request: new ConcatenatingBuilder("application/x-ndjson", 2),
    response: new EsBulkResponseInterpreter(),
  };
}
