/**
 * LineCountingServer: the bench sink's HTTP/1.1 server when all it needs
 * of a body is its number of lines. Each connection is read into one
 * reused buffer and the newlines of request bodies (`Content-Length` or
 * `Transfer-Encoding: chunked`) are counted as they arrive; no body is
 * kept.
 *
 * Why: the sink shares the bench machine's two cores with the subscriber
 * it measures. Over `Deno.serve` it cost about 3 CPU-s per GB of bodies (a
 * fresh buffer and a promise per 64 KiB read), a third of a core at the
 * subscriber's rate; this costs a small fraction of that.
 *
 * Not a general server: no gzip (the bench does not compress), no
 * `Expect: 100-continue`, requests of a known framing only (a request
 * without one has no body).
 *
 * @module
 */
import { ConnReader, type Count, countBody, readHead } from "./http1.ts";

/** What the handler learns of a request. */
export interface CountedRequest {
  method: string;
  path: string;
  /**
   * Lines of the body: its newlines, plus one for a last line without one;
   * or what the server's `countPiece` counted.
   */
  lines: number;
}

/** The handler's answer. */
export interface CountedAnswer {
  status: number;
  body?: string;
  contentType?: string;
}

const LF = 10;
const encoder = new TextEncoder();

/** A look at each line's first bytes while counting (see `Count.onLine` in http1.ts). */
export interface LineVisitor {
  /** Bytes of a line's start needed at hand for `onLine`. */
  head: number;
  onLine: (buf: Uint8Array, start: number, end: number) => void;
}

/** Counts records of a body other than lines (see `Count.countPiece` in http1.ts). */
export type PieceCounter = (piece: Uint8Array, before: number) => number;

async function serveConnection(
  conn: Deno.Conn,
  handle: (r: CountedRequest) => CountedAnswer,
  visitor: LineVisitor | undefined,
  countPiece: PieceCounter | undefined,
): Promise<void> {
  const r = new ConnReader(conn);
  for (;;) {
    const head = await readHead(r);
    if (head === null) return;
    const [method, target] = head.first.split(" ");
    const c: Count = {
      newlines: 0,
      last: LF,
      onLine: visitor?.onLine,
      lineHead: visitor?.head,
      countPiece,
    };
    if (!(await countBody(r, head, c))) return;
    const lines = countPiece !== undefined || c.last === LF ? c.newlines : c.newlines + 1;
    const answer = handle({ method, path: target.split("?")[0], lines });
    const body = encoder.encode(answer.body ?? "");
    const status = encoder.encode(
      `HTTP/1.1 ${answer.status} ${answer.status < 300 ? "OK" : "Error"}\r\n` +
        `content-length: ${body.length}\r\n` +
        (answer.contentType ? `content-type: ${answer.contentType}\r\n` : "") + "\r\n",
    );
    const out = new Uint8Array(status.length + body.length);
    out.set(status);
    out.set(body, status.length);
    let at = 0;
    while (at < out.length) at += await conn.write(out.subarray(at));
    if (head.close) return;
  }
}

/** A running {@link serveLineCounting} server. */
export interface LineCountingServer {
  readonly port: number;
  close(): void;
}

/**
 * Serves HTTP/1.1 on 127.0.0.1:`port` (0: a free one), answering each
 * request with `handle`; `visitor` looks at the start of each body line;
 * `countPiece`, when given, counts the body's records instead of its lines.
 */
export function serveLineCounting(
  port: number,
  handle: (r: CountedRequest) => CountedAnswer,
  visitor?: LineVisitor,
  countPiece?: PieceCounter,
): LineCountingServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  (async () => {
    for await (const conn of listener) {
      serveConnection(conn, handle, visitor, countPiece)
        .catch((err) => console.error(`[sink] connection: ${err}`))
        .finally(() => {
          try {
            conn.close();
          } catch {
            // already closed
          }
        });
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => listener.close(),
  };
}
