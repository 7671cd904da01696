/**
 * A real local HTTP sink (Deno.serve) standing in for a log store, shared
 * by tests and the bench: every POST's body is gunzipped and handed to a
 * behaviour that decides the answer (default 200). Tests keep every request
 * and the lines of accepted ones; the bench's sink program
 * (`tools/bench/sink.ts`) turns recording off and only counts.
 *
 * @module
 */
import { countLines, readDecodedBody } from "../services/net/request_body.ts";

/** One request the sink received. */
export class SinkRequest {
  #body: string | undefined;
  #lines: string[] | undefined;

  constructor(
    /** 1-based arrival number. */
    readonly n: number,
    /** The body bytes, gunzipped when they were gzipped. */
    readonly bytes: Uint8Array,
    readonly headers: Headers,
    readonly method: string,
    readonly path: string,
  ) {}

  /** The body as text. */
  get body(): string {
    return this.#body ??= new TextDecoder().decode(this.bytes);
  }

  /** NDJSON lines of the body (empty lines dropped). */
  get lines(): string[] {
    return this.#lines ??= this.body.split("\n").filter((l) => l !== "");
  }

  /** Number of NDJSON lines, counted without decoding. */
  get lineCount(): number {
    return countLines(this.bytes);
  }
}

/** Decides a sink's answer. */
export type SinkBehavior = (req: SinkRequest) => Response | Promise<Response>;

/** Options of {@link Sink.start}. */
export interface SinkOptions {
  /** Keep `requests` and `accepted` (default true; off for long bench runs). */
  record?: boolean;
  /** Called once the sink listens. */
  onListen?: (addr: Deno.NetAddr) => void;
}

/** A real local HTTP sink recording what it accepted. */
export class Sink {
  /** Lines of requests answered with a 2xx, in order. */
  readonly accepted: string[] = [];
  /** Every request, whatever the answer. */
  readonly requests: SinkRequest[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  private constructor(
    behavior: SinkBehavior,
    port: number,
    o: SinkOptions,
  ) {
    const record = o.record ?? true;
    let n = 0;
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port,
      onListen: (addr) => o.onListen?.(addr),
    }, async (req) => {
      const r = new SinkRequest(
        ++n,
        await readDecodedBody(req),
        req.headers,
        req.method,
        new URL(req.url).pathname,
      );
      if (record) this.requests.push(r);
      const res = await behavior(r);
      if (record && res.status >= 200 && res.status < 300) this.accepted.push(...r.lines);
      return res;
    });
  }

  /** Starts a sink on `port` (0: a free one) answering with `behavior` (default 200). */
  static start(
    behavior: SinkBehavior = () => new Response("ok"),
    port = 0,
    o: SinkOptions = {},
  ): Sink {
    return new Sink(behavior, port, o);
  }

  /** `http://127.0.0.1:PORT` + path. */
  url(path = "/"): string {
    return `http://127.0.0.1:${this.#server.addr.port}${path}`;
  }

  get port(): number {
    return this.#server.addr.port;
  }

  /** Stops the server. */
  async close(): Promise<void> {
    await this.#server.shutdown().catch(() => {});
  }
}
