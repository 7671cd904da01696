/**
 * The byte writer under the JSON line writer: JSON text written as UTF-8
 * straight into a byte buffer, from protobuf bytes and numbers, without
 * JavaScript strings. Every function writes at `o` in `out`, returns the new
 * end, and trusts the caller to have made room.
 *
 * @module
 */

import { escapeJsonStringWasm, WASM_ESCAPE_MAX, WASM_ESCAPE_MIN } from "./json_escape.ts";

const textEncoder = new TextEncoder();

/**
 * The bytes of JSON's punctuation. Hot loops elsewhere copy them into
 * module-local constants (`const { QUOTE } = JsonByte`), which V8 folds;
 * an imported binding it loads and checks on every use.
 */
export const JsonByte = {
  QUOTE: 0x22,
  COMMA: 0x2c,
  COLON: 0x3a,
  LBRACKET: 0x5b,
  RBRACKET: 0x5d,
  LBRACE: 0x7b,
  RBRACE: 0x7d,
} as const;
const QUOTE = JsonByte.QUOTE;
const BACKSLASH = 0x5c;

/** How a byte of a string body is written: 0 as is, 1 escaped, 2 starts a multi-byte sequence. */
const BYTE_CLASS = new Uint8Array(256);
/** The character after the backslash of a short escape (`\n`…), or 0 for `\u00XX`. */
const SHORT_ESCAPE = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) BYTE_CLASS[b] = 1;
BYTE_CLASS[QUOTE] = 1;
BYTE_CLASS[BACKSLASH] = 1;
for (let b = 0x80; b < 0x100; b++) BYTE_CLASS[b] = 2;
SHORT_ESCAPE[QUOTE] = QUOTE;
SHORT_ESCAPE[BACKSLASH] = BACKSLASH;
SHORT_ESCAPE[0x08] = 0x62; // b
SHORT_ESCAPE[0x09] = 0x74; // t
SHORT_ESCAPE[0x0a] = 0x6e; // n
SHORT_ESCAPE[0x0c] = 0x66; // f
SHORT_ESCAPE[0x0d] = 0x72; // r

const HEX_DIGITS = textEncoder.encode("0123456789abcdef");
const BASE64_DIGITS = textEncoder.encode(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
);
const NULL_BYTES = textEncoder.encode("null");
const TRUE_BYTES = textEncoder.encode("true");
const FALSE_BYTES = textEncoder.encode("false");

/** Writes ASCII bytes as they are. */
export function writeAscii(out: Uint8Array, o: number, bytes: Uint8Array): number {
  for (let k = 0; k < bytes.length; k++) out[o++] = bytes[k];
  return o;
}

function writeAsciiString(out: Uint8Array, o: number, s: string): number {
  for (let k = 0; k < s.length; k++) out[o++] = s.charCodeAt(k);
  return o;
}

/**
 * The length of the well-formed UTF-8 sequence whose lead byte is at
 * `src[i]`; or, when it is ill-formed, minus the number of bytes the WHATWG
 * decoder replaces by one U+FFFD (the maximal subpart: the lead byte and
 * the continuation bytes that were still acceptable).
 */
function utf8Sequence(src: Uint8Array, i: number, end: number): number {
  const b = src[i];
  let need: number;
  let lower = 0x80;
  let upper = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) lower = 0xa0;
    else if (b === 0xed) upper = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) lower = 0x90;
    else if (b === 0xf4) upper = 0x8f;
  } else return -1;
  for (let k = 1; k <= need; k++) {
    if (i + k >= end) return -k;
    const c = src[i + k];
    if (c < lower || c > upper) return -k;
    lower = 0x80;
    upper = 0xbf;
  }
  return need + 1;
}

/**
 * The high bit of each byte of the little-endian word `w` that is not plain
 * ASCII for a JSON string: < 0x20 or ≥ 0x80 (`w | w - 0x20…`), a quote or a
 * backslash (a zero byte in `w ^ 0x22…` or `w ^ 0x5c…`). Borrows run from a
 * byte to the next one only out of such a byte, so the lowest flagged byte
 * is always the first that is not plain (later flags may be spurious).
 */
