/**
 * `SUB_FORMAT=loki`: the Grafana Loki push API (`POST /loki/api/v1/push`,
 * JSON):
 *
 * ```json
 * {"streams":[{"stream":{"Type":"nginx","Logger":"web","Hostname":"h1"},
 *   "values":[["1700000000000000000","{\"Uuid\":…}"], …]}, …]}
 * ```
 *
 * Messages are grouped into streams by the labels of `SUB_LOKI_LABELS`
 * (message fields; every distinct combination is a Loki stream, so keep
 * their values few), each value is `[<Timestamp in ns, as a string>, <the
 * NDJSON line>]`, and the values of each stream are sorted by time (Loki
 * refuses out-of-order entries within a stream).
 *
 * Each record is `<labels JSON>\t<ns>\t<line as a JSON string>`; the
 * request builder groups and sorts them when a batch is sent.
 *
 * @module
 */
import {
  canonicalFieldName,
  type JsonEncoderOptions,
  type JsonFieldName,
  JsonLineWriter,
} from "../../heka/json.ts";
import {
  appendNanos,
  ByteSink,
  type OutputFormat,
  type RecordEncoder,
  recordRanges,
  type RequestBuilder,
} from "./format.ts";

/** `SUB_LOKI_LABELS` when unset. */
export const DEFAULT_LOKI_LABELS = "Type,Logger,Hostname";

/** Message fields that may be labels (the others are unique per message). */
export const LOKI_LABEL_FIELDS: readonly JsonFieldName[] = [
  "Type",
  "Logger",
  "Hostname",
  "Severity",
  "EnvVersion",
  "Pid",
];

/**
 * The canonical label fields for a list of names; throws RangeError naming
 * the valid ones for anything else.
 */
export function checkLokiLabels(names: readonly string[]): JsonFieldName[] {
  if (names.length === 0) {
    throw new RangeError(`no labels; choose from ${LOKI_LABEL_FIELDS.join(", ")}`);
  }
  const out: JsonFieldName[] = [];
  for (const name of names) {
    const f = canonicalFieldName(name);
    if (f === undefined || !LOKI_LABEL_FIELDS.includes(f)) {
      throw new RangeError(
        `${JSON.stringify(name)} is not a message field usable as a label; choose from ${
          LOKI_LABEL_FIELDS.join(", ")
        }`,
      );
    }
    if (!out.includes(f)) out.push(f);
  }
  return out;
}

const TAB = 9;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 10;
const textEncoder = new TextEncoder();
/** A map key for label bytes: one char per byte (distinct bytes, distinct keys). */
function bytesKey(b: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
}

/** Copies `src[from, to)` to `out` at `o`; returns the end. Short runs byte by byte (no subarray). */
function copyRun(out: Uint8Array, o: number, src: Uint8Array, from: number, to: number): number {
  if (to - from > 64) {
    out.set(src.subarray(from, to), o);
    return o + to - from;
  }
  for (let i = from; i < to; i++) out[o++] = src[i];
  return o;
}

/** Encodes messages as Loki records (see the module documentation). */
export class LokiEncoder implements RecordEncoder {
  readonly #writer: JsonLineWriter;
  readonly #labels: readonly JsonFieldName[];
  /** `"Name":` of each label, the first with `{`. */
  readonly #keys: Uint8Array[];
  readonly #out = new ByteSink();

  constructor(json: JsonEncoderOptions, labels: readonly string[]) {
    this.#labels = checkLokiLabels(labels);
    this.#writer = new JsonLineWriter(json);
    this.#keys = this.#labels.map((l, i) => textEncoder.encode(`${i === 0 ? "{" : ","}"${l}":`));
  }

