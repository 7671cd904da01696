/**
 * FrameAssembler: regroups the bytes a NATS connection reads so that every
 * piece handed to nats.js's protocol parser ends where a protocol frame
 * ends (a line such as `PING`, or a whole `MSG`/`HMSG` with its payload).
 *
 * Why: the socket delivers 64 KiB reads. A message larger than a read (a
 * 256 KiB chunk) makes nats.js's parser gather it in a buffer that starts
 * as a copy of the first read and doubles as more arrive, copying
 * everything each time: about a fifth of the subscriber's CPU in
 * `deno task bench --profile`. Here the message line tells the frame's size,
 * the frame is copied once into a buffer of exactly that size, and the
 * parser finds every message whole: it hands out views of the piece
 * without copying.
 *
 * Frames that lie whole in a read are passed on as views of it, uncopied.
 * Only the bytes of an unfinished frame are copied (into a buffer that the
 * frame then owns: the messages' data point into it) — or not even those:
 * a socket that reads into given memory asks {@link FrameAssembler.readTarget}
 * where to write, and the rest of a large frame lands in the frame.
 *
 * Frame buffers of 64 KiB or more come from a pool and
 * may be given back with {@link releaseFrame} by whoever knows that nothing
 * reads the message any more (the subscriber, once a chunk is acked). Fresh
 * memory costs a page fault per 4 KiB on its first write: that was a fifth
 * of the subscriber's CPU. A frame never given back is simply collected.
 *
 * @module
 */

const NL = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
/**
 * A protocol line longer than this is not NATS: the pieces are passed on as
 * they are and the parser reports the error (the server's limit on control
 * lines is 4 KiB; a generous margin).
 */
const MAX_LINE = 64 * 1024;

/**
 * The payload size a protocol line announces (its last number), or -1 when
 * the line `buf[start, nl)` is not a `MSG` or `HMSG` line (or has no size).
 */
export function payloadSize(buf: Uint8Array, start: number, nl: number): number {
  const c0 = buf[start] | 0x20;
  let op = 0;
  if (c0 === 0x6d) op = 3; // m: MSG
  else if (c0 === 0x68) op = 4; // h: HMSG
  else return -1;
  if (nl - start <= op) return -1;
  const name = op === 3 ? "msg" : "hmsg";
  for (let k = 1; k < op; k++) if ((buf[start + k] | 0x20) !== name.charCodeAt(k)) return -1;
  const sep = buf[start + op];
  if (sep !== SPACE && sep !== TAB) return -1;
  let i = nl - 1;
  while (i > start && (buf[i] === CR || buf[i] === SPACE || buf[i] === TAB)) i--;
  let size = 0;
  let scale = 1;
  let digits = 0;
  while (i > start && buf[i] >= 0x30 && buf[i] <= 0x39) {
    size += (buf[i] - 0x30) * scale;
    scale *= 10;
    digits++;
    i--;
  }
  return digits === 0 || digits > 15 ? -1 : size;
}

/** Frames smaller than this are built in fresh buffers (not worth pooling). */
const POOLED_MIN_BYTES = 64 * 1024;
/** Frames larger than this are built in fresh buffers (rare: a chunk is 256 KiB by default). */
const POOLED_MAX_BYTES = 8 * 1024 * 1024;
/** Pooled buffer sizes are multiples of this. */
const SIZE_STEP = 64 * 1024;
/** Bytes the pool keeps for reuse at most. */
const POOL_MAX_BYTES = 32 * 1024 * 1024;

/** Pooled buffers handed out and not given back (a WeakSet: one never given back is collected). */
const lent = new WeakSet<ArrayBuffer>();
/** Free pooled buffers by size. */
const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;

/** A buffer for a frame of `size` bytes: pooled (see {@link releaseFrame}) when large. */
function frameBuffer(size: number): Uint8Array {
  if (size < POOLED_MIN_BYTES || size > POOLED_MAX_BYTES) return new Uint8Array(size);
  const step = Math.ceil(size / SIZE_STEP) * SIZE_STEP;
  let ab = free.get(step)?.pop();
  if (ab !== undefined) freeBytes -= step;
  else ab = new ArrayBuffer(step);
  lent.add(ab);
  return new Uint8Array(ab, 0, size);
}

/**
 * Gives the buffer under `bytes` (a message's data, or any view of its
 * frame) back for a later frame. The caller promises that nothing reads
 * any view of that frame any more: nats.js decodes a message's subject,
 * reply and headers from it lazily, so read those first. Buffers the pool
 * did not hand out, and a second release, are ignored.
 */
export function releaseFrame(bytes: Uint8Array): void {
  const ab = bytes.buffer as ArrayBuffer;
  if (!lent.has(ab)) return;
  lent.delete(ab);
  if (freeBytes + ab.byteLength > POOL_MAX_BYTES) return;
  let list = free.get(ab.byteLength);
  if (list === undefined) free.set(ab.byteLength, list = []);
  list.push(ab);
  freeBytes += ab.byteLength;
}

/** Bytes of a fresh read buffer ({@link FrameAssembler.readTarget}). */
const READ_SLAB_BYTES = 64 * 1024;
/** A read buffer with less room left than this is replaced by a fresh one. */
const MIN_READ_BYTES = 16 * 1024;
/**
 * Bytes of the read after a frame that was read in place: enough for the
 * next message line and headers, so that when its payload is large it too
 * lands in its frame rather than in the read buffer (to be copied).
 */
const AFTER_FRAME_READ_BYTES = 4 * 1024;

