/**
 * A lean HTTP/1.1 keep-alive client for POSTing small bodies, one request
 * at a time per connection. About three times the request rate of `fetch`
 * on a loopback benchmark, which matters when the generator is the load
 * source; `https:` targets use `fetch`.
 *
 * @module
 */
import { parseRetryAfter } from "../net/retry_after.ts";

/** What a POST got back. */
export interface PostResult {
  status: number;
  /** `Retry-After` in milliseconds (seconds or an HTTP date), when sent. */
  retryAfterMs: number | undefined;
}

/** Something that POSTs bodies to one URL. */
export interface Poster {
  /** POSTs `body`; throws on a network error or timeout. */
  post(body: Uint8Array): Promise<PostResult>;
  /** Releases the connection. */
  close(): void;
  /** True once closed (by {@link close}, an error, or the server): open a new one. */
  readonly closed: boolean;
}

const CRLF_CRLF = [13, 10, 13, 10];
const decoder = new TextDecoder();
const encoder = new TextEncoder();

function indexOfHeaderEnd(buf: Uint8Array, from: number, to: number): number {
  for (let i = Math.max(0, from); i + 3 < to; i++) {
    if (
      buf[i] === CRLF_CRLF[0] && buf[i + 1] === CRLF_CRLF[1] && buf[i + 2] === CRLF_CRLF[2] &&
      buf[i + 3] === CRLF_CRLF[3]
    ) return i;
  }
  return -1;
}

/** One keep-alive HTTP/1.1 connection (plain `http:` only). */
export class HttpConnection implements Poster {
  readonly #conn: Deno.TcpConn;
  readonly #head: string;
  readonly #timeoutMs: number;
  #buf = new Uint8Array(16 * 1024);
  #len = 0;
  #out = new Uint8Array(0);
  #closed = false;

  private constructor(conn: Deno.TcpConn, url: URL, timeoutMs: number) {
    this.#conn = conn;
    this.#timeoutMs = timeoutMs;
    this.#head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n` +
      "content-type: application/x-protobuf\r\ncontent-length: ";
  }

  /** Connects to an `http:` URL's host and port. */
  static async open(url: URL, timeoutMs = 30_000): Promise<HttpConnection> {
    if (url.protocol !== "http:") throw new TypeError(`not an http: URL: ${url.protocol}`);
    const conn = await Deno.connect({
      hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: Number(url.port || 80),
    });
    conn.setNoDelay(true);
    return new HttpConnection(conn, url, timeoutMs);
  }

  /** Whether the server asked to close, or an error closed it. */
  get closed(): boolean {
    return this.#closed;
  }

  async post(body: Uint8Array): Promise<PostResult> {
    if (this.#closed) throw new Error("connection closed");
    const head = encoder.encode(this.#head + body.length + "\r\n\r\n");
    const size = head.length + body.length;
    if (this.#out.length < size) this.#out = new Uint8Array(size * 2);
    this.#out.set(head, 0);
    this.#out.set(body, head.length);
    const timer = setTimeout(() => this.close(), this.#timeoutMs);
    try {
      let at = 0;
      while (at < size) at += await this.#conn.write(this.#out.subarray(at, size));
      return await this.#readResponse();
    } catch (err) {
      this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  /** Reads more bytes into the buffer; throws at end of stream. */
  async #fill(): Promise<void> {
    if (this.#len === this.#buf.length) {
      const bigger = new Uint8Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#len));
    if (n === null) throw new Error("connection closed by the server");
    this.#len += n;
  }

  #consume(n: number): void {
    this.#buf.copyWithin(0, n, this.#len);
    this.#len -= n;
  }

  async #readResponse(): Promise<PostResult> {
    let end = -1;
    let scanned = 0;
    while ((end = indexOfHeaderEnd(this.#buf, scanned - 3, this.#len)) < 0) {
      scanned = this.#len;
      await this.#fill();
    }
    const lines = decoder.decode(this.#buf.subarray(0, end)).split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    if (!Number.isInteger(status)) throw new Error(`bad status line: ${lines[0]}`);
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(":");
      if (colon > 0) {
        headers.set(
          lines[i].slice(0, colon).trim().toLowerCase(),
          lines[i].slice(colon + 1).trim(),
        );
      }
    }
    this.#consume(end + 4);
    if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      await this.#skipChunked();
    } else {
      let left = Number(headers.get("content-length") ?? 0);
      while (left > 0) {
        if (this.#len === 0) await this.#fill();
        const n = Math.min(left, this.#len);
        this.#consume(n);
        left -= n;
      }
    }
    if (headers.get("connection")?.toLowerCase() === "close") this.close();
    return { status, retryAfterMs: parseRetryAfter(headers.get("retry-after")) };
  }

  async #skipChunked(): Promise<void> {
    for (;;) {
      let lineEnd: number;
      while ((lineEnd = this.#buf.subarray(0, this.#len).indexOf(10)) < 0) await this.#fill();
      const size = parseInt(decoder.decode(this.#buf.subarray(0, lineEnd)).trim(), 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size");
      this.#consume(lineEnd + 1);
      // chunk data and its CRLF (the last chunk has only the trailer's CRLF)
      let left = size + 2;
      while (left > 0) {
        if (this.#len === 0) await this.#fill();
        const n = Math.min(left, this.#len);
        this.#consume(n);
        left -= n;
      }
      if (size === 0) return;
    }
  }
}

/** A {@link Poster} over `fetch` (for `https:`). */
export class FetchPoster implements Poster {
  readonly closed = false;

  constructor(readonly url: URL, readonly timeoutMs = 30_000) {}

  async post(body: Uint8Array): Promise<PostResult> {
    const r = await fetch(this.url, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer>,
      headers: { "content-type": "application/x-protobuf" },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await r.arrayBuffer();
    return { status: r.status, retryAfterMs: parseRetryAfter(r.headers.get("retry-after")) };
  }

  close(): void {}
}

/** A poster for a URL: the lean client for `http:`, `fetch` for `https:`. */
export async function openPoster(url: URL, timeoutMs = 30_000): Promise<Poster> {
  return url.protocol === "http:"
    ? await HttpConnection.open(url, timeoutMs)
    : new FetchPoster(url, timeoutMs);
}
