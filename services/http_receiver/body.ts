/**
 * Reading request bodies with a size limit and a deadline, without ever
 * holding more than the limit. One timer serves every request. Knows
 * nothing of Heka.
 *
 * @module
 */
import { concatBytes } from "../net/bytes.ts";

/** Why a body could not be read. */
export type BodyProblem = "too-large" | "timeout" | "aborted";

/** A body, or why there is none. */
export type BodyResult = { ok: true; bytes: Uint8Array } | { ok: false; problem: BodyProblem };

/** A body as the pieces it arrived in (never copied together), or why there is none. */
export type BodyChunks =
  | { ok: true; chunks: Uint8Array[]; size: number }
  | { ok: false; problem: BodyProblem };

interface Pending {
  deadline: number;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  timedOut: boolean;
}

/** Reads bodies of at most `limit` bytes that must arrive within `timeoutMs`. */
export class BodyReader {
  readonly #pending = new Set<Pending>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly limit: number, readonly timeoutMs: number) {}

  /**
   * Reads `req`'s body. A declared Content-Length over the limit is refused
   * before reading anything; a body growing past it is cut off.
   */
  async read(req: Request): Promise<BodyResult> {
    const r = await this.readChunks(req);
    if (!r.ok) return r;
    return { ok: true, bytes: concatBytes(r.chunks) };
  }

  /**
   * Like {@link read}, but hands the body over in the pieces it arrived in:
   * a Heka stream body is split into frames piece by piece, and copying a
   * large body into one fresh buffer first would cost page faults.
   */
  async readChunks(req: Request): Promise<BodyChunks> {
    const declared = Number(req.headers.get("content-length") ?? NaN);
    if (declared > this.limit) return { ok: false, problem: "too-large" };
    const body = req.body;
    if (!body) return { ok: true, chunks: [], size: 0 };
    const p: Pending = {
      deadline: performance.now() + this.timeoutMs,
      reader: body.getReader(),
      timedOut: false,
    };
    this.#track(p);
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const next = await p.reader.read();
        if (next.done) break;
        size += next.value.length;
        if (size > this.limit) {
          p.reader.cancel().catch(() => {});
          return { ok: false, problem: "too-large" };
        }
        chunks.push(next.value);
      }
    } catch {
      return { ok: false, problem: p.timedOut ? "timeout" : "aborted" };
    } finally {
      this.#pending.delete(p);
    }
    if (p.timedOut) return { ok: false, problem: "timeout" };
    return { ok: true, chunks, size };
  }

  /** Stops the timer (bodies still being read are left alone). */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #track(p: Pending): void {
    this.#pending.add(p);
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      const now = performance.now();
      for (const q of this.#pending) {
        if (now < q.deadline) continue;
        q.timedOut = true;
        this.#pending.delete(q);
        q.reader.cancel().catch(() => {});
      }
      if (this.#pending.size === 0) this.close();
    }, Math.max(20, Math.min(250, this.timeoutMs / 4)));
    Deno.unrefTimer(this.#timer as unknown as number);
  }
}
