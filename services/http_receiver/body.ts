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

/** A body being read, and what to do when its deadline passes. */
interface Pending {
  deadline: number;
  timeout(): void;
}

/** The request's Content-Length; NaN when it has none (chunked). */
function declaredLength(req: Request): number {
  const v = req.headers.get("content-length");
  return v === null ? NaN : Number(v);
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
    const declared = declaredLength(req);
    if (declared > this.limit) return { ok: false, problem: "too-large" };
    if (Number.isNaN(declared)) {
      // Chunked: counted piece by piece.
      const r = await this.readChunks(req);
      if (!r.ok) return r;
      return { ok: true, bytes: concatBytes(r.chunks) };
    }
    // A declared length within the limit: the server reads no more than that, and hands
    // a body that has arrived over whole, without a stream (the single-message fast path).
    let timedOut!: () => void;
    const timeout = new Promise<undefined>((r) => timedOut = () => r(undefined));
    const p: Pending = { deadline: performance.now() + this.timeoutMs, timeout: timedOut };
    this.#track(p);
    const bytes = req.bytes();
    try {
      const body = await Promise.race([bytes, timeout]);
      if (body !== undefined) return { ok: true, bytes: body };
      // The answer closes the connection, which ends the read.
      bytes.catch(() => {});
      return { ok: false, problem: "timeout" };
    } catch {
      return { ok: false, problem: "aborted" };
    } finally {
      this.#pending.delete(p);
    }
  }

  /**
   * Like {@link read}, but hands the body over in the pieces it arrived in:
   * a Heka stream body is split into frames piece by piece, and copying a
   * large body into one fresh buffer first would cost page faults.
   */
  async readChunks(req: Request): Promise<BodyChunks> {
    if (declaredLength(req) > this.limit) return { ok: false, problem: "too-large" };
    const body = req.body;
    if (!body) return { ok: true, chunks: [], size: 0 };
    let timedOut = false;
    const reader = body.getReader();
    const p: Pending = {
      deadline: performance.now() + this.timeoutMs,
      timeout() {
        timedOut = true;
        reader.cancel().catch(() => {});
      },
    };
    this.#track(p);
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        size += next.value.length;
        if (size > this.limit) {
          reader.cancel().catch(() => {});
          return { ok: false, problem: "too-large" };
        }
        chunks.push(next.value);
      }
    } catch {
      return { ok: false, problem: timedOut ? "timeout" : "aborted" };
    } finally {
      this.#pending.delete(p);
    }
    if (timedOut) return { ok: false, problem: "timeout" };
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
        this.#pending.delete(q);
        q.timeout();
      }
      if (this.#pending.size === 0) this.close();
    }, Math.max(20, Math.min(250, this.timeoutMs / 4)));
    Deno.unrefTimer(this.#timer as unknown as number);
  }
}
