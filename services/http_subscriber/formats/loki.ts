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
 * Each record is `<labels JSON>\t<ns>\t<length, 8 hex digits>\t<line as a
 * JSON string>`; the request builder walks them by their lengths (without
 * scanning the lines), groups and sorts them when a batch is sent.
 *
 * @module
 */
import { JsonLineWriter } from "../../heka/json.ts";
import { hashBytes, sameBytes, writeJsonString } from "../../heka/json_bytes.ts";
import {
  canonicalFieldName,
  type JsonEncoderOptions,
  type JsonFieldName,
} from "../../heka/json_options.ts";
import {
  ByteSink,
  type InPlaceRecordEncoder,
  MAX_NANOS_DIGITS,
  type OutputFormat,
  type RequestBuilder,
  writeNanos,
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
const HEX = new TextEncoder().encode("0123456789abcdef");

/** The 8 hex digits at `at` as a number. */
function hexAt(b: Uint8Array, at: number): number {
  let n = 0;
  for (let k = at; k < at + 8; k++) {
    const c = b[k];
    n = n * 16 + (c <= 0x39 ? c - 0x30 : c - 0x57);
  }
  return n;
}
const QUOTE = 0x22;
const RBRACE = 0x7d;
const NEWLINE = 10;
const textEncoder = new TextEncoder();

/** Encodes messages as Loki records (see the module documentation), in place when asked. */
export class LokiEncoder implements InPlaceRecordEncoder {
  readonly #writer: JsonLineWriter;
  readonly #labels: readonly JsonFieldName[];
  /** `"Name":` of each label, the first with `{`. */
  readonly #keys: Uint8Array[];
  /** Bytes of a record besides its labels' values and its line: keys, quotes, tabs, ns, length. */
  readonly #frameBytes: number;
  /** The record {@link encode} returns. */
  #buf = new Uint8Array(4096);
  #bufView = new DataView(this.#buf.buffer);
  /** A DataView of the writer's line buffer (a new one only when that buffer grows). */
  #lineView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  constructor(json: JsonEncoderOptions, labels: readonly string[]) {
    this.#labels = checkLokiLabels(labels);
    this.#writer = new JsonLineWriter(json);
    this.#keys = this.#labels.map((l, i) => textEncoder.encode(`${i === 0 ? "{" : ","}"${l}":`));
    const keys = this.#keys.reduce((n, k) => n + k.length, 0);
    // keys, label quotes, "}\t", ns, tab, 8 hex digits and a tab, the line's quotes
    this.#frameBytes = keys + 2 * this.#labels.length + 2 + MAX_NANOS_DIGITS + 1 + 9 + 2;
  }

  /**
   * The label values are parts of the line, and a JSON line is at most
   * doubled when quoted (only its `"` and `\` are escaped).
   */
  maxRecordBytes(messageLength: number): number {
    return this.#frameBytes + 3 * JsonLineWriter.maxLineBytes(messageLength);
  }

  encode(messageBytes: Uint8Array): Uint8Array {
    const line = this.#writer.encode(messageBytes);
    const need = this.#frameBytes + 3 * line.length;
    if (this.#buf.length < need) {
      this.#buf = new Uint8Array(need * 2);
      this.#bufView = new DataView(this.#buf.buffer);
    }
    return this.#buf.subarray(0, this.#writeRecord(line, this.#buf, this.#bufView, 0));
  }

  encodeInto(messageBytes: Uint8Array, out: Uint8Array, outView: DataView, at: number): number {
    // The line goes to the writer's own buffer first: it is quoted into `out`.
    return this.#writeRecord(this.#writer.encode(messageBytes), out, outView, at);
  }

  /** Writes the record of the message whose `line` the writer just encoded. */
  #writeRecord(line: Uint8Array, out: Uint8Array, outView: DataView, at: number): number {
    const w = this.#writer;
    let o = at;
    for (let i = 0; i < this.#labels.length; i++) {
      const key = this.#keys[i];
      for (let k = 0; k < key.length; k++) out[o++] = key[k];
      const v = w.valueOf(this.#labels[i]);
      const quoted = v[0] === QUOTE;
      if (!quoted) out[o++] = QUOTE; // Severity, Pid: label values are strings
      for (let k = 0; k < v.length; k++) out[o++] = v[k];
      if (!quoted) out[o++] = QUOTE;
    }
    out[o++] = RBRACE;
    out[o++] = TAB;
    const { seconds, nanos } = w.timestampParts();
    o = writeNanos(out, o, seconds, nanos);
    out[o++] = TAB;
    const lengthAt = o;
    o += 9; // the length and a tab, written below
    const lineAt = o;
    // The line as a JSON string, escaped from its bytes (no string between).
    out[o++] = QUOTE;
    o = writeJsonString(
      out,
      outView,
      o,
      line,
      this.#lineViewOf(line),
      line.byteOffset,
      0,
      line.length,
    );
    out[o++] = QUOTE;
    let n = o - lineAt;
    for (let k = lengthAt + 7; k >= lengthAt; k--) {
      out[k] = HEX[n & 15];
      n >>>= 4;
    }
    out[lengthAt + 8] = TAB;
    return o;
  }

  #lineViewOf(line: Uint8Array): DataView {
    if (this.#lineView.buffer !== line.buffer) this.#lineView = new DataView(line.buffer);
    return this.#lineView;
  }
}

