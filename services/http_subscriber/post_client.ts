/**
 * PostClient: what goes on the wire for one POST to the store, and what
 * came back. It builds the request body (the format's request builder,
 * then gzip), sends it with the headers over one kept-alive connection
 * pool (`store_transport.ts`: node:http or fetch) under a per-attempt
 * timeout, never follows redirects, and classifies the answer
 * ({@link AttemptResult}). Retrying is the poster's job (`poster.ts`), the
 * rules are `retry_policy.ts`'s.
 *
 * The URL and header values may be secrets: {@link PostClient.scrub}
 * removes them from every reason it returns.
 *
 * @module
 */
import { REDACTED, redactUrl, urlSecretReplacements } from "../config/mod.ts";
import { errorMessage } from "../log/mod.ts";
import type { RequestBuilder } from "./formats/format.ts";
import { parseRetryAfter } from "../net/retry_after.ts";
import { isRetryableStatus } from "./retry_policy.ts";
import {
  type FetchFn,
  type StoreAnswer,
  type StoreTransport,
  storeTransport,
} from "./store_transport.ts";

export type { FetchFn } from "./store_transport.ts";

/** How to reach the store: options shared by a {@link PostClient} and the poster. */
export interface PostClientOptions {
  url: string;
  /** Requests in flight at most (the connection pool keeps as many). */
  concurrency: number;
  /** One attempt's limit, response body included. */
  timeoutMs: number;
  /** Compress bodies (`Content-Encoding: gzip`). */
  gzip?: boolean;
  /** Default `application/json`; the request builder's when there is one. */
  contentType?: string;
  /** Turns submitted records into request bodies (default: the records are the body). */
  request?: RequestBuilder;
  /** Extra request headers (their values are secrets: scrubbed from logged errors). */
  headers?: Record<string, string>;
  /** Forces the fetch transport with this fetch (a stub); default: see `store_transport.ts`. */
  fetch?: FetchFn;
}

/** Classification of an attempt's result. */
export type AttemptResult =
  | { ok: true; status: number; text: string }
  | {
    ok: false;
    status: number;
    reason: string;
    retryable: boolean;
    retryAfterMs: number | undefined;
  };

const REASON_MAX = 300;

/** A body lent out to attempts: how many still write it, and whether the poster is done with it. */
interface Lent {
  writing: number;
  retired: boolean;
}

/** Gzips bytes with the platform's CompressionStream. */
export async function gzipBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return await new Response(stream).bytes();
}

/** One store URL: request bodies, one POST at a time, answers classified. */
export class PostClient {
  readonly #o: PostClientOptions;
  readonly #abort: AbortSignal;
  readonly #transport: StoreTransport;
  readonly #headers: Record<string, string>;
  readonly #redactedUrl: string;
  /** Secret texts and what replaces each, longest first. */
  readonly #secrets: [string, string][];
  /**
   * Bodies the request builder wants back (see {@link retire}). Weak: a
   * body whose write never finished (an attempt cut short) is not given
   * back, only collected.
   */
  readonly #lent = new WeakMap<Uint8Array, Lent>();

