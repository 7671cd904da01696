/**
 * Cheap per-message variation of pre-encoded messages: a fresh random
 * uuid and the current timestamp are patched into copies of templates
 * (and, for signed streams, a fresh HMAC into the framing header), so the
 * generator never encodes protobuf on its hot path.
 *
 * This works because {@link encodeMessage} writes the uuid first (tag,
 * length 16, 16 bytes) and the timestamp second (tag, then a varint that
 * is 9 bytes for any time between 1972 and 2262).
 *
 * @module
 */
import { frameMessage } from "../heka/framing.ts";
import { type HmacSigner, signMessage } from "../heka/hmac.ts";

/** Offset of the 16 uuid bytes in an encoded message. */
export const UUID_OFFSET = 2;
/** Offset of the 9-byte timestamp varint in an encoded message. */
export const TIMESTAMP_OFFSET = 19;
const TIMESTAMP_BYTES = 9;
const TWO_32 = 4294967296;

/** Whether an encoded message has the uuid/timestamp layout the stamper patches. */
export function isStampable(message: Uint8Array): boolean {
  if (message.length < TIMESTAMP_OFFSET + TIMESTAMP_BYTES) return false;
  if (message[0] !== 0x0a || message[1] !== 16 || message[18] !== 0x10) return false;
  for (let i = 0; i < TIMESTAMP_BYTES - 1; i++) {
    if (message[TIMESTAMP_OFFSET + i] < 0x80) return false;
  }
  return message[TIMESTAMP_OFFSET + TIMESTAMP_BYTES - 1] < 0x80;
}

/**
 * Writes the current time (µs precision) as a 9-byte nanosecond varint at
 * `at`. Returns the nanoseconds written, as a number (exact to ~256 ns).
 */
export function writeTimestamp(buf: Uint8Array, at: number, nowMs: number = Date.now()): number {
  const us = Math.floor(nowMs * 1000);
  const usHi = Math.floor(us / TWO_32);
  const product = (us - usHi * TWO_32) * 1000;
  const carry = Math.floor(product / TWO_32);
  let lo = product - carry * TWO_32;
  let hi = usHi * 1000 + carry;
  // protobuf varint of (hi, lo): 7 bits at a time, low first.
  for (let i = 0; i < TIMESTAMP_BYTES - 1; i++) {
    buf[at + i] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[at + TIMESTAMP_BYTES - 1] = lo & 0x7f;
  return us * 1000;
}

interface Template {
  /** The framed record: 0x1E, header length, header, 0x1F, message. */
  frame: Uint8Array;
  /** Where the message starts in `frame`. */
  messageAt: number;
  /** Where the HMAC digest sits in `frame` (signed only). */
  digestAt: number;
}

const UUID_POOL = 16 * 1024;

/**
 * Hands out framed or bare copies of templates, cycling through them, each
 * with a fresh random (version 4) uuid, the current timestamp and, with a
 * signer, a valid HMAC.
 */
export class MessageStamper {
  /** The largest framed record, in bytes. */
  readonly maxFrameSize: number;
  /** The average framed record, in bytes. */
  readonly averageFrameSize: number;
  /** Messages stamped so far. */
  stamped = 0;
  readonly #templates: Template[];
  readonly #signer: HmacSigner | undefined;
  readonly #uuids = new Uint8Array(UUID_POOL);
  #uuidAt = UUID_POOL;
  #next = 0;

  /**
   * @param messages encoded messages as {@link encodeMessage} writes them,
   *   with a uuid and a current timestamp (see {@link isStampable})
   * @param signer signs each framed message when given
   */
  constructor(messages: Uint8Array[], signer?: HmacSigner) {
    if (messages.length === 0) throw new RangeError("no messages to stamp");
    this.#signer = signer;
    this.#templates = messages.map((m) => {
      if (!isStampable(m)) {
        throw new RangeError("message lacks a 16-byte uuid and a current timestamp first");
      }
      const frame = frameMessage(m, signer);
      const headerLength = frame[1];
      const digestLength = signer ? (signer.hash === "sha1" ? 20 : 16) : 0;
      return { frame, messageAt: headerLength + 3, digestAt: headerLength + 2 - digestLength };
    });
    this.maxFrameSize = Math.max(...this.#templates.map((t) => t.frame.length));
    this.averageFrameSize = this.#templates.reduce((n, t) => n + t.frame.length, 0) /
      this.#templates.length;
  }

  /**
   * Writes the next framed message into `out` at `at`; returns the offset
   * after it, or -1 (nothing written) when it does not fit.
   */
  writeFrame(out: Uint8Array, at: number, nowMs: number = Date.now()): number {
    const t = this.#templates[this.#next];
    const end = at + t.frame.length;
    if (end > out.length) return -1;
    this.#next = this.#next + 1 === this.#templates.length ? 0 : this.#next + 1;
    out.set(t.frame, at);
    const m = at + t.messageAt;
    this.#stamp(out, m, nowMs);
    if (this.#signer) out.set(signMessage(out.subarray(m, end), this.#signer), at + t.digestAt);
    return end;
  }

  /** The next message without framing, stamped, in a fresh buffer. */
  nextMessage(nowMs: number = Date.now()): Uint8Array {
    const t = this.#templates[this.#next];
    this.#next = this.#next + 1 === this.#templates.length ? 0 : this.#next + 1;
    const out = t.frame.slice(t.messageAt);
    this.#stamp(out, 0, nowMs);
    return out;
  }

  #stamp(buf: Uint8Array, m: number, nowMs: number): void {
    if (this.#uuidAt === UUID_POOL) {
      crypto.getRandomValues(this.#uuids);
      this.#uuidAt = 0;
    }
    const u = this.#uuidAt;
    this.#uuidAt += 16;
    buf.set(this.#uuids.subarray(u, u + 16), m + UUID_OFFSET);
    buf[m + UUID_OFFSET + 6] = (buf[m + UUID_OFFSET + 6] & 0x0f) | 0x40;
    buf[m + UUID_OFFSET + 8] = (buf[m + UUID_OFFSET + 8] & 0x3f) | 0x80;
    writeTimestamp(buf, m + TIMESTAMP_OFFSET, nowMs);
    this.stamped++;
  }
}
