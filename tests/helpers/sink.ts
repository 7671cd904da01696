/** A real local HTTP sink for tests: records the NDJSON lines it accepted. */

/** One POST the sink received. */
export interface SinkRequest {
  /** 1-based arrival number. */
  n: number;
  /** The body, gunzipped when it was gzipped. */
  body: string;
  /** NDJSON lines of the body (empty lines dropped). */
  lines: string[];
  headers: Headers;
  method: string;
  path: string;
}

/** Decides a sink's answer. */
export type SinkBehavior = (req: SinkRequest) => Response | Promise<Response>;

/** A real local HTTP sink (Deno.serve) recording what it accepted. */
export class Sink {
  /** Lines of requests answered with a 2xx, in order. */
  readonly accepted: string[] = [];
  /** Every request, whatever the answer. */
  readonly requests: SinkRequest[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  private constructor(server: Deno.HttpServer<Deno.NetAddr>) {
    this.#server = server;
  }

  /** Starts a sink on `port` (0: a free one) answering with `behavior` (default 200). */
  static start(behavior: SinkBehavior = () => new Response("ok"), port = 0): Sink {
    let sink: Sink | undefined = undefined;
    let n = 0;
    const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
      let bytes = new Uint8Array(await req.arrayBuffer());
      if (req.headers.get("content-encoding") === "gzip") {
        const s = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
        bytes = await new Response(s).bytes();
      }
      const body = new TextDecoder().decode(bytes);
      const r: SinkRequest = {
        n: ++n,
        body,
        lines: body.split("\n").filter((l) => l !== ""),
        headers: req.headers,
        method: req.method,
        path: new URL(req.url).pathname,
      };
      sink!.requests.push(r);
      const res = await behavior(r);
      if (res.status >= 200 && res.status < 300) sink!.accepted.push(...r.lines);
      return res;
    });
    sink = new Sink(server);
    return sink;
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
