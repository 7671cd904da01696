/**
 * Heka stream framing: splitting a byte stream into records, and building
 * records.
 *
 * A record is `0x1E`, the header length (one byte), a protobuf `Header`,
 * `0x1F`, then `Header.message_length` bytes of protobuf `Message`. Like
 * Heka's `HekaFramingSplitter`, the splitter skips anything that is not a
 * valid record start by searching for the next `0x1E`; it never throws on
 * bad input, it counts. A record whose header is valid but whose
 * message_length exceeds the maximum is skipped by that declared length,
 * discarding its bytes as they arrive (never buffering them), then the
 * search resumes. Consequence worth knowing: a header that decodes but
 * lies (say, 4 GB) makes the splitter discard that many following bytes.
 *
 * This module knows nothing of sockets: feed it chunks, pull frames.
 *
 * @module
 */
import { decodeHeader, encodeHeader, type HekaHeader, HmacHash } from "./codec.ts";
import { type HmacSigner, signMessage } from "./hmac.ts";

export type { HmacSigner } from "./hmac.ts";

/** First byte of every record. */
export const RECORD_SEPARATOR = 0x1e;
/** Byte between the header and the message. */
export const UNIT_SEPARATOR = 0x1f;
/** The header length is one byte. */
export const MAX_HEADER_SIZE = 255;
/** Heka's default maximum message size: 64 KiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 65536;

/** One record pulled from a {@link FrameSplitter}. */
export interface HekaFrame {
  /** The decoded framing header (signature fields included). */
  header: HekaHeader;
  /**
   * The message bytes, exactly as sent. A view into the chunk passed to
   * {@link FrameSplitter.push} when the record lay inside one chunk, a fresh
   * copy when it spanned chunks. Either way the splitter never writes to it.
   */
  message: Uint8Array;
}

/** Options of {@link FrameSplitter}. */
export interface FrameSplitterOptions {
  /** Records whose message_length exceeds this are skipped. Default 65536. */
  maxMessageSize?: number;
}

/**
 * Counters of a {@link FrameSplitter}. Every byte pushed ends up in exactly
 * one of: a frame, `garbageBytes`, `oversizedBytes`, or `buffered`.
 */
export interface FrameSplitterStats {
  /** Bytes discarded while looking for a record start (including the 0x1E of invalid headers). */
  garbageBytes: number;
  /** Record starts whose header was invalid: length 0, no 0x1F after it, or undecodable. */
  invalidHeaders: number;
  /** Records skipped because message_length exceeded the maximum. */
  oversized: number;
  /** Bytes of oversized records (framing, header and message) discarded so far. */
  oversizedBytes: number;
  /** Frames returned by {@link FrameSplitter.next}. */
  frames: number;
}

const EMPTY = new Uint8Array(0);

/**
 * Incremental splitter of a Heka-framed byte stream.
 *
 * ```ts
 * const splitter = new FrameSplitter();
 * for await (const chunk of conn.readable) {
 *   splitter.push(chunk);
 *   for (let f = splitter.next(); f !== null; f = splitter.next()) await handle(f);
 * }
 * ```
 *
 * Pushed chunks are kept (never copied, never written) until every byte in
 * them has been consumed; frames that lie inside one chunk are views into
 * it. Work is amortized O(bytes pushed): each byte is scanned once, records
 * spanning chunks are copied once, and an oversized record is discarded as
 * its bytes arrive instead of being buffered.
 */
export class FrameSplitter {
  /** The maximum message_length accepted. */
  readonly maxMessageSize: number;
  /** Running counters; read them, do not write them. */
  readonly stats: FrameSplitterStats = {
    garbageBytes: 0,
    invalidHeaders: 0,
    oversized: 0,
    oversizedBytes: 0,
    frames: 0,
  };

  /** Pending chunks; live ones are `#chunks[#head..]`. */
  #chunks: Uint8Array[] = [];
  #head = 0;
  /** Read position inside `#chunks[#head]`. */
  #offset = 0;
  #buffered = 0;
  /** Bytes of an oversized message still to discard. */
  #skip = 0;
  /** Decoded header of the record at the read position, waiting for its message bytes. */
  #header: HekaHeader | null = null;
  /** Framing plus header bytes of that record: header length + 3. */
  #headerSize = 0;

