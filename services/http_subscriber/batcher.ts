/**
 * Batcher: groups items with one line of text each into batches whose body
 * is the lines, UTF-8, each ending in `\n` (NDJSON when the lines are
 * JSON). It knows nothing of what the items are or where batches go.
 *
 * A batch is handed over when it holds `maxItems` items, when the next
 * line would take its body beyond `maxBytes`, or `maxWaitMs` after its
 * FIRST item arrived — a trickle is never held longer than that.
 *
 * Lines are copied once, straight into the batch's body buffer (no joining
 * at the end), or written there by their encoder ({@link Batcher.addWritten});
 * the buffer grows geometrically.
 *
 * @module
 */

/** A group of items and the body of their lines, in arrival order. */
export interface Batch<T> {
  readonly items: T[];
  /** The lines, UTF-8, each followed by `\n`. */
  readonly body: Uint8Array;
  /** `performance.now()` when the first item arrived. */
  readonly firstAt: number;
}

/**
 * Why a batch was handed over: full (items or bytes), its time was up,
 * flushed (shutdown), or the consumer's ack window is full (nothing more
 * arrives until something is acked).
 */
export type FlushReason = "size" | "bytes" | "time" | "flush" | "window";

/** Options of a {@link Batcher}. */
export interface BatcherOptions<T> {
  /** Items per batch at most (≥ 1). */
  maxItems: number;
  /**
   * Body bytes per batch at most; a line that alone exceeds it travels in
   * a batch of its own.
   */
  maxBytes: number;
  /** Age of a batch's first item at which the batch is handed over. */
  maxWaitMs: number;
  /** Receives every batch, synchronously; must not throw. */
  onBatch: (batch: Batch<T>, reason: FlushReason) => void;
}

/**
 * A line written past the room it was given (see {@link Batcher.addWritten}):
 * it may have been cut at the buffer's end, so it is never sent.
 */
export class LineOverrun extends Error {}

/** Writes a line for a source into a batch body (see {@link Batcher.addWritten}). */
export interface LineWriter<S> {
  /** Writes the line for `source` into `out` from `at`; returns where it ends. */
  write(source: S, out: Uint8Array, outView: DataView, at: number): number;
}

/** A batch being filled. */
interface OpenBatch<T> {
  items: T[];
  buf: Uint8Array;
  /** A DataView of exactly `buf`. */
  view: DataView;
  bytes: number;
  firstAt: number;
}

const NEWLINE = 10;
const MIN_CAPACITY = 4096;
/** Posted batch buffers kept for reuse at most (posters in flight plus a few). */
const POOL_MAX = 16;
const encoder = new TextEncoder();

/** Groups items into batches by count, bytes and time. */
export class Batcher<T> {
  readonly #o: BatcherOptions<T>;
  #open: OpenBatch<T> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Body size of the last batch: the first guess of the next one's. */
  #sizeHint = MIN_CAPACITY;
  /**
   * Buffers of posted batches, for the next ones: a fresh multi-MiB buffer
   * costs page faults on every first write (about 1 s of CPU per GB here).
   */
  #pool: ArrayBuffer[] = [];

  constructor(o: BatcherOptions<T>) {
    if (!(o.maxItems >= 1) || !(o.maxBytes >= 1) || !(o.maxWaitMs >= 0)) {
      throw new RangeError("maxItems and maxBytes must be ≥ 1, maxWaitMs ≥ 0");
    }
    this.#o = o;
  }

  /** Items of the batch being filled (empty when none). */
  get openItems(): readonly T[] {
    return this.#open?.items ?? [];
  }

  /** `performance.now()` when the open batch's first item arrived; undefined when none. */
  get openSince(): number | undefined {
    return this.#open?.firstAt;
  }

  /**
   * Adds an item and its line (without the newline), encoded as UTF-8; may
   * hand over one or two batches. Hot paths pass bytes to {@link addBytes}.
   */
  add(item: T, line: string): void {
    this.addBytes(item, encoder.encode(line));
  }