/** Regroups read bytes into pieces that end at frame boundaries; see the module doc. */
export class FrameAssembler {
  /** The start of an unfinished frame: its line so far, or (once `need` is known) the frame. */
  #partial: Uint8Array | undefined;
  #filled = 0;
  /** Bytes of the unfinished frame; -1 while its line is not complete. */
  #need = -1;
  /** The stream is not NATS (a line too long): pieces pass unchanged. */
  #passThrough = false;
  /** Where reads land that do not go straight into a frame: its unused tail (see {@link readTarget}). */
  #slab = new Uint8Array(0);
  #slabAt = 0;
  /** The last {@link readTarget} was the unfinished frame's missing bytes. */
  #targetIsFrame = false;
  /** The last read finished a frame read in place: the next is a short one. */
  #afterFrame = false;

  /**
   * Where the next socket read should write (for a socket that reads into
   * the caller's memory, such as Node's `onread`), then {@link read}: the
   * missing bytes of an unfinished frame whose size is known, so a large
   * message arrives in its frame without a copy; else the unused tail of a
   * read buffer (never written twice: pieces handed out point into it).
   */
  readTarget(): Uint8Array {
    this.#targetIsFrame = this.#partial !== undefined && this.#need >= 0;
    if (this.#targetIsFrame) return this.#partial!.subarray(this.#filled, this.#need);
    if (this.#slab.length - this.#slabAt < MIN_READ_BYTES) {
      this.#slab = new Uint8Array(READ_SLAB_BYTES);
      this.#slabAt = 0;
    }
    const end = this.#afterFrame ? this.#slabAt + AFTER_FRAME_READ_BYTES : this.#slab.length;
    return this.#slab.subarray(this.#slabAt, end);
  }

  /** `n` bytes were read into the last {@link readTarget}: emits what is whole, as {@link push}. */
  read(n: number, emit: (piece: Uint8Array) => void): void {
    this.#afterFrame = false;
    if (this.#targetIsFrame) {
      this.#filled += n;
      if (this.#filled === this.#need) {
        emit(this.#take());
        this.#afterFrame = true;
      }
      return;
    }
    const bytes = this.#slab.subarray(this.#slabAt, this.#slabAt + n);
    this.#slabAt += n;
    this.push(bytes, emit);
  }

  /** Calls `emit` with the pieces to parse for the read `chunk`, in order (possibly none). */
  push(chunk: Uint8Array, emit: (piece: Uint8Array) => void): void {
    if (this.#passThrough) {
      emit(chunk);
      return;
    }
    let p = 0;
    if (this.#partial !== undefined) {
      p = this.#finishPartial(chunk, emit);
      if (p < 0) return; // all of chunk went into the unfinished frame
    }
    const start = p;
    let need = -1;
    while (p < chunk.length) {
      const nl = chunk.indexOf(NL, p);
      if (nl < 0) break;
      const size = payloadSize(chunk, p, nl);
      const end = size < 0 ? nl + 1 : nl + 1 + size + 2;
      if (end > chunk.length) {
        need = end - p;
        break;
      }
      p = end;
    }
    if (p > start) emit(chunk.subarray(start, p));
    if (p < chunk.length) this.#keep(chunk.subarray(p), need, emit);
  }

  /** Keeps the start of an unfinished frame (`need` its size, -1 when its line is unfinished). */
  #keep(rest: Uint8Array, need: number, emit: (piece: Uint8Array) => void): void {
    if (need < 0 && rest.length > MAX_LINE) {
      this.#passThrough = true;
      emit(rest);
      return;
    }
    const buf = need >= 0 ? frameBuffer(need) : new Uint8Array(Math.max(256, rest.length * 2));
    buf.set(rest);
    this.#partial = buf;
    this.#filled = rest.length;
    this.#need = need;
  }

  /**
   * Adds the start of `chunk` to the unfinished frame; emits the frame when
   * it is whole and returns where the rest of `chunk` starts, or -1 when
   * `chunk` was used up.
   */
  #finishPartial(chunk: Uint8Array, emit: (piece: Uint8Array) => void): number {
    let p = 0;
    if (this.#need < 0) {
      // The frame's line is unfinished: add up to its newline.
      const nl = chunk.indexOf(NL);
      const take = nl < 0 ? chunk.length : nl + 1;
      this.#append(chunk.subarray(0, take));
      if (nl < 0) {
        if (this.#filled > MAX_LINE) {
          this.#passThrough = true;
          emit(this.#take());
        }
        return -1;
      }
      p = take;
      const line = this.#partial!;
      const size = payloadSize(line, 0, this.#filled - 1);
      if (size < 0) {
        emit(this.#take());
        return p;
      }
      this.#need = this.#filled + size + 2;
      const frame = frameBuffer(this.#need);
      frame.set(line.subarray(0, this.#filled));
      this.#partial = frame;
    }
    const take = Math.min(this.#need - this.#filled, chunk.length - p);
    this.#partial!.set(chunk.subarray(p, p + take), this.#filled);
    this.#filled += take;
    p += take;
    if (this.#filled < this.#need) return -1;
    emit(this.#take());
    return p;
  }

  #append(bytes: Uint8Array): void {
    let buf = this.#partial!;
    if (this.#filled + bytes.length > buf.length) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, this.#filled + bytes.length));
      bigger.set(buf.subarray(0, this.#filled));
      buf = this.#partial = bigger;
    }
    buf.set(bytes, this.#filled);
    this.#filled += bytes.length;
  }

  /** The unfinished frame's bytes so far, forgetting them. */
  #take(): Uint8Array {
    const out = this.#partial!.subarray(0, this.#filled);
    this.#partial = undefined;
    this.#filled = 0;
    this.#need = -1;
    return out;
  }
}
