/**
 * Heka timestamps (int64 nanoseconds since the UNIX epoch) as RFC 3339 UTC
 * with up to nine fraction digits, trailing zeros trimmed (Go's
 * `time.RFC3339Nano`): {@link formatTimestamp} for a bigint, and
 * {@link TimestampWriter} for the JSON line writer, which writes the bytes
 * straight from the varint's halves without a BigInt.
 *
 * @module
 */

const NS_PER_SECOND = 1_000_000_000n;
let cachedSecond = Number.NaN;
let cachedPrefix = "";

/**
 * Formats nanoseconds since the epoch as RFC 3339 UTC with up to nine
 * fraction digits, trailing zeros trimmed (Go's `time.RFC3339Nano`):
 * `0n` → `"1970-01-01T00:00:00Z"`, `-1n` → `"1969-12-31T23:59:59.999999999Z"`.
 */
export function formatTimestamp(ns: bigint): string {
  let seconds = ns / NS_PER_SECOND;
  let nanos = Number(ns - seconds * NS_PER_SECOND);
  if (nanos < 0) {
    nanos += 1e9;
    seconds -= 1n;
  }
  const s = Number(seconds);
  if (s !== cachedSecond) {
    cachedPrefix = new Date(s * 1000).toISOString().slice(0, 19);
    cachedSecond = s;
  }
  if (nanos === 0) return cachedPrefix + "Z";
  const digits = String(nanos + 1e9); // "1" + nine digits
  let end = 10;
  while (digits.charCodeAt(end - 1) === 48) end--;
  return cachedPrefix + "." + digits.slice(1, end) + "Z";
}

/**
 * Splits and writes int64 nanosecond timestamps given as two 32-bit halves
 * (as the wire reader leaves them), exactly and without a BigInt. Keeps the
 * `YYYY-MM-DDTHH:MM:SS` of the last second it wrote: consecutive messages
 * mostly share it.
 */
export class TimestampWriter {
  /** Whole seconds since the epoch (floor) of the last {@link split}. */
  seconds = 0;
  /** Nanoseconds into that second, 0 to 999,999,999, of the last {@link split}. */
  nanos = 0;
  /** The seconds whose `YYYY-MM-DDTHH:MM:SS` is in #prefix. */
  #second = Number.NaN;
  readonly #prefix = new Uint8Array(19);

  /** Sets {@link seconds} and {@link nanos} from the halves of an int64 (`hi` signed). */
  split(lo: number, hi: number): void {
    const negative = hi < 0;
    let ulo = lo >>> 0;
    let uhi = hi >>> 0;
    if (negative) {
      ulo = (~lo + 1) >>> 0;
      uhi = (~hi + (ulo === 0 ? 1 : 0)) >>> 0;
    }
    // |ns| / 1e9 by long division in base 2^16 (every step exact in doubles).
    let q = 0;
    let rem = 0;
    for (let k = 0; k < 4; k++) {
      const digit = k === 0
        ? uhi >>> 16
        : k === 1
        ? uhi & 0xffff
        : k === 2
        ? ulo >>> 16
        : ulo & 0xffff;
      const cur = rem * 65536 + digit;
      const qd = Math.floor(cur / 1e9);
      rem = cur - qd * 1e9;
      q = q * 65536 + qd;
    }
    let seconds = negative ? -q : q;
    let nanos = negative ? -rem : rem;
    if (nanos < 0) {
      nanos += 1e9;
      seconds -= 1;
    }
    this.seconds = seconds;
    this.nanos = nanos;
  }

  /** Writes the timestamp of the halves as {@link formatTimestamp} formats it; returns the new end. */
  write(out: Uint8Array, o: number, lo: number, hi: number): number {
    this.split(lo, hi);
    const seconds = this.seconds;
    let nanos = this.nanos;
    const prefix = this.#prefix;
    if (seconds !== this.#second) {
      const text = new Date(seconds * 1000).toISOString();
      for (let k = 0; k < 19; k++) prefix[k] = text.charCodeAt(k);
      this.#second = seconds;
    }
    for (let k = 0; k < 19; k++) out[o++] = prefix[k];
    if (nanos !== 0) {
      out[o++] = 0x2e; // .
      let end = o + 9;
      for (let p = end - 1; p >= o; p--) {
        const q10 = Math.floor(nanos / 10);
        out[p] = 0x30 + (nanos - q10 * 10);
        nanos = q10;
      }
      while (out[end - 1] === 0x30) end--;
      o = end;
    }
    out[o++] = 0x5a; // Z
    return o;
  }
}