  encode(messageBytes: Uint8Array): Uint8Array {
    const w = this.#writer;
    const line = w.encode(messageBytes);
    const out = this.#out;
    out.length = 0;
    // The line, quoted: at most one escape per byte.
    out.reserve(line.length * 2 + 256);
    for (let i = 0; i < this.#labels.length; i++) {
      out.bytes(this.#keys[i]);
      const v = w.valueOf(this.#labels[i]);
      const quoted = v[0] === QUOTE;
      if (!quoted) out.byte(QUOTE); // Severity, Pid: label values are strings
      out.bytes(v);
      if (!quoted) out.byte(QUOTE);
    }
    out.ascii("}\t");
    const { seconds, nanos } = w.timestampParts();
    appendNanos(out, seconds, nanos);
    out.byte(TAB);
    out.reserve(line.length * 2 + 2);
    const buf = out.buf;
    let o = out.length;
    buf[o++] = QUOTE;
    // The line is JSON (no control characters): quoting it escapes only " and \.
    // Copy the runs between them whole.
    let from = 0;
    let quote = line.indexOf(QUOTE);
    let backslash = line.indexOf(BACKSLASH);
    while (quote >= 0 || backslash >= 0) {
      const at = backslash < 0 || (quote >= 0 && quote < backslash) ? quote : backslash;
      o = copyRun(buf, o, line, from, at);
      buf[o++] = BACKSLASH;
      buf[o++] = line[at];
      from = at + 1;
      if (at === quote) quote = line.indexOf(QUOTE, from);
      else backslash = line.indexOf(BACKSLASH, from);
    }
    o = copyRun(buf, o, line, from, line.length);
    buf[o++] = QUOTE;
    out.length = o;
    return out.view();
  }
}

/** One entry while a body is built. */
interface Entry {
  /** Where the record starts (its labels object runs to `nsStart - 1`). */
  start: number;
  /** `["ns","line"]` is `record[nsStart - 2 … end]`, re-framed. */
  nsStart: number;
  nsEnd: number;
  end: number;
}

/** Orders entries of `records` by their ns digits: by length, then digit by digit. */
function byTime(records: Uint8Array): (a: Entry, b: Entry) => number {
  return (a, b) => {
    const la = a.nsEnd - a.nsStart;
    const lb = b.nsEnd - b.nsStart;
    if (la !== lb) return la - lb;
    for (let i = 0; i < la; i++) {
      const d = records[a.nsStart + i] - records[b.nsStart + i];
      if (d !== 0) return d;
    }
    return 0;
  };
}

/** Groups Loki records into streams, sorted by time within each. */
export class LokiRequestBuilder implements RequestBuilder {
  readonly contentType = "application/json";
  readonly linesPerRecord = 1;

  build(records: Uint8Array, only?: readonly number[]): Uint8Array {
    const ranges = recordRanges(records, 1);
    const streams = new Map<string, Entry[]>();
    const count = only?.length ?? ranges.length / 2;
    for (let k = 0; k < count; k++) {
      const r = only === undefined ? k : only[k];
      const start = ranges[r * 2];
      const end = ranges[r * 2 + 1] - 1; // without the newline
      const tab1 = records.indexOf(TAB, start);
      const tab2 = records.indexOf(TAB, tab1 + 1);
      const labels = bytesKey(records, start, tab1);
      const entry: Entry = {
        start,
        nsStart: tab1 + 1,
        nsEnd: tab2,
        end,
      };
      const list = streams.get(labels);
      if (list === undefined) streams.set(labels, [entry]);
      else list.push(entry);
    }
    const out = new ByteSink(records.length + 64 + streams.size * 64);
    out.ascii('{"streams":[');
    let firstStream = true;
    const order = byTime(records);
    for (const entries of streams.values()) {
      entries.sort(order);
      if (!firstStream) out.byte(0x2c);
      firstStream = false;
      out.ascii('{"stream":');
      out.bytes(records.subarray(entries[0].start, entries[0].nsStart - 1));
      out.ascii(',"values":[');
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        out.ascii(i === 0 ? '["' : ',["');
        out.bytes(records.subarray(e.nsStart, e.nsEnd));
        out.ascii('",');
        out.bytes(records.subarray(e.nsEnd + 1, e.end));
        out.byte(0x5d);
      }
      out.ascii("]}");
    }
    out.ascii("]}");
    out.byte(NEWLINE);
    return out.view(); // the buffer is this call's own
  }
}

/** The Loki format. */
export function lokiFormat(json: JsonEncoderOptions, labels: readonly string[]): OutputFormat {
  return {
    name: "loki",
    encoder: new LokiEncoder(json, labels),
    request: new LokiRequestBuilder(),
  };
}
