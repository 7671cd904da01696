/**
 * RawHttpConnection: one kept-alive HTTP/1.1 connection of the bench's
 * load, writing each request's head and its body as they are (no copy of
 * the body, unlike `fetch`) and reading only the status of the answer.
 *
 * Why: the load shares the bench machine's two cores with the receiver it
 * measures; `fetch` copied every body into fresh memory and cost as much
 * CPU as a third of the receiver's.
 *
 * @module
 */
import { ConnReader, type Count, countBody, readHead } from "./http1.ts";

const encoder = new TextEncoder();

/** One kept-alive connection to an `http://` URL; one request at a time. */
export class RawHttpConnection {
  readonly #conn: Deno.Conn;
  readonly #reader: ConnReader;
  readonly #head: string;

  private constructor(conn: Deno.Conn, url: URL, headers: Record<string, string>) {
    this.#conn = conn;
    this.#reader = new ConnReader(conn, 64 * 1024);
    let head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    this.#head = head;
  }

  /** Connects to `url`'s host; every POST carries `headers`. */
  static async open(url: URL, headers: Record<string, string>): Promise<RawHttpConnection> {
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port || 80) });
    conn.setNoDelay(true);
    return new RawHttpConnection(conn, url, headers);
  }

  /** POSTs `body` and resolves with the answer's status (its body read and dropped). */
  async post(body: Uint8Array): Promise<number> {
    await this.#writeAll(encoder.encode(`${this.#head}content-length: ${body.length}\r\n\r\n`));
    await this.#writeAll(body);
    const head = await readHead(this.#reader);
    if (head === null) throw new Error("connection closed before the answer");
    const c: Count = { newlines: 0, last: 10 };
    if (!(await countBody(this.#reader, head, c))) throw new Error("answer cut short");
    const status = Number(head.first.split(" ")[1]);
    if (head.close) this.close();
    return status;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
  }
}
