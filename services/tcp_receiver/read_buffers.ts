/**
 * ReadBufferPool: full-size read buffers for a TCP receiver whose sink keeps
 * views of the messages until JetStream acknowledges them (one JetStream
 * message each, `RCVR_PACK=false`). A buffer goes back to the pool once the
 * listener is done with it and every message read into it was released.
 *
 * Why: a fresh 256 KiB buffer per read costs page faults on every first
 * write (about 1 CPU-second per GB on our machine) and garbage collection;
 * a buffer read into again costs neither.
 *
 * @module
 */

/** One use of a pooled buffer: the listener's own hold, plus one per message kept. */
export class ReadLease {
  #holds = 1;
  #pool: ReadBufferPool | undefined;

  constructor(readonly buf: Uint8Array, pool: ReadBufferPool) {
    this.#pool = pool;
  }

  /** Whether `view` lies in this lease's buffer. */
  holds(view: Uint8Array): boolean {
    return view.buffer === this.buf.buffer;
  }

  /** One more holder; each calls {@link release} once. */
  hold(): void {
    this.#holds++;
  }

  /** Drops one hold; the last gives the buffer back to the pool. Bound: pass it as a callback. */
  readonly release = (): void => {
    if (--this.#holds > 0) return;
    const pool = this.#pool;
    this.#pool = undefined; // a stray extra release must not give it back twice
    pool?.give(this.buf);
  };
}

/** Buffers of one size, reused once released; at most `keep` are kept free. */
export class ReadBufferPool {
  readonly #free: Uint8Array[] = [];

  constructor(readonly size: number, readonly keep: number) {}

  /** Buffers free for reuse now. */
  get free(): number {
    return this.#free.length;
  }

  /** A buffer of {@link size} bytes, held once by the caller. */
  take(): ReadLease {
    return new ReadLease(this.#free.pop() ?? new Uint8Array(this.size), this);
  }

  /** Takes a buffer back (called by the last {@link ReadLease.release}). */
  give(buf: Uint8Array): void {
    if (this.#free.length < this.keep) this.#free.push(buf);
  }
}
