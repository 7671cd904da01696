/**
 * HTTP/1.1 framing for the bench's lean HTTP parts (the sink's
 * `line_counting_server.ts` and the load's `raw_http_client.ts`): one
 * connection read into one reused buffer, lines, and bodies counted
 * (newlines) as they pass, `Content-Length` or chunked.
 *
 * @module
 */
import { countNewlines } from "../../services/net/request_body.ts";

const READ_BUFFER = 1 << 20;
const CR = 13;
const LF = 10;
const decoder = new TextDecoder();

/** One connection's bytes: `buf[start, end)` is read and not yet used. */
export class ConnReader {
  readonly buf: Uint8Array;
  start = 0;
  end = 0;
  constructor(readonly conn: Deno.Conn, bufferBytes = READ_BUFFER) {
    this.buf = new Uint8Array(bufferBytes);
  }

  /** Reads more; false at the end of the stream. */
  async more(): Promise<boolean> {
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) throw new Error("request head or chunk line too long");
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /** The next line (without CRLF), or null at the end of the stream. */
  async line(): Promise<string | null> {
    for (;;) {
      const nl = this.buf.subarray(this.start, this.end).indexOf(LF);
      if (nl >= 0) {
        let stop = this.start + nl;
        if (stop > this.start && this.buf[stop - 1] === CR) stop--;
        const text = decoder.decode(this.buf.subarray(this.start, stop));
        this.start += nl + 1;
        return text;
      }
      if (!(await this.more())) return null;
    }
  }
}

/** What a request or response head says about its body. */
export interface Head {
  /** The request or status line. */
  first: string;
  /** Content-Length (0 when absent). */
  length: number;
  chunked: boolean;
  /** `Connection: close`. */
  close: boolean;
}

/** Reads a head (first line and headers); null when the stream ends first or between messages. */
export async function readHead(r: ConnReader): Promise<Head | null> {
  const first = await r.line();
  if (first === null || first === "") return null;
  const head: Head = { first, length: 0, chunked: false, close: false };
  for (;;) {
    const h = await r.line();
    if (h === null) return null;
    if (h === "") return head;
    const colon = h.indexOf(":");
    const name = h.slice(0, colon).trim().toLowerCase();
    const value = h.slice(colon + 1).trim().toLowerCase();
    if (name === "content-length") head.length = Number(value);
    else if (name === "transfer-encoding") head.chunked = value.includes("chunked");
    else if (name === "connection") head.close = value === "close";
  }
}

/** Counts the body a head announces; false when the stream ended first. */
export function countBody(r: ConnReader, head: Head, c: Count): Promise<boolean> {
  return head.chunked ? countChunked(r, c) : countBytes(r, head.length, c);
}

/** Counts of a body being read. */
export interface Count {
  newlines: number;
  last: number;
  /**
   * Called with each line's start (`buf[start, end)` being what of the
   * body is at hand from there) when at least `lineHead` bytes of the line
   * are at hand; lines cut by a read are skipped (a sample of nearly all).
   */
  onLine?: (buf: Uint8Array, start: number, end: number) => void;
  lineHead?: number;
  /**
   * Counts something other than newlines into `newlines`: called with each
   * piece of the body and the byte before it (`last`).
   */
  countPiece?: (piece: Uint8Array, before: number) => number;
}

/** Counts `length` body bytes; false when the stream ended first. */
export async function countBytes(r: ConnReader, length: number, c: Count): Promise<boolean> {
  let left = length;
  while (left > 0) {
    if (r.start === r.end && !(await r.more())) return false;
    const take = Math.min(left, r.end - r.start);
    const piece = r.buf.subarray(r.start, r.start + take);
    if (c.countPiece !== undefined) c.newlines += c.countPiece(piece, c.last);
    else if (c.onLine === undefined) c.newlines += countNewlines(piece);
    else visitLines(r.buf, r.start, r.start + take, c);
    c.last = piece[take - 1];
    r.start += take;
    left -= take;
  }
  return true;
}

/** Counts a chunked body (and skips its trailers); false when the stream ended first. */
export async function countChunked(r: ConnReader, c: Count): Promise<boolean> {
  for (;;) {
    const sizeLine = await r.line();
    if (sizeLine === null) return false;
    const size = parseInt(sizeLine.split(";")[0].trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error(`bad chunk size line: ${sizeLine}`);
    if (size === 0) {
      for (;;) {
        const trailer = await r.line();
        if (trailer === null) return false;
        if (trailer === "") return true;
      }
    }
    if (!(await countBytes(r, size, c))) return false;
    if ((await r.line()) !== "") throw new Error("chunk data not followed by CRLF");
  }
}

/** Counts the newlines of `buf[start, end)` and calls `c.onLine` at each line start there. */
function visitLines(buf: Uint8Array, start: number, end: number, c: Count): void {
  const head = c.lineHead ?? 0;
  const onLine = c.onLine!;
  if (c.last === LF && end - start >= head) onLine(buf, start, end);
  for (let at = buf.indexOf(LF, start); at >= 0 && at < end; at = buf.indexOf(LF, at + 1)) {
    c.newlines++;
    if (end - (at + 1) >= head) onLine(buf, at + 1, end);
  }
}
