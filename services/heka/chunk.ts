/**
 * Packed storage: a chunk is many Heka messages in one buffer, written as a
 * Heka stream — for each message `0x1E`, header length, a `Header` with only
 * `message_length`, `0x1F`, the message bytes (see {@link ./framing.ts}).
 * A chunk is a valid Heka stream file: `heka-cat` reads it, and so does
 * {@link FrameSplitter}. Signatures (HMAC headers) are not kept: they were
 * verified before a message entered a chunk.
 *
 * A JetStream message holding a chunk carries the headers
 * `Lm-Format: heka-stream` and `Lm-Count: <messages>`; a message without
 * `Lm-Format` is one Heka message (the per-message format).
 *
 * @module
 */
import { FrameSplitter, RECORD_SEPARATOR, UNIT_SEPARATOR } from "./framing.ts";

/** Header naming the format of a stored JetStream message. */
export const FORMAT_HEADER = "Lm-Format";
/** Header with the number of Heka messages in a chunk. */
export const COUNT_HEADER = "Lm-Count";
/** `Lm-Format` of a chunk. */
export const HEKA_STREAM_FORMAT = "heka-stream";
/** Content type of an HTTP body holding a Heka stream. */
export const HEKA_STREAM_CONTENT_TYPE = "application/x-heka-stream";

/** Bytes a message of `length` bytes takes in a chunk: framing, header and message. */
export function framedSize(length: number): number {
  return 3 + 1 + varintSize(length) + length;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/**
 * Writes one frame for `message` at `out[at..]` (which must have
 * {@link framedSize} bytes left) and returns the offset after it.
 */
export function writeFrame(out: Uint8Array, at: number, message: Uint8Array): number {
  let n = message.length;
  const headerLength = 1 + varintSize(n);
  out[at++] = RECORD_SEPARATOR;
  out[at++] = headerLength;
  out[at++] = 0x08; // field 1 (message_length), varint
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  out[at++] = UNIT_SEPARATOR;
  out.set(message, at);
  return at + message.length;
}

/** What {@link splitChunk} found in a chunk. */
export interface ChunkContents {
  /** The messages, as views into the chunk. */
  messages: Uint8Array[];
  /** Bytes that were not part of a valid frame (0 for a chunk a receiver wrote). */
  skippedBytes: number;
}

/**
 * The messages of a chunk, in order (views, never copies). Damaged bytes
 * are skipped and counted as a Heka stream reader would skip them.
 */
export function splitChunk(data: Uint8Array): ChunkContents {
  const messages: Uint8Array[] = [];
  // Fast path: a chunk a receiver wrote has only single-field headers.
  let at = 0;
  const end = data.length;
  while (at < end) {
    if (data[at] !== RECORD_SEPARATOR || at + 2 >= end) break;
    const headerLength = data[at + 1];
    if (data[at + 2] !== 0x08 || headerLength < 2 || headerLength > 6) break;
    let length = 0;
    let shift = 1;
    let p = at + 3;
    const headerEnd = at + 2 + headerLength;
    if (headerEnd >= end) break;
    for (; p < headerEnd; p++) {
      const b = data[p];
      length += (b & 0x7f) * shift;
      shift *= 128;
      if (b < 0x80) {
        p++;
        break;
      }
    }
    if (p !== headerEnd || data[headerEnd] !== UNIT_SEPARATOR) break;
    const start = headerEnd + 1;
    if (start + length > end) break;
    messages.push(data.subarray(start, start + length));
    at = start + length;
  }
  if (at === end) return { messages, skippedBytes: 0 };
  // Anything else (signed headers, damage): the general splitter, from here.
  const splitter = new FrameSplitter({ maxMessageSize: end - at });
  splitter.push(data.subarray(at));
  for (let f = splitter.next(); f !== null; f = splitter.next()) messages.push(f.message);
  const s = splitter.stats;
  return { messages, skippedBytes: s.garbageBytes + s.oversizedBytes + splitter.buffered };
}

/** Whether stored headers mark a chunk (`Lm-Format: heka-stream`). */
export function isChunk(format: string | undefined | null): boolean {
  return format === HEKA_STREAM_FORMAT;
}
