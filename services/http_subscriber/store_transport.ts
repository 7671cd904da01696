/**
 * StoreTransport: how one POST reaches the store and what came back,
 * whichever HTTP client carries it. `PostClient` builds requests and
 * classifies answers over it.
 *
 * Two clients, chosen once per URL by {@link storeTransport}:
 * - plain `http://` URLs, when no proxy is configured, go over node:http
 *   with a kept-alive agent. It writes the caller's body as it is; `fetch`
 *   copies a `Uint8Array` body twice into fresh memory (once in JavaScript,
 *   once into Rust), which cost the subscriber about a fifth of its CPU in
 *   `deno task bench` (7.3 → 6.0 CPU-s per GB, +16 % lines/s, measured).
 * - everything else goes over `fetch` (one kept-alive `Deno.HttpClient`):
 *   `https://` (it trusts `DENO_CERT` and `DENO_TLS_CA_STORE`, which
 *   node:https under Deno does not), and any URL when `HTTP_PROXY`,
 *   `HTTPS_PROXY` or `ALL_PROXY` is set (fetch honours them and `NO_PROXY`).
 *
 * Neither follows redirects. Both send `Content-Length`. Only node:http
 * says when it has written the whole body (`onBodyWritten`): a body may
 * then be reused once nothing else needs it. `fetch` never says so.
 *
 * @module
 */
import http from "node:http";
import { concatBytes } from "../net/bytes.ts";

/** The fetch the fetch transport uses (the global one, or a stub). */
export type FetchFn = (
  url: string,
  init: RequestInit & { client?: Deno.HttpClient },
) => Promise<Response>;

/** A store's answer: its status and headers at once, its body on demand. */
export interface StoreAnswer {
  readonly status: number;
  /** The `Retry-After` header, or null. */
  readonly retryAfter: string | null;
  /** The body as text (rejects when reading it fails or the attempt is aborted). */
  text(): Promise<string>;
  /** Reads the body to its end and drops it, so the connection can be reused. */
  discard(): Promise<void>;
}

/** Sends POSTs to one URL. */
export interface StoreTransport {
  /** Which client carries the POSTs. */
  readonly kind: "node-http" | "fetch";
  /**
   * POSTs `body` with `headers` (lower-case names); resolves once the
   * status and headers arrived; rejects on a network error or when
   * `signal` aborts (the rejection's message says why). Calls
   * `onBodyWritten` once every byte of `body` went to the socket, when this
   * transport can tell (node:http): it reads `body` no more after that.
   */
  send(
    body: Uint8Array,
    headers: Record<string, string>,
    signal: AbortSignal,
    onBodyWritten?: () => void,
  ): Promise<StoreAnswer>;
  /** Releases the kept-alive connections. */
  close(): void;
}

const PROXY_VARIABLES = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/** Whether a proxy variable that `fetch` would honour is set. */
function proxyConfigured(): boolean {
  try {
    return PROXY_VARIABLES.some((v) => (Deno.env.get(v) ?? "") !== "");
  } catch {
    return false; // no --allow-env for them: fetch could not read them either
  }
}

/**
 * The transport for `url` with up to `concurrency` connections (see the
 * module doc for which); `fetchFn` forces the fetch transport over it.
 */
export function storeTransport(
  url: string,
  concurrency: number,
  fetchFn?: FetchFn,
): StoreTransport {
  if (fetchFn === undefined && url.startsWith("http://") && !proxyConfigured()) {
    return new NodeHttpTransport(url, concurrency);
  }
  return new FetchTransport(url, concurrency, fetchFn);
}

/** POSTs over `fetch`. */
class FetchTransport implements StoreTransport {
  readonly kind = "fetch";
  readonly #url: string;
  readonly #fetch: FetchFn;
  readonly #client: Deno.HttpClient | undefined;

  constructor(url: string, concurrency: number, fetchFn: FetchFn | undefined) {
    this.#url = url;
    if (fetchFn) this.#fetch = fetchFn;
    else {
      this.#client = Deno.createHttpClient({ poolMaxIdlePerHost: concurrency });
      this.#fetch = fetch;
    }
  }

  async send(
    body: Uint8Array,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<StoreAnswer> {
    const res = await this.#fetch(this.#url, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer>,
      headers,
      signal,
      redirect: "manual",
      ...(this.#client ? { client: this.#client } : {}),
    });
    return {
      status: res.status,
      retryAfter: res.headers.get("retry-after"),
      text: () => res.text(),
      discard: () => res.arrayBuffer().then(() => {}, () => {}),
    };
  }

  close(): void {
    this.#client?.close();
  }
}

/** POSTs over node:http with a kept-alive agent: the body is written as it is. */
class NodeHttpTransport implements StoreTransport {
  readonly kind = "node-http";
  readonly #url: URL;
  readonly #agent: http.Agent;

  constructor(url: string, concurrency: number) {
    this.#url = new URL(url);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  }

  send(
    body: Uint8Array,
    headers: Record<string, string>,
    signal: AbortSignal,
    onBodyWritten?: () => void,
  ): Promise<StoreAnswer> {
    const { promise, resolve, reject } = Promise.withResolvers<StoreAnswer>();
    if (signal.aborted) {
      reject(abortError(signal));
      return promise;
    }
    const req = http.request(this.#url, {
      method: "POST",
      agent: this.#agent,
      headers: { ...headers, "content-length": String(body.length) },
    });
    // After every write's callback: the socket has all of the body.
    if (onBodyWritten !== undefined) req.once("finish", onBodyWritten);
    // node:http under Deno ignores a `signal` option: abort by hand.
    const onAbort = () => req.destroy(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    req.on("error", (err) => {
      signal.removeEventListener("abort", onAbort);
      // Like fetch's: the URL (PostClient scrubs its secrets) and the cause.
      reject(new Error(`error sending request for url (${this.#url.href})`, { cause: err }));
    });
    req.on("response", (res) => {
      const chunks: Uint8Array[] = [];
      let bodyError: Error | undefined;
      const ended = new Promise<void>((done) => {
        res.on("data", (c: Uint8Array) => chunks.push(c));
        res.on("end", () => done());
        res.on("error", (err) => {
          bodyError = err;
          done();
        });
        res.on("close", () => done());
      }).finally(() => signal.removeEventListener("abort", onAbort));
      const complete = async (): Promise<Uint8Array[]> => {
        await ended;
        if (bodyError !== undefined) throw bodyError;
        if (!res.complete) throw abortError(signal, "the answer was cut short");
        return chunks;
      };
      const retry = res.headers["retry-after"];
      resolve({
        status: res.statusCode ?? 0,
        retryAfter: Array.isArray(retry) ? retry[0] : retry ?? null,
        text: async () => new TextDecoder().decode(concatBytes(await complete())),
        discard: () => complete().then(() => {}, () => {}),
      });
    });
    req.end(body);
    return promise;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** The error an aborted attempt rejects with: the signal's reason, when it is an Error. */
function abortError(signal: AbortSignal, otherwise = "aborted"): Error {
  const r = signal.reason;
  return r instanceof Error ? r : new Error(r === undefined ? otherwise : String(r));
}