function notPlain(w: number): number {
  return (w | (w - 0x20202020) | ((w ^ 0x22222222) - 0x01010101) |
    ((w ^ 0x5c5c5c5c) - 0x01010101)) & 0x80808080;
}

/** The index (0 to 3) of the lowest flagged byte of a non-zero {@link notPlain} result. */
function firstFlagged(flags: number): number {
  return (31 - Math.clz32(flags & -flags)) >> 3;
}

/**
 * Writes the bytes `src[i, end)` as the body of a JSON string (no quotes):
 * the UTF-8 of `JSON.stringify(new TextDecoder().decode(bytes))` without
 * its quotes. `outView` is a DataView of all of `out`, `srcView` one of
 * `src`'s buffer, where `src` starts at `srcBase`. Needs up to 6 output
 * bytes per input byte.
 *
 * Long strings (a log line's payload) go to the WebAssembly escaper
 * (json_escape.ts), which writes the same bytes faster. Here, eight or four
 * bytes at a time while they are plain ASCII (no control character, quote,
 * backslash or byte ≥ 0x80); when a word is not, its plain bytes up to the
 * first other one go out at once, and that byte is escaped or checked as
 * UTF-8 on its own.
 */
export function writeJsonString(
  out: Uint8Array,
  outView: DataView,
  o: number,
  src: Uint8Array,
  srcView: DataView,
  srcBase: number,
  i: number,
  end: number,
): number {
  const len = end - i;
  if (len >= WASM_ESCAPE_MIN && len <= WASM_ESCAPE_MAX) {
    const stop = escapeJsonStringWasm(out, o, src, i, end);
    if (stop >= 0) return stop;
  }
  return writeJsonStringJs(out, outView, o, src, srcView, srcBase, i, end);
}

/** {@link writeJsonString} in JavaScript alone (exported for the tests that compare the two). */
export function writeJsonStringJs(
  out: Uint8Array,
  outView: DataView,
  o: number,
  src: Uint8Array,
  srcView: DataView,
  srcBase: number,
  i: number,
  end: number,
): number {
  const last8 = end - 8;
  const last4 = end - 4;
  while (i < end) {
    if (i <= last8) {
      const w = srcView.getUint32(srcBase + i, true);
      const x = srcView.getUint32(srcBase + i + 4, true);
      const fw = notPlain(w);
      const fx = notPlain(x);
      if ((fw | fx) === 0) {
        outView.setUint32(o, w, true);
        outView.setUint32(o + 4, x, true);
        i += 8;
        o += 8;
        continue;
      }
      const plain = fw !== 0 ? firstFlagged(fw) : 4 + firstFlagged(fx);
      if (plain >= 4) {
        outView.setUint32(o, w, true);
        i += 4;
        o += 4;
      }
      for (let k = plain & 3; k > 0; k--) out[o++] = src[i++];
    } else if (i <= last4) {
      const w = srcView.getUint32(srcBase + i, true);
      const fw = notPlain(w);
      if (fw === 0) {
        outView.setUint32(o, w, true);
        i += 4;
        o += 4;
        continue;
      }
      for (let k = firstFlagged(fw); k > 0; k--) out[o++] = src[i++];
    }
    // src[i] is not plain ASCII, or one of the last three bytes.
    const b = src[i];
    const c = BYTE_CLASS[b];
    if (c === 0) {
      out[o++] = b;
      i++;
    } else if (c === 2) {
      const n = utf8Sequence(src, i, end);
      if (n > 0) {
        out[o++] = b;
        for (let k = 1; k < n; k++) out[o++] = src[i + k];
        i += n;
      } else {
        out[o++] = 0xef;
        out[o++] = 0xbf;
        out[o++] = 0xbd;
        i -= n;
      }
    } else {
      out[o++] = BACKSLASH;
      const e = SHORT_ESCAPE[b];
      if (e !== 0) out[o++] = e;
      else {
        out[o++] = 0x75; // u
        out[o++] = 0x30;
        out[o++] = 0x30;
        out[o++] = HEX_DIGITS[b >> 4];
        out[o++] = HEX_DIGITS[b & 15];
      }
      i++;
    }
  }
  return o;
}