  /**
   * Adds an item and its line as UTF-8 bytes (without the newline), copied
   * (the caller may reuse `line`); may hand over one or two batches.
   */
  addBytes(item: T, line: Uint8Array): void {
    if (this.#closed) throw new Error("batcher is closed");
    const size = line.length + 1;
    let b = this.#open;
    if (b !== undefined && b.bytes + size > this.#o.maxBytes && b.items.length > 0) {
      // The line does not fit: it opens the next batch.
      this.#handOver("bytes");
      b = undefined;
    }
    b ??= this.#start(size);
    const at = b.bytes;
    if (at + size > b.buf.length) this.#grow(b, at, at + size);
    b.buf.set(line, at);
    this.#commit(b, item, size);
  }

  /**
   * Adds an item whose line `writer` writes straight into the batch body
   * (no copy); may hand over one or two batches. `writer.write` gets room
   * for `maxLength` bytes from `at` and returns where the line ends (without
   * the newline); when it throws, nothing is added, and a line longer than
   * `maxLength` is not added either ({@link LineOverrun}). A line that turns
   * out not to fit the open batch's `maxBytes` is moved to the next batch.
   */
  addWritten<S>(item: T, source: S, maxLength: number, writer: LineWriter<S>): void {
    if (this.#closed) throw new Error("batcher is closed");
    const room = maxLength + 1;
    const b = this.#open ?? this.#start(room);
    const at = b.bytes;
    if (at + room > b.buf.length) this.#grow(b, at, at + room);
    let end: number;
    try {
      end = writer.write(source, b.buf, b.view, at);
      if (end - at > maxLength) {
        throw new LineOverrun(`line of ${end - at} bytes, room for ${maxLength} (a writer bug)`);
      }
    } catch (err) {
      // A batch opened for this item alone holds nothing: never hand it over empty.
      if (b.items.length === 0) this.#drop(b);
      throw err;
    }
    const size = end - at + 1;
    if (at + size > this.#o.maxBytes && b.items.length > 0) {
      // The line does not fit: it opens the next batch (moved out of this one's spare room).
      const line = b.buf.subarray(at, end);
      this.#handOver("bytes");
      const next = this.#start(size);
      next.buf.set(line);
      this.#commit(next, item, size);
      return;
    }
    this.#commit(b, item, size);
  }

  /** Forgets the open batch `b` (empty), keeping its buffer for the next one. */
  #drop(b: OpenBatch<T>): void {
    if (this.#open !== b) return;
    this.#open = undefined;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.recycle(b.buf);
  }

  /** Ends the line of `size` bytes (newline included) just written at the end of `b`'s body. */
  #commit(b: OpenBatch<T>, item: T, size: number): void {
    b.bytes += size;
    b.buf[b.bytes - 1] = NEWLINE;
    b.items.push(item);
    if (b.items.length >= this.#o.maxItems) this.#handOver("size");
    else if (b.bytes >= this.#o.maxBytes) this.#handOver("bytes");
  }

  /**
   * Gives back the body of a batch this batcher handed over, once nothing
   * uses it any more (posted): a later batch is written into it.
   */
  recycle(body: Uint8Array): void {
    const buf = body.buffer;
    if (!(buf instanceof ArrayBuffer) || this.#pool.length >= POOL_MAX) return;
    if (buf.byteLength < MIN_CAPACITY || this.#pool.includes(buf)) return;
    this.#pool.push(buf);
  }

  /** Hands over the open batch now, if there is one. */
  flush(reason: FlushReason = "flush"): void {
    this.#handOver(reason);
  }

  /** Flushes and refuses further items. */
  close(): void {
    this.flush();
    this.#closed = true;
  }

  #start(atLeast = 0): OpenBatch<T> {
    const capacity = Math.max(MIN_CAPACITY, atLeast, Math.ceil(this.#sizeHint * 1.25));
    // A pooled buffer that holds a batch like the last one will do (it grows if need be).
    const enough = Math.max(MIN_CAPACITY, atLeast, this.#sizeHint);
    let pooled = this.#pool.pop();
    while (pooled !== undefined && pooled.byteLength < enough) pooled = this.#pool.pop();
    const buf = pooled !== undefined ? new Uint8Array(pooled) : new Uint8Array(capacity);
    const b: OpenBatch<T> = {
      items: [],
      buf,
      view: new DataView(buf.buffer),
      bytes: 0,
      firstAt: performance.now(),
    };
    this.#open = b;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#handOver("time");
    }, this.#o.maxWaitMs);
    return b;
  }

  /** Replaces the buffer by one of at least `needed` bytes, keeping its first `keep`. */
  #grow(b: OpenBatch<T>, keep: number, needed: number): void {
    const buf = new Uint8Array(Math.max(needed, b.buf.length * 2));
    buf.set(b.buf.subarray(0, keep));
    b.buf = buf;
    b.view = new DataView(buf.buffer);
  }

  #handOver(reason: FlushReason): void {
    const b = this.#open;
    if (b === undefined) return;
    this.#open = undefined;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#sizeHint = Math.min(b.bytes, this.#o.maxBytes);
    this.#o.onBatch(
      { items: b.items, body: b.buf.subarray(0, b.bytes), firstAt: b.firstAt },
      reason,
    );
  }
}
