/**
 * What every output format provides, after Vector's HTTP sink: an encoder
 * (one Heka message → one record), a request builder (records → request
 * body) and, for stores that answer per item, a response interpreter. The
 * batcher and the poster know nothing else of the format.
 *
 * Records are what the {@link Batcher} stores: UTF-8, each followed by
 * `\n` in the batch body, with a fixed number of lines per record
 * ({@link RequestBuilder.linesPerRecord}; the JSON writer never writes a raw
 * newline inside a line).
 *
 * @module
 */

/** The values of `SUB_FORMAT`. */
export const FORMAT_NAMES = ["ndjson", "es-bulk", "loki", "splunk-hec"] as const;

/** One of {@link FORMAT_NAMES}. */
export type FormatName = typeof FORMAT_NAMES[number];

/** Turns one Heka message into one record. */
export interface RecordEncoder {
  /**
   * The record of the Heka `Message` in `messageBytes`, without the final
   * newline: a view valid until the next `encode`. Throws HekaDecodeError
   * for bytes that are not a Heka message.
   */
  encode(messageBytes: Uint8Array): Uint8Array;
}

/**
 * A {@link RecordEncoder} that can also write a record straight into the
 * caller's buffer (the batch body), saving a copy per record.
 */
export interface InPlaceRecordEncoder extends RecordEncoder {
  /** Bytes {@link encodeInto} may write for a message of `messageLength` bytes. */
  maxRecordBytes(messageLength: number): number;
  /**
   * Writes the record `encode` returns into `out` from `at` (which has
   * {@link maxRecordBytes} of room; `outView` is a DataView of exactly
   * `out`) and returns where it ends. Throws like `encode`, having
   * written nothing.
   */
  encodeInto(messageBytes: Uint8Array, out: Uint8Array, outView: DataView, at: number): number;
}

/** Whether `e` writes records in place. */
export function writesInPlace(e: RecordEncoder): e is InPlaceRecordEncoder {
  const c = e as Partial<InPlaceRecordEncoder>;
  return typeof c.encodeInto === "function" && typeof c.maxRecordBytes === "function";
}

/** Builds request bodies from a batch's records. */
export interface RequestBuilder {
  /** The `Content-Type` of the bodies. */
  readonly contentType: string;
  /** Lines (`\n`-terminated) each record takes in the batch body. */
  readonly linesPerRecord: number;
  /**
   * The request body for the records in `records` (a batch body), or only
   * for the records at the indexes `only` (ascending), when some items of
   * an earlier request are retried alone.
   */
  build(records: Uint8Array, only?: readonly number[]): Uint8Array;
  /**
   * Takes back a body {@link build} returned, once nothing reads it any
   * more (its POSTs are over and written): a later body may be built into
   * it. Optional; a builder whose bodies are the records needs none.
   */
  release?(body: Uint8Array): void;
}

/** What a store said of one item of a request. */
export type ItemOutcome =
  | { kind: "ok" }
  /** Worth sending again (429, 5xx): retried alone. */
  | { kind: "retry"; status: number; reason: string }
  /** Refused for its content (other 4xx): a dead letter. */
  | { kind: "refused"; status: number; reason: string };

/** Reads the per-item results out of a store's 2xx answer. */
export interface ResponseInterpreter {
  /**
   * The outcome of each of the `count` items of a request answered with a
   * 2xx and `text`, in request order; undefined when every item succeeded.
   * Throws when the answer cannot be read (the request is then retried).
   */
  interpret(text: string, count: number): ItemOutcome[] | undefined;
}

/** One output format: encoder, request builder, optional response interpreter. */
export interface OutputFormat {
  readonly name: FormatName;
  readonly encoder: RecordEncoder;
  readonly request: RequestBuilder;
  readonly response?: ResponseInterpreter;
}

const NEWLINE = 10;

/**
 * Where each record of a batch body starts and ends (`[start, end)`,
 * including its final newline), records being `linesPerRecord` lines.
 */
export function recordRanges(body: Uint8Array, linesPerRecord: number): Int32Array {
  let lines = 0;
  for (let i = body.indexOf(NEWLINE); i >= 0; i = body.indexOf(NEWLINE, i + 1)) lines++;
  const n = Math.floor(lines / linesPerRecord);
  const out = new Int32Array(n * 2);
  let start = 0;
  let at = -1;
  for (let r = 0; r < n; r++) {
    for (let l = 0; l < linesPerRecord; l++) at = body.indexOf(NEWLINE, at + 1);
    out[r * 2] = start;
    out[r * 2 + 1] = at + 1;
    start = at + 1;
  }
  return out;
}

/** The records at the indexes `only`, concatenated (newlines kept). */
export function selectRecords(
  body: Uint8Array,
  linesPerRecord: number,
  only: readonly number[],
): Uint8Array {
  const ranges = recordRanges(body, linesPerRecord);
  let size = 0;
  for (const i of only) size += ranges[i * 2 + 1] - ranges[i * 2];
  const out = new Uint8Array(size);
  let o = 0;
  for (const i of only) {
    out.set(body.subarray(ranges[i * 2], ranges[i * 2 + 1]), o);
    o += ranges[i * 2 + 1] - ranges[i * 2];
  }
  return out;
}

/** A builder whose body is the records themselves (NDJSON, ES bulk, Splunk HEC). */
export class ConcatenatingBuilder implements RequestBuilder {
  constructor(readonly contentType: string, readonly linesPerRecord = 1) {}

  build(records: Uint8Array, only?: readonly number[]): Uint8Array {
    return only === undefined ? records : selectRecords(records, this.linesPerRecord, only);
  }
}

/** A growable byte buffer the encoders and request builders append to. */
export class ByteSink {
  buf: Uint8Array;
  length = 0;

  /** A fresh buffer of `capacity` bytes, or `buffer` to write into. */
  constructor(capacity: number | Uint8Array = 4096) {
    this.buf = typeof capacity === "number" ? new Uint8Array(capacity) : capacity;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.length + n, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  /** Appends bytes. */
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.reserve(n);
    if (n > 64) {
      this.buf.set(b, this.length);
      this.length += n;
      return;
    }
    // Short ones (keys, values) byte by byte: cheaper than set's call.
    const buf = this.buf;
    let o = this.length;
    for (let i = 0; i < n; i++) buf[o++] = b[i];
    this.length = o;
  }

  /** Appends `src[from, to)`. */
  range(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    this.reserve(n);
    const buf = this.buf;
    if (n > 64) {
      buf.set(src.subarray(from, to), this.length);
      this.length += n;
      return;
    }
    let o = this.length;
    for (let i = from; i < to; i++) buf[o++] = src[i];
    this.length = o;
  }

  /** Appends ASCII text. */
  ascii(s: string): void {
    this.reserve(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i);
  }

  /** Appends one byte. */
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** What was written (a view, valid until the next append). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Digits {@link writeNanos} writes at most (int64 nanoseconds). */
export const MAX_NANOS_DIGITS = 19;

/**
 * Writes seconds and nanoseconds since the epoch (as split by
 * JsonLineWriter.timestampParts) as decimal nanoseconds at `o` in `out`;
 * times before the epoch as 0. Returns the new end.
 */
export function writeNanos(out: Uint8Array, o: number, seconds: number, nanos: number): number {
  if (seconds < 0) {
    out[o++] = 0x30;
    return o;
  }
  const text = seconds === 0 ? String(nanos) : String(seconds) + String(nanos).padStart(9, "0");
  for (let i = 0; i < text.length; i++) out[o++] = text.charCodeAt(i);
  return o;
}