  /** `abort` cancels every attempt in flight (shutdown). */
  constructor(o: PostClientOptions, abort: AbortSignal) {
    this.#abort = abort;
    this.#o = o;
    this.#transport = storeTransport(o.url, o.concurrency, o.fetch);
    this.#headers = {
      "content-type": o.request?.contentType ?? o.contentType ?? "application/json",
      "user-agent": "lagermeister-http-subscriber",
    };
    for (const [name, value] of Object.entries(o.headers ?? {})) {
      this.#headers[name.toLowerCase()] = value;
    }
    if (o.gzip) this.#headers["content-encoding"] = "gzip";
    this.#redactedUrl = redactUrl(o.url);
    this.#secrets = urlSecretReplacements(o.url);
    for (const value of Object.values(o.headers ?? {})) {
      // the whole value, and its token after a scheme word ("Bearer abc…")
      for (const part of [value, value.replace(/^\S+\s+/, "")]) {
        if (part.length >= 4) this.#secrets.push([part, REDACTED]);
      }
    }
    this.#secrets.sort((a, b) => b[0].length - a[0].length);
  }

  /** The URL as it may be printed. */
  get redactedUrl(): string {
    return this.#redactedUrl;
  }

  /** Which HTTP client carries the POSTs (`store_transport.ts`). */
  get transport(): StoreTransport["kind"] {
    return this.#transport.kind;
  }

  /** Releases the connections. */
  close(): void {
    this.#transport.close();
  }

  /** Replaces the URL and its secret parts in a text (e.g. fetch's error messages). */
  scrub(text: string): string {
    let out = text;
    for (const [secret, replacement] of this.#secrets) out = out.replaceAll(secret, replacement);
    return out;
  }

  /** The request body (built and gzipped) for the records `only` (undefined: all). */
  async body(records: Uint8Array, only: number[] | undefined): Promise<Uint8Array> {
    const request = this.#o.request;
    const built = request === undefined ? records : request.build(records, only);
    const reusable = built !== records && request?.release !== undefined;
    if (this.#o.gzip) {
      const zipped = await gzipBytes(built);
      if (reusable) request!.release!(built); // gzip has read all of it
      return zipped;
    }
    if (reusable) this.#lent.set(built, { writing: 0, retired: false });
    return built;
  }

  /**
   * The poster is done with `body` (its batch settled, or it was rebuilt
   * for fewer items): a body of the request builder goes back to it once
   * no attempt still writes it.
   */
  retire(body: Uint8Array): void {
    const lent = this.#lent.get(body);
    if (lent === undefined) return;
    lent.retired = true;
    this.#giveBack(body, lent);
  }

  #giveBack(body: Uint8Array, lent: Lent): void {
    if (!lent.retired || lent.writing > 0) return;
    this.#lent.delete(body);
    this.#o.request!.release!(body);
  }

  /**
   * Sends one POST of `body` and classifies the answer; never throws. A 2xx
   * answer is read to the end (its text kept when `readText`), other answers
   * give their reason, shortened and scrubbed of secrets.
   */
  async attempt(body: Uint8Array, readText = false): Promise<AttemptResult> {
    const o = this.#o;
    const timeout = AbortSignal.timeout(o.timeoutMs);
    const signal = AbortSignal.any([timeout, this.#abort]);
    let res: StoreAnswer;
    const lent = this.#lent.get(body);
    let onBodyWritten: (() => void) | undefined;
    if (lent !== undefined) {
      lent.writing++;
      onBodyWritten = () => {
        lent.writing--;
        this.#giveBack(body, lent);
      };
    }
    try {
      res = await this.#transport.send(body, this.#headers, signal, onBodyWritten);
    } catch (err) {
      const reason = timeout.aborted
        ? `timeout after ${o.timeoutMs} ms`
        : this.scrub(errorWithCause(err));
      return { ok: false, status: 0, reason, retryable: true, retryAfterMs: undefined };
    }
    const status = res.status;
    if (status >= 200 && status < 300) {
      // Read the answer to the end so the connection goes back to the pool.
      if (!readText) {
        await res.discard();
        return { ok: true, status, text: "" };
      }
      try {
        return { ok: true, status, text: await res.text() };
      } catch (err) {
        const reason = timeout.aborted
          ? `timeout after ${o.timeoutMs} ms reading the answer`
          : this.scrub(`reading the answer failed: ${errorWithCause(err)}`);
        return { ok: false, status: 0, reason, retryable: true, retryAfterMs: undefined };
      }
    }
    let text = "";
    try {
      text = await res.text();
    } catch {
      // a timeout or reset while reading the error answer: the status is enough
    }
    const detail = text.replace(/\s+/g, " ").trim().slice(0, REASON_MAX);
    const reason = this.scrub(`HTTP ${status}${detail ? `: ${detail}` : ""}`);
    return {
      ok: false,
      status,
      reason,
      retryable: isRetryableStatus(status),
      retryAfterMs: parseRetryAfter(res.retryAfter),
    };
  }
}

/** An error's message with its cause's (fetch puts the useful part, and the URL, there). */
function errorWithCause(err: unknown): string {
  const msg = errorMessage(err);
  const cause = err instanceof Error ? err.cause : undefined;
  return cause === undefined ? msg : `${msg}: ${errorMessage(cause)}`;
}