  /** Creates a splitter; `maxMessageSize` defaults to 64 KiB like Heka's. */
  constructor(options: FrameSplitterOptions = {}) {
    const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`maxMessageSize must be a non-negative integer, got ${max}`);
    }
    this.maxMessageSize = max;
  }

  /** Bytes pushed but not yet returned in a frame or discarded. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Appends a chunk of the stream. The splitter keeps a reference to it, so
   * the caller must not modify it afterwards (frames may be views into it).
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#skip > 0) this.#discardSkip();
  }

  /**
   * Copies the bytes still buffered (at most an unfinished record) into
   * memory of the splitter's own and drops every reference to the pushed
   * chunks, so the caller may reuse them. Frames returned earlier stay views
   * into those chunks: only call this once they are no longer needed.
   */
  detach(): void {
    if (this.#chunks.length === 0) return;
    if (this.#buffered === 0) {
      this.#chunks.length = 0;
      this.#head = 0;
      this.#offset = 0;
      return;
    }
    const rest = new Uint8Array(this.#buffered);
    this.#copyOut(0, rest);
    this.#chunks = [rest];
    this.#head = 0;
    this.#offset = 0;
    // A decoded header may hold views (its hmac) into the old chunks: decode it again.
    this.#header = null;
  }

  /**
   * The next complete record, or `null` when more bytes are needed. Skips
   * garbage, invalid headers and oversized records on the way (see
   * {@link stats}).
   */
  next(): HekaFrame | null {
    for (;;) {
      if (this.#skip > 0 && !this.#discardSkip()) return null;
      const header = this.#header;
      if (header !== null) {
        if (this.#buffered < this.#headerSize + header.messageLength) return null;
        return this.#takeFrame(header);
      }
      if (!this.#seekRecordSeparator() || this.#buffered < 2) return null;
      const headerLength = this.#peek(1);
      if (headerLength === 0) {
        this.#rejectHeader();
        continue;
      }
      const headerSize = headerLength + 3;
      if (this.#buffered < headerSize) return null;
      if (this.#peek(headerSize - 1) !== UNIT_SEPARATOR) {
        this.#rejectHeader();
        continue;
      }
      const decoded = this.#decodeHeader(headerLength);
      if (decoded === null) {
        this.#rejectHeader();
        continue;
      }
      if (decoded.messageLength > this.maxMessageSize) {
        this.stats.oversized++;
        this.stats.oversizedBytes += headerSize;
        this.#advance(headerSize);
        this.#skip = decoded.messageLength;
        continue;
      }
      this.#header = decoded;
      this.#headerSize = headerSize;
    }
  }

  /** Consumes the record whose header is decoded and whose bytes are all buffered. */
  #takeFrame(header: HekaHeader): HekaFrame {
    const headerSize = this.#headerSize;
    const length = header.messageLength;
    const chunk = this.#chunks[this.#head];
    const start = this.#offset + headerSize;
    let message: Uint8Array;
    if (start + length <= chunk.length) {
      message = chunk.subarray(start, start + length);
      this.#advance(headerSize + length);
    } else {
      this.#advance(headerSize);
      message = new Uint8Array(length);
      this.#copyOut(0, message);
      this.#advance(length);
    }
    this.#header = null;
    this.stats.frames++;
    return { header, message };
  }

  /**
   * Drops bytes up to the next 0x1E. True when the read position is at one,
   * false when the buffer ran out.
   */
  #seekRecordSeparator(): boolean {
    // No local alias of #chunks: #dropHead may replace the array.
    while (this.#head < this.#chunks.length) {
      const chunk = this.#chunks[this.#head];
      const offset = this.#offset;
      const at = chunk.indexOf(RECORD_SEPARATOR, offset);
      if (at >= 0) {
        if (at > offset) {
          this.stats.garbageBytes += at - offset;
          this.#buffered -= at - offset;
          this.#offset = at;
        }
        return true;
      }
      this.stats.garbageBytes += chunk.length - offset;
      this.#buffered -= chunk.length - offset;
      this.#dropHead();
    }
    return false;
  }

  /** Skips the 0x1E at the read position (its header was invalid). */
  #rejectHeader(): void {
    this.stats.invalidHeaders++;
    this.stats.garbageBytes++;
    this.#advance(1);
  }

  /** Decodes the header bytes after the read position, or null when invalid. */
  #decodeHeader(headerLength: number): HekaHeader | null {
    const chunk = this.#chunks[this.#head];
    const start = this.#offset + 2;
    let bytes: Uint8Array;
    if (start + headerLength <= chunk.length) {
      bytes = chunk.subarray(start, start + headerLength);
    } else {
      // Fresh copy: the decoded header's hmac is a view into these bytes.
      bytes = new Uint8Array(headerLength);
      this.#copyOut(2, bytes);
    }
    try {
      return decodeHeader(bytes);
    } catch {
      return null;
    }
  }

  /** Discards pending oversized-message bytes; true when none remain to skip. */
  #discardSkip(): boolean {
    const n = Math.min(this.#skip, this.#buffered);
    if (n > 0) {
      this.#skip -= n;
      this.stats.oversizedBytes += n;
      this.#advance(n);
    }
    return this.#skip === 0;
  }

  /** The byte `index` bytes after the read position (must be buffered). */
  #peek(index: number): number {
    const chunks = this.#chunks;
    let i = this.#head;
    let at = this.#offset + index;
    while (at >= chunks[i].length) {
      at -= chunks[i].length;
      i++;
    }
    return chunks[i][at];
  }

  /** Copies `dest.length` bytes starting `from` bytes after the read position. */
  #copyOut(from: number, dest: Uint8Array): void {
    if (dest.length === 0) return;
    const chunks = this.#chunks;
    let i = this.#head;
    let at = this.#offset + from;
    while (at >= chunks[i].length) {
      at -= chunks[i].length;
      i++;
    }
    let filled = 0;
    while (filled < dest.length) {
      const chunk = chunks[i++];
      const n = Math.min(chunk.length - at, dest.length - filled);
      if (n <= 16) {
        // Tiny pieces (byte-sized reads): a loop beats allocating a subarray.
        for (let k = 0; k < n; k++) dest[filled + k] = chunk[at + k];
      } else {
        dest.set(n === chunk.length ? chunk : chunk.subarray(at, at + n), filled);
      }
      filled += n;
      at = 0;
    }
  }

  /** Consumes `n` buffered bytes. */
  #advance(n: number): void {
    this.#buffered -= n;
    while (n > 0) {
      const rest = this.#chunks[this.#head].length - this.#offset;
      if (n < rest) {
        this.#offset += n;
        return;
      }
      n -= rest;
      this.#dropHead();
    }
  }

  /** Releases the first live chunk. */
  #dropHead(): void {
    const chunks = this.#chunks;
    chunks[this.#head] = EMPTY;
    this.#head++;
    this.#offset = 0;
    if (this.#head === chunks.length) {
      chunks.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= chunks.length) {
      this.#chunks = chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}

function headerFor(message: Uint8Array, signer: HmacSigner | undefined): Uint8Array {
  const header = signer === undefined
    ? encodeHeader({ messageLength: message.length })
    : encodeHeader({
      messageLength: message.length,
      hmacHashFunction: signer.hash === "sha1" ? HmacHash.SHA1 : HmacHash.MD5,
      hmacSigner: signer.name,
      hmacKeyVersion: signer.version,
      hmac: signMessage(message, signer),
    });
  if (header.length > MAX_HEADER_SIZE) {
    throw new RangeError(`framing header of ${header.length} bytes exceeds ${MAX_HEADER_SIZE}`);
  }
  return header;
}

function writeRecord(out: Uint8Array, at: number, header: Uint8Array, message: Uint8Array): number {
  out[at] = RECORD_SEPARATOR;
  out[at + 1] = header.length;
  out.set(header, at + 2);
  out[at + 2 + header.length] = UNIT_SEPARATOR;
  out.set(message, at + 3 + header.length);
  return at + 3 + header.length + message.length;
}

/**
 * Frames one message: `0x1E`, header length, `Header`, `0x1F`, message.
 * With a signer the header carries its name, key version, hash function
 * and the HMAC of the message. Throws RangeError when the header would
 * exceed 255 bytes (a very long signer name).
 */
export function frameMessage(message: Uint8Array, signer?: HmacSigner): Uint8Array {
  const header = headerFor(message, signer);
  const out = new Uint8Array(3 + header.length + message.length);
  writeRecord(out, 0, header, message);
  return out;
}

/** Frames several messages into one buffer (see {@link frameMessage}). */
export function frameMessages(messages: Uint8Array[], signer?: HmacSigner): Uint8Array {
  const headers = messages.map((m) => headerFor(m, signer));
  let size = 0;
  for (let i = 0; i < messages.length; i++) size += 3 + headers[i].length + messages[i].length;
  const out = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < messages.length; i++) at = writeRecord(out, at, headers[i], messages[i]);
  return out;
}