/** One entry while a body is built. */
interface Entry {
  /** Where the record starts (its labels object runs to `nsStart - 1`). */
  start: number;
  /** The ns digits, and the quoted line. */
  nsStart: number;
  nsEnd: number;
  lineStart: number;
  end: number;
}

/** Whether the labels of `b[s1, e1)` and `b[s2, e2)` are the same bytes. */
function sameLabels(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): boolean {
  return e1 - s1 === e2 - s2 && sameBytes(b, s1, e1, b, s2);
}

/** Whether `entries` are already in `order` (they mostly are: one sender's lines in time order). */
function inOrder(entries: readonly Entry[], order: (a: Entry, b: Entry) => number): boolean {
  for (let i = 1; i < entries.length; i++) if (order(entries[i - 1], entries[i]) > 0) return false;
  return true;
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

/**
 * The records (all, or the `only` indexes, ascending) grouped by their
 * labels: each stream's entries, streams in the order they first appear.
 */
function groupByStream(records: Uint8Array, only?: readonly number[]): Entry[][] {
  const streams: Entry[][] = [];
  const byHash = new Map<number, Entry[][]>();
  let last: Entry | undefined;
  let lastList: Entry[] | undefined;
  let pick = 0;
  for (let start = 0, r = 0; start < records.length; r++) {
    const tab1 = records.indexOf(TAB, start);
    const tab2 = records.indexOf(TAB, tab1 + 1);
    const lineStart = tab2 + 10;
    const end = lineStart + hexAt(records, tab2 + 1);
    const next = end + 1; // after the newline
    if (only !== undefined) {
      if (pick >= only.length) break;
      if (only[pick] !== r) {
        start = next;
        continue;
      }
      pick++;
    }
    const entry: Entry = { start, nsStart: tab1 + 1, nsEnd: tab2, lineStart, end };
    if (last !== undefined && sameLabels(records, last.start, last.nsStart - 1, start, tab1)) {
      lastList!.push(entry); // the stream of the record before
    } else {
      // Streams by a hash of their label bytes, told apart by the bytes: no string per record.
      const h = hashBytes(records, start, tab1);
      const same = byHash.get(h);
      lastList = same?.find((l) => sameLabels(records, l[0].start, l[0].nsStart - 1, start, tab1));
      if (lastList !== undefined) lastList.push(entry);
      else {
        lastList = [entry];
        streams.push(lastList);
        if (same === undefined) byHash.set(h, [lastList]);
        else same.push(lastList);
      }
    }
    last = entry;
    start = next;
  }
  return streams;
}

/** Body buffers a builder keeps for later bodies at most (a few per poster in flight). */
const FREE_MAX = 8;

/**
 * Groups Loki records into streams, sorted by time within each. Bodies
 * given back ({@link release}) are built into again: a fresh 4 MiB body
 * per batch cost page faults on every first write (about a fifth of the
 * subscriber's CPU in the subscriber-loki bench).
 */
export class LokiRequestBuilder implements RequestBuilder {
  readonly contentType = "application/json";
  readonly linesPerRecord = 1;
  readonly #free: ArrayBuffer[] = [];
  /** The buffers of the bodies this builder built: the only ones it takes back. */
  readonly #built = new WeakSet<ArrayBufferLike>();

  release(body: Uint8Array): void {
    const buf = body.buffer;
    if (!(buf instanceof ArrayBuffer) || !this.#built.has(buf)) return;
    if (this.#free.length < FREE_MAX && !this.#free.includes(buf)) this.#free.push(buf);
  }

  /** A given-back buffer of at least `size` bytes, or a fresh one. */
  #buffer(size: number): Uint8Array {
    for (let i = this.#free.length - 1; i >= 0; i--) {
      if (this.#free[i].byteLength >= size) return new Uint8Array(this.#free.splice(i, 1)[0]);
    }
    return new Uint8Array(size);
  }

  build(records: Uint8Array, only?: readonly number[]): Uint8Array {
    const streams = groupByStream(records, only);
    const out = new ByteSink(this.#buffer(records.length + 64 + streams.length * 64));
    out.ascii('{"streams":[');
    let firstStream = true;
    const order = byTime(records);
    for (const entries of streams) {
      if (!inOrder(entries, order)) entries.sort(order);
      if (!firstStream) out.byte(0x2c);
      firstStream = false;
      out.ascii('{"stream":');
      out.range(records, entries[0].start, entries[0].nsStart - 1);
      out.ascii(',"values":[');
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        out.ascii(i === 0 ? '["' : ',["');
        out.range(records, e.nsStart, e.nsEnd);
        out.ascii('",');
        out.range(records, e.lineStart, e.end);
        out.byte(0x5d);
      }
      out.ascii("]}");
    }
    out.ascii("]}");
    out.byte(NEWLINE);
    const body = out.view(); // the buffer is this call's own until given back
    this.#built.add(body.buffer);
    return body;
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