/** Writes a safe integer (|v| ≤ 2^53; -0 as 0) in decimal. */
export function writeSafeInteger(out: Uint8Array, o: number, v: number): number {
  if (v < 0) {
    out[o++] = 0x2d;
    v = -v;
  }
  if (v < 10) {
    out[o++] = 0x30 + v;
    return o;
  }
  let digits = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
  let p = o + digits;
  while (v >= 10) {
    const q = Math.floor(v / 10);
    out[--p] = 0x30 + (v - q * 10);
    v = q;
  }
  out[--p] = 0x30 + v;
  return o + digits;
}

/** Writes the int64 of the given halves in decimal, exactly. */
export function writeInt64(out: Uint8Array, o: number, lo: number, hi: number): number {
  if (hi >= -0x200000 && hi < 0x200000) {
    return writeSafeInteger(out, o, hi * 4294967296 + (lo >>> 0));
  }
  const text = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
  return writeAsciiString(out, o, text);
}

/** Writes a double as `JSON.stringify` does (non-finite → `null`). */
export function writeDouble(out: Uint8Array, o: number, v: number): number {
  if (v !== v || v === Infinity || v === -Infinity) return writeAscii(out, o, NULL_BYTES);
  if (Number.isInteger(v) && v <= 9007199254740992 && v >= -9007199254740992) {
    return writeSafeInteger(out, o, v);
  }
  return writeAsciiString(out, o, String(v));
}

/** Writes `src[i, end)` as padded base64 (`Uint8Array.prototype.toBase64`'s default). */
export function writeBase64(
  out: Uint8Array,
  o: number,
  src: Uint8Array,
  i: number,
  end: number,
): number {
  const d = BASE64_DIGITS;
  for (; i + 3 <= end; i += 3) {
    const n = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
    out[o++] = d[n >>> 18];
    out[o++] = d[(n >>> 12) & 63];
    out[o++] = d[(n >>> 6) & 63];
    out[o++] = d[n & 63];
  }
  const left = end - i;
  if (left === 1) {
    const n = src[i] << 16;
    out[o++] = d[n >>> 18];
    out[o++] = d[(n >>> 12) & 63];
    out[o++] = 0x3d;
    out[o++] = 0x3d;
  } else if (left === 2) {
    const n = (src[i] << 16) | (src[i + 1] << 8);
    out[o++] = d[n >>> 18];
    out[o++] = d[(n >>> 12) & 63];
    out[o++] = d[(n >>> 6) & 63];
    out[o++] = 0x3d;
  }
  return o;
}

/** Writes `true` or `false`. */
export function writeBool(out: Uint8Array, o: number, v: boolean): number {
  return writeAscii(out, o, v ? TRUE_BYTES : FALSE_BYTES);
}

/** Writes `src[i, end)` as lowercase hex, 8-4-4-4-12 when it is 16 bytes (a uuid). */
export function writeUuidHex(
  out: Uint8Array,
  o: number,
  src: Uint8Array,
  start: number,
  end: number,
): number {
  const dashes = end - start === 16;
  for (let i = start; i < end; i++) {
    const k = i - start;
    if (dashes && (k === 4 || k === 6 || k === 8 || k === 10)) out[o++] = 0x2d;
    const b = src[i];
    out[o++] = HEX_DIGITS[b >> 4];
    out[o++] = HEX_DIGITS[b & 15];
  }
  return o;
}

/** FNV-1a of `buf[start, end)`. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let k = start; k < end; k++) h = Math.imul(h ^ buf[k], 0x01000193);
  return h;
}

/** Whether `a[aStart, aEnd)` equals the bytes of `b` from `bStart`. */
export function sameBytes(
  a: Uint8Array,
  aStart: number,
  aEnd: number,
  b: Uint8Array,
  bStart: number,
): boolean {
  for (let k = aStart; k < aEnd; k++) if (a[k] !== b[bStart++]) return false;
  return true;
}
