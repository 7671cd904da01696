/**
 * The subscriber's JSON line shape (NDJSON, one object per message), after
 * the original Lagermeister's `ESJsonEncode` (itself from Heka's
 * ElasticSearch encoder), and {@link JsonLineWriter}, which writes it
 * straight from a message's protobuf bytes.
 *
 * Keys, in the order of the `fields` option (default: this order):
 *
 * | key | value |
 * | --- | --- |
 * | `Uuid` | 8-4-4-4-12 lowercase hex (`""` when absent) |
 * | `Timestamp` | RFC 3339 UTC with nanoseconds, trailing zeros trimmed like Go's RFC3339Nano (`2017-07-23T16:09:33.208510792Z`); absent = the epoch |
 * | `Type`, `Logger`, `Payload`, `EnvVersion`, `Hostname` | strings, `""` when absent |
 * | `Severity` | number, 7 when absent |
 * | `Pid` | number, 0 when absent |
 * | `Fields` | not a key: each dynamic field becomes its own key |
 *
 * Dynamic fields: exactly one value → that value; otherwise (several, or
 * none) → an array. Strings as JSON strings, bytes as base64 strings,
 * integers and doubles as JSON numbers (non-finite doubles → `null`), bools
 * as JSON booleans. Integers are written exactly, all 64 bits (beyond 2^53
 * too, where a JavaScript number would round). A dynamic field whose name
 * equals one of the default keys above is written as `"Fields.<name>"`
 * (e.g. `"Fields.Type"`) so it never clobbers the default key, whether or
 * not that key is selected. Fields that end up under the same key (a
 * repeated name) are merged into one array, at the position of the first.
 * Output is always valid JSON and valid UTF-8: invalid UTF-8 in string
 * fields reads as U+FFFD exactly as a non-fatal `TextDecoder` reads it
 * (maximal subparts), and control characters are escaped as
 * `JSON.stringify` escapes them.
 *
 * @module
 */
import protobuf from "protobufjs";
import { encodeMessage, HekaDecodeError } from "./codec.ts";
import type { HekaMessage } from "./message.ts";

/** Every name the `fields` option (and `SUB_FIELDS`) accepts, in default order. */
export const JSON_FIELD_NAMES = [
  "Uuid",
  "Timestamp",
  "Type",
  "Logger",
  "Severity",
  "Payload",
  "EnvVersion",
  "Pid",
  "Hostname",
  "Fields",
] as const;

/** One of {@link JSON_FIELD_NAMES}; `"Fields"` stands for all dynamic fields. */
export type JsonFieldName = typeof JSON_FIELD_NAMES[number];

/** Options of {@link JsonLineWriter} (and {@link JsonLineEncoder}). */
export interface JsonEncoderOptions {
  /**
   * Which keys to write, in this order; names as in {@link JSON_FIELD_NAMES}
   * (matched case-insensitively; `"DynamicFields"` is accepted for
   * `"Fields"`, as the original spelled it). Default: all, in that order.
   */
  fields?: readonly string[];
  /**
   * Whitelist of dynamic field names (exact match). Undefined or empty: all
   * (an empty list meant "all" in the original too; leave `"Fields"` out of
   * `fields` to write none).
   */
  dynamicFields?: readonly string[];
}

const CANONICAL: ReadonlyMap<string, JsonFieldName> = new Map<string, JsonFieldName>([
  ...JSON_FIELD_NAMES.map((n) => [n.toLowerCase(), n] as [string, JsonFieldName]),
  ["dynamicfields", "Fields"],
]);

/** The canonical spelling of a field-list name, or undefined when unknown. */
export function canonicalFieldName(name: string): JsonFieldName | undefined {
  return CANONICAL.get(name.trim().toLowerCase());
}

function checkedFieldList(names: readonly string[]): JsonFieldName[] {
  const out: JsonFieldName[] = [];
  for (const name of names) {
    const canonical = canonicalFieldName(name);
    if (canonical === undefined) {
      throw new RangeError(
        `unknown field ${JSON.stringify(name)}; valid names: ${JSON_FIELD_NAMES.join(", ")}`,
      );
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  if (out.length === 0) {
    throw new RangeError(`field list is empty; valid names: ${JSON_FIELD_NAMES.join(", ")}`);
  }
  return out;
}

/**
 * Parses a comma-separated field list such as `SUB_FIELDS`
 * (`"Uuid,Timestamp,Payload,Fields"`): names are trimmed, matched
 * case-insensitively and returned in canonical spelling, duplicates removed.
 * Throws RangeError naming the valid names for an unknown name or an empty
 * list.
 */
export function parseFieldList(text: string): JsonFieldName[] {
  return checkedFieldList(text.split(",").map((s) => s.trim()).filter((s) => s !== ""));
}

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

const FIELD_CODES: Record<JsonFieldName, number> = {
  Uuid: 0,
  Timestamp: 1,
  Type: 2,
  Logger: 3,
  Severity: 4,
  Payload: 5,
  EnvVersion: 6,
  Pid: 7,
  Hostname: 8,
  Fields: 9,
};

// ---------------------------------------------------------------------------
// Byte-level writing: protobuf bytes in, JSON UTF-8 bytes out.

const { Reader } = protobuf;
type ReaderT = protobuf.Reader;

const textEncoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

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
const FIELDS_PREFIX = textEncoder.encode("Fields.");
/** `"Key":` (and the opening quote of string values) of each default key, by field code. */
const KEY_BYTES: readonly Uint8Array[] = [
  '"Uuid":"',
  '"Timestamp":"',
  '"Type":"',
  '"Logger":"',
  '"Severity":',
  '"Payload":"',
  '"EnvVersion":"',
  '"Pid":',
  '"Hostname":"',
].map((s) => textEncoder.encode(s));
/** Names a dynamic field may not take as its key (they get the `Fields.` prefix). */
const RESERVED_NAMES: readonly Uint8Array[] = JSON_FIELD_NAMES.slice(0, 9).map((n) =>
  textEncoder.encode(n)
);

/** The two halves of the last int64 {@link readInt64} read: low bits, and high bits (signed). */
let i64lo = 0;
let i64hi = 0;

/** Where string and bytes fields live in the message: `Message` field number → index. */
const STRING_SLOT = [-1, 0, -1, 1, 2, -1, 3, 4, -1, 5];
const UUID_SLOT = 0;

/** Per dynamic field, `FIELD_STRIDE` Int32 slots at these offsets. */
const F_START = 0; // first byte of the `Field` message
const F_END = 1; // end of the `Field` message
const F_NAME = 2; // start of the name bytes, -1 when absent
const F_NAME_END = 3;
const F_KIND = 4; // value type: 0 string (and unknown types), 1 bytes, 2 integer, 3 double, 4 bool
const F_COUNT = 5; // values of that type
const F_KEY = 6; // the key's escaped bytes in #keys, -1 when the field is not written
const F_KEY_END = 7;
const F_HASH = 8; // hash of the key bytes
const F_NEXT = 9; // next field under the same key, -1 at the end
const F_LAST = 10; // of a group's first field: the group's last field
const F_SIZE = 11; // of a group's first field: fields in the group; 0 for the others
const FIELD_STRIDE = 12;

function expectWireType(actual: number, expected: number): void {
  if (actual !== expected) throw new RangeError(`wire type ${actual}, expected ${expected}`);
}

/** `r.uint32()`, with the common one-byte case inline (same result, same checks). */
function uint32(r: ReaderT): number {
  const pos = r.pos;
  if (pos < r.len) {
    const b = r.buf[pos];
    if (b < 0x80) {
      r.pos = pos + 1;
      return b;
    }
  }
  return r.uint32();
}

/** Skips a length-delimited value (checking it fits); returns its start. */
function delimited(r: ReaderT, what: string): number {
  const len = uint32(r);
  const start = r.pos;
  const end = start + len;
  if (end > r.len) throw new RangeError(`${what} of ${len} bytes overruns the message`);
  r.pos = end;
  return start;
}

/**
 * Reads an int64 varint into {@link i64lo}/{@link i64hi}, with exactly the
 * checks of the codec's decoder (at most 10 bytes, within the message).
 */
function readInt64(r: ReaderT): void {
  const buf = r.buf;
  const len = r.len;
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let i = r.pos;
  for (; shift < 28; shift += 7) {
    if (i >= len) throw new RangeError("varint overruns the message");
    const b = buf[i++];
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.pos = i;
      i64lo = lo;
      i64hi = 0;
      return;
    }
  }
  if (i >= len) throw new RangeError("varint overruns the message");
  let b = buf[i++];
  lo |= (b & 0x0f) << 28;
  hi = (b & 0x7f) >> 4;
  if (b >= 0x80) {
    for (shift = 3; shift < 32; shift += 7) {
      if (i >= len) throw new RangeError("varint overruns the message");
      b = buf[i++];
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    if (b >= 0x80) throw new RangeError("varint longer than 10 bytes");
  }
  r.pos = i;
  i64lo = lo;
  i64hi = hi;
}

function writeAscii(out: Uint8Array, o: number, bytes: Uint8Array): number {
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
 * Writes the bytes `src[i, end)` as the body of a JSON string (no quotes):
 * the UTF-8 of `JSON.stringify(new TextDecoder().decode(bytes))` without
 * its quotes. `outView` is a DataView of all of `out`, `srcView` one of
 * `src`'s buffer, where `src` starts at `srcBase`. Needs up to 6 output
 * bytes per input byte.
 *
 * Eight or four bytes at a time while they are plain ASCII (no control
 * character, quote, backslash or byte ≥ 0x80), byte by byte around the
 * others.
 */
function writeJsonString(
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
    // A word is plain when no byte is < 0x20 or ≥ 0x80 (w | w - 0x20…) and
    // none is a quote or a backslash (a zero byte in w ^ 0x22… or w ^ 0x5c…);
    // borrows between bytes only flag words that hold such a byte anyway.
    if (i <= last8) {
      const w = srcView.getUint32(srcBase + i, true);
      const x = srcView.getUint32(srcBase + i + 4, true);
      if (
        ((w | x | (w - 0x20202020) | (x - 0x20202020) | ((w ^ 0x22222222) - 0x01010101) |
          ((w ^ 0x5c5c5c5c) - 0x01010101) | ((x ^ 0x22222222) - 0x01010101) |
          ((x ^ 0x5c5c5c5c) - 0x01010101)) & 0x80808080) === 0
      ) {
        outView.setUint32(o, w, true);
        outView.setUint32(o + 4, x, true);
        i += 8;
        o += 8;
        continue;
      }
    }
    if (i <= last4) {
      const w = srcView.getUint32(srcBase + i, true);
      if (
        ((w | (w - 0x20202020) | ((w ^ 0x22222222) - 0x01010101) |
          ((w ^ 0x5c5c5c5c) - 0x01010101)) & 0x80808080) === 0
      ) {
        outView.setUint32(o, w, true);
        i += 4;
        o += 4;
        continue;
      }
    }
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
function writeSafeInteger(out: Uint8Array, o: number, v: number): number {
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
function writeInt64(out: Uint8Array, o: number, lo: number, hi: number): number {
  if (hi >= -0x200000 && hi < 0x200000) {
    return writeSafeInteger(out, o, hi * 4294967296 + (lo >>> 0));
  }
  const text = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
  return writeAsciiString(out, o, text);
}

/** Writes a double as `JSON.stringify` does (non-finite → `null`). */
function writeDouble(out: Uint8Array, o: number, v: number): number {
  if (v !== v || v === Infinity || v === -Infinity) return writeAscii(out, o, NULL_BYTES);
  if (Number.isInteger(v) && v <= 9007199254740992 && v >= -9007199254740992) {
    return writeSafeInteger(out, o, v);
  }
  return writeAsciiString(out, o, String(v));
}

/** Writes `src[i, end)` as padded base64 (`Uint8Array.prototype.toBase64`'s default). */
function writeBase64(out: Uint8Array, o: number, src: Uint8Array, i: number, end: number): number {
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

/** FNV-1a of `buf[start, end)`. */
function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let k = start; k < end; k++) h = Math.imul(h ^ buf[k], 0x01000193);
  return h;
}

function sameBytes(
  a: Uint8Array,
  aStart: number,
  aEnd: number,
  b: Uint8Array,
  bStart: number,
): boolean {
  for (let k = aStart; k < aEnd; k++) if (a[k] !== b[bStart++]) return false;
  return true;
}

function isReservedName(buf: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len < 3 || len > 10) return false;
  for (const name of RESERVED_NAMES) {
    if (name.length === len && sameBytes(name, 0, len, buf, start)) return true;
  }
  return false;
}

/**
 * Writes Heka messages as single-line JSON objects (no trailing newline) in
 * the shape described in this module's documentation, straight from their
 * protobuf bytes: no decoded message, no JavaScript strings for names and
 * values. Build one per configuration and reuse it; `encode` is a hot path.
 */
export class JsonLineWriter {
  /** The selected keys, canonical spelling, in output order. */
  readonly fields: readonly JsonFieldName[];
  /** The dynamic field whitelist, or undefined for all. */
  readonly dynamicFields: ReadonlySet<string> | undefined;
  readonly #codes: Int32Array;
  /** Whitelisted names, as escaped JSON string bodies, by {@link hashBytes}. */
  readonly #allow: Map<number, Uint8Array[]> | undefined;
  readonly #r: ReaderT = new Reader(new Uint8Array(0));
  #out = new Uint8Array(8192);
  #outView = new DataView(this.#out.buffer);
  /** A DataView of the buffer of the message being written (kept for the next one, which often shares it). */
  #srcView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  /** The buffer #srcView is a view of, and where the message starts in it. */
  #srcBuffer: ArrayBufferLike | undefined;
  #srcBase = 0;
  /** Escaped keys of the dynamic fields of the message being written. */
  #keys = new Uint8Array(1024);
  #keysView = new DataView(this.#keys.buffer);
  /** Per dynamic field, see `F_*`. */
  #f = new Int32Array(32 * FIELD_STRIDE);
  #fieldCount = 0;
  /** Open-addressing table of field indexes + 1, by key hash. */
  #slots = new Int32Array(64);
  /** Start and end of each string and bytes field, by `STRING_SLOT`; -1 when absent. */
  readonly #strings = new Int32Array(12);
  #tsLo = 0;
  #tsHi = 0;
  #severity = 0;
  #pid = 0;
  /** The last split Timestamp (see #splitTimestamp). */
  #tsSeconds = 0;
  #tsNanos = 0;
  /** Scratch of {@link valueOf}. */
  #value = new Uint8Array(256);
  #valueView = new DataView(this.#value.buffer);
  /** The seconds whose `YYYY-MM-DDTHH:MM:SS` is in #tsPrefix. */
  #tsSecond = Number.NaN;
  readonly #tsPrefix = new Uint8Array(19);

  /** Validates the options; throws RangeError on an unknown or empty field list. */
  constructor(options: JsonEncoderOptions = {}) {
    this.fields = options.fields === undefined
      ? [...JSON_FIELD_NAMES]
      : checkedFieldList(options.fields);
    this.#codes = Int32Array.from(this.fields, (n) => FIELD_CODES[n]);
    const dyn = options.dynamicFields;
    this.dynamicFields = dyn === undefined || dyn.length === 0 ? undefined : new Set(dyn);
    if (this.dynamicFields !== undefined) {
      const allow = new Map<number, Uint8Array[]>();
      for (const name of this.dynamicFields) {
        const body = textEncoder.encode(JSON.stringify(name).slice(1, -1));
        const h = hashBytes(body, 0, body.length);
        const list = allow.get(h);
        if (list === undefined) allow.set(h, [body]);
        else list.push(body);
      }
      this.#allow = allow;
    }
  }

  /**
   * One JSON object for the Heka `Message` in `messageBytes`, without a
   * newline, as UTF-8: a view into a buffer of this writer that is valid
   * until its next `encode`. Throws {@link HekaDecodeError} for bytes that
   * `decodeMessage` rejects (exactly those).
   */
  encode(messageBytes: Uint8Array): Uint8Array {
    try {
      this.#scan(messageBytes);
    } catch (err) {
      throw new HekaDecodeError(
        `undecodable protobuf message: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    // No input byte takes more than 6 output bytes (a `\u00XX` escape); the
    // keys and defaults fit in the rest.
    const need = messageBytes.length * 6 + 512;
    if (this.#out.length < need) {
      this.#out = new Uint8Array(Math.max(need, this.#out.length * 2));
      this.#outView = new DataView(this.#out.buffer);
    }
    const out = this.#out;
    const outView = this.#outView;
    const src = messageBytes;
    // Messages often share a buffer (a socket read): one DataView for all of them.
    if (src.buffer !== this.#srcBuffer) {
      this.#srcBuffer = src.buffer;
      this.#srcView = new DataView(src.buffer);
    }
    const srcView = this.#srcView;
    const srcBase = src.byteOffset;
    this.#srcBase = srcBase;
    const strings = this.#strings;
    const codes = this.#codes;
    let o = 0;
    out[o++] = 0x7b; // {
    for (let c = 0; c < codes.length; c++) {
      const code = codes[c];
      switch (code) {
        case 0:
          o = writeAscii(out, o, KEY_BYTES[0]);
          o = this.#writeUuid(out, o, src);
          out[o++] = QUOTE;
          break;
        case 1:
          o = writeAscii(out, o, KEY_BYTES[1]);
          o = this.#writeTimestamp(out, o);
          out[o++] = QUOTE;
          break;
        case 4:
          o = writeAscii(out, o, KEY_BYTES[4]);
          o = writeSafeInteger(out, o, this.#severity);
          break;
        case 7:
          o = writeAscii(out, o, KEY_BYTES[7]);
          o = writeSafeInteger(out, o, this.#pid);
          break;
        case 9: {
          const at = this.#writeDynamic(out, o, src);
          if (at === o) continue; // no dynamic fields: no key at all
          o = at;
          break;
        }
        default: {
          // Type, Logger, Payload, EnvVersion, Hostname
          o = writeAscii(out, o, KEY_BYTES[code]);
          const slot = STRING_SLOT[code + 1]; // field code + 1 = `Message` field number
          const start = strings[slot * 2];
          if (start >= 0) {
            o = writeJsonString(
              out,
              outView,
              o,
              src,
              srcView,
              srcBase,
              start,
              strings[slot * 2 + 1],
            );
          }
          out[o++] = QUOTE;
        }
      }
      out[o++] = COMMA;
    }
    if (o > 1) o--;
    out[o++] = 0x7d; // }
    return out.subarray(0, o);
  }

  /**
   * The JSON value (a quoted, escaped string or a number, as in the line)
   * of one key of the message last passed to {@link encode}, whether or not
   * that key is selected: a view into a buffer of this writer, valid until
   * the next `valueOf` or `encode`. Request builders use it for what their
   * store needs besides the line (an `_id`, a host, labels). `"Fields"` is
   * not a value: it throws RangeError.
   */
  valueOf(name: JsonFieldName): Uint8Array {
    const code = FIELD_CODES[name];
    const src = this.#r.buf;
    const strings = this.#strings;
    let need = 64;
    const slot = code === 9 ? -1 : STRING_SLOT[code + 1];
    if (slot >= 0 && strings[slot * 2] >= 0) {
      need += (strings[slot * 2 + 1] - strings[slot * 2]) * 6;
    }
    if (this.#value.length < need) {
      this.#value = new Uint8Array(need * 2);
      this.#valueView = new DataView(this.#value.buffer);
    }
    const out = this.#value;
    let o = 0;
    switch (code) {
      case 0:
        out[o++] = QUOTE;
        o = this.#writeUuid(out, o, src);
        out[o++] = QUOTE;
        break;
      case 1:
        out[o++] = QUOTE;
        o = this.#writeTimestamp(out, o);
        out[o++] = QUOTE;
        break;
      case 4:
        o = writeSafeInteger(out, o, this.#severity);
        break;
      case 7:
        o = writeSafeInteger(out, o, this.#pid);
        break;
      case 9:
        throw new RangeError("Fields has no single value");
      default: {
        out[o++] = QUOTE;
        const start = strings[slot * 2];
        if (start >= 0) {
          o = writeJsonString(
            out,
            this.#valueView,
            o,
            src,
            this.#srcView,
            this.#srcBase,
            start,
            strings[slot * 2 + 1],
          );
        }
        out[o++] = QUOTE;
      }
    }
    return out.subarray(0, o);
  }

  /**
   * The Timestamp of the message last passed to {@link encode}, split into
   * whole seconds since the epoch (floor) and nanoseconds (0 to 999,999,999),
   * both exact.
   */
  timestampParts(): { seconds: number; nanos: number } {
    this.#splitTimestamp();
    return { seconds: this.#tsSeconds, nanos: this.#tsNanos };
  }

  /** Walks the message, validating it as `decodeMessage` does and noting where everything is. */
  #scan(bytes: Uint8Array): void {
    const r = this.#r;
    r.buf = bytes;
    r.pos = 0;
    r.len = bytes.length;
    const strings = this.#strings;
    strings.fill(-1);
    this.#tsLo = 0;
    this.#tsHi = 0;
    this.#severity = 7;
    this.#pid = 0;
    this.#fieldCount = 0;
    while (r.pos < r.len) {
      const tag = uint32(r);
      const wt = tag & 7;
      const no = tag >>> 3;
      switch (no) {
        case 1:
        case 3:
        case 4:
        case 6:
        case 7:
        case 9: {
          expectWireType(wt, 2);
          const start = delimited(r, no === 1 ? "bytes" : "string");
          const slot = STRING_SLOT[no];
          strings[slot * 2] = start;
          strings[slot * 2 + 1] = r.pos;
          break;
        }
        case 2:
          expectWireType(wt, 0);
          readInt64(r);
          this.#tsLo = i64lo;
          this.#tsHi = i64hi;
          break;
        case 5:
          expectWireType(wt, 0);
          this.#severity = r.int32();
          break;
        case 8:
          expectWireType(wt, 0);
          this.#pid = r.int32();
          break;
        case 10: {
          if (wt !== 2) throw new RangeError("fields must be length-delimited");
          const end = uint32(r) + r.pos;
          if (end > r.len) throw new RangeError("field overruns the message");
          this.#scanField(r, end);
          break;
        }
        default:
          if (tag === 0) throw new RangeError("zero tag");
          r.skipType(wt);
      }
    }
  }

  /** Validates one `Field` (as the codec's `decodeField`) and notes it. */
  #scanField(r: ReaderT, end: number): void {
    const index = this.#fieldCount++;
    if ((index + 1) * FIELD_STRIDE > this.#f.length) {
      const grown = new Int32Array(this.#f.length * 2);
      grown.set(this.#f);
      this.#f = grown;
    }
    const start = r.pos;
    let name = -1;
    let nameEnd = -1;
    let valueType = 0;
    let strings = 0;
    let bytes = 0;
    let integers = 0;
    let doubles = 0;
    let bools = 0;
    while (r.pos < end) {
      const tag = uint32(r);
      const wt = tag & 7;
      switch (tag >>> 3) {
        case 1:
          expectWireType(wt, 2);
          name = delimited(r, "string");
          nameEnd = r.pos;
          break;
        case 2:
          expectWireType(wt, 0);
          valueType = r.int32();
          break;
        case 3:
          expectWireType(wt, 2);
          delimited(r, "string");
          break;
        case 4:
          expectWireType(wt, 2);
          delimited(r, "string");
          strings++;
          break;
        case 5:
          expectWireType(wt, 2);
          delimited(r, "bytes");
          bytes++;
          break;
        case 6:
          if (wt === 2) {
            const e = uint32(r) + r.pos;
            if (e > r.len) throw new RangeError("packed field overruns the message");
            while (r.pos < e) {
              readInt64(r);
              integers++;
            }
            if (r.pos !== e) throw new RangeError("packed value overruns its field");
          } else {
            expectWireType(wt, 0);
            readInt64(r);
            integers++;
          }
          break;
        case 7:
          if (wt === 2) {
            const e = uint32(r) + r.pos;
            if (e > r.len) throw new RangeError("packed field overruns the message");
            while (r.pos < e) {
              if (r.pos + 8 > r.len) throw new RangeError("double overruns the message");
              r.pos += 8;
              doubles++;
            }
            if (r.pos !== e) throw new RangeError("packed value overruns its field");
          } else {
            expectWireType(wt, 1);
            if (r.pos + 8 > r.len) throw new RangeError("double overruns the message");
            r.pos += 8;
            doubles++;
          }
          break;
        case 8:
          if (wt === 2) {
            const e = uint32(r) + r.pos;
            if (e > r.len) throw new RangeError("packed field overruns the message");
            while (r.pos < e) {
              uint32(r);
              bools++;
            }
            if (r.pos !== e) throw new RangeError("packed value overruns its field");
          } else {
            expectWireType(wt, 0);
            uint32(r);
            bools++;
          }
          break;
        default:
          r.skipType(wt);
      }
    }
    if (r.pos !== end) throw new RangeError("field overruns its length");
    const kind = valueType >= 1 && valueType <= 4 ? valueType : 0;
    const f = this.#f;
    const base = index * FIELD_STRIDE;
    f[base + F_START] = start;
    f[base + F_END] = end;
    f[base + F_NAME] = name;
    f[base + F_NAME_END] = nameEnd;
    f[base + F_KIND] = kind;
    f[base + F_COUNT] = kind === 0
      ? strings
      : kind === 1
      ? bytes
      : kind === 2
      ? integers
      : kind === 3
      ? doubles
      : bools;
  }

  #writeUuid(out: Uint8Array, o: number, src: Uint8Array): number {
    const start = this.#strings[UUID_SLOT * 2];
    if (start < 0) return o;
    const end = this.#strings[UUID_SLOT * 2 + 1];
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

  /** Sets #tsSeconds and #tsNanos from #tsLo and #tsHi, without a BigInt. */
  #splitTimestamp(): void {
    const lo = this.#tsLo;
    const hi = this.#tsHi;
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
    this.#tsSeconds = seconds;
    this.#tsNanos = nanos;
  }

  /** Writes the timestamp as {@link formatTimestamp} formats it, without a BigInt. */
  #writeTimestamp(out: Uint8Array, o: number): number {
    this.#splitTimestamp();
    const seconds = this.#tsSeconds;
    let nanos = this.#tsNanos;
    const prefix = this.#tsPrefix;
    if (seconds !== this.#tsSecond) {
      const text = new Date(seconds * 1000).toISOString();
      for (let k = 0; k < 19; k++) prefix[k] = text.charCodeAt(k);
      this.#tsSecond = seconds;
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

  /**
   * Writes the dynamic fields as `"key":value` pairs joined by commas;
   * returns `o` unchanged when there are none to write.
   */
  #writeDynamic(out: Uint8Array, o: number, src: Uint8Array): number {
    const srcView = this.#srcView;
    const srcBase = this.#srcBase;
    const n = this.#fieldCount;
    if (n === 0) return o;
    const f = this.#f;
    const allow = this.#allow;
    let slotCount = 16;
    while (slotCount < n * 2) slotCount *= 2;
    if (this.#slots.length < slotCount) this.#slots = new Int32Array(slotCount);
    const slots = this.#slots;
    slots.fill(0, 0, slotCount);
    const mask = slotCount - 1;
    let keys = this.#keys;
    let kpos = 0;
    let written = 0;
    for (let i = 0; i < n; i++) {
      const base = i * FIELD_STRIDE;
      const name = f[base + F_NAME];
      const nameEnd = f[base + F_NAME_END];
      const room = kpos + FIELDS_PREFIX.length + (name < 0 ? 0 : (nameEnd - name) * 6);
      if (room > keys.length) {
        const grown = new Uint8Array(Math.max(room, keys.length * 2));
        grown.set(keys.subarray(0, kpos));
        keys = this.#keys = grown;
        this.#keysView = new DataView(grown.buffer);
      }
      // Leave room for the "Fields." prefix before the name.
      const bodyStart = kpos + FIELDS_PREFIX.length;
      const keyEnd = name < 0
        ? bodyStart
        : writeJsonString(keys, this.#keysView, bodyStart, src, srcView, srcBase, name, nameEnd);
      if (allow !== undefined && !allowed(allow, keys, bodyStart, keyEnd)) {
        f[base + F_KEY] = -1;
        continue;
      }
      let keyStart = bodyStart;
      if (isReservedName(keys, bodyStart, keyEnd)) {
        keyStart = kpos;
        keys.set(FIELDS_PREFIX, kpos);
      }
      const h = hashBytes(keys, keyStart, keyEnd);
      f[base + F_KEY] = keyStart;
      f[base + F_KEY_END] = keyEnd;
      f[base + F_HASH] = h;
      f[base + F_NEXT] = -1;
      kpos = keyEnd;
      // Group fields by key, in order of first appearance.
      for (let s = h & mask;; s = (s + 1) & mask) {
        const entry = slots[s];
        if (entry === 0) {
          slots[s] = i + 1;
          f[base + F_LAST] = i;
          f[base + F_SIZE] = 1;
          break;
        }
        const first = (entry - 1) * FIELD_STRIDE;
        const firstKey = f[first + F_KEY];
        if (
          f[first + F_HASH] === h && f[first + F_KEY_END] - firstKey === keyEnd - keyStart &&
          sameBytes(keys, keyStart, keyEnd, keys, firstKey)
        ) {
          f[f[first + F_LAST] * FIELD_STRIDE + F_NEXT] = i;
          f[first + F_LAST] = i;
          f[first + F_SIZE]++;
          f[base + F_SIZE] = 0;
          break;
        }
      }
      written++;
    }
    if (written === 0) return o;
    const start = o;
    for (let i = 0; i < n; i++) {
      const base = i * FIELD_STRIDE;
      const size = f[base + F_SIZE];
      if (f[base + F_KEY] < 0 || size === 0) continue;
      if (o !== start) out[o++] = COMMA;
      out[o++] = QUOTE;
      for (let k = f[base + F_KEY], end = f[base + F_KEY_END]; k < end; k++) out[o++] = keys[k];
      out[o++] = QUOTE;
      out[o++] = COLON;
      if (size === 1 && f[base + F_COUNT] === 1) {
        o = this.#writeValues(out, o, src, i, false);
      } else {
        out[o++] = LBRACKET;
        let comma = false;
        for (let j = i; j >= 0; j = f[j * FIELD_STRIDE + F_NEXT]) {
          if (f[j * FIELD_STRIDE + F_COUNT] === 0) continue;
          o = this.#writeValues(out, o, src, j, comma);
          comma = true;
        }
        out[o++] = RBRACKET;
      }
    }
    return o;
  }

  /** Writes the values of dynamic field `index` (of its value type), comma-separated. */
  #writeValues(
    out: Uint8Array,
    o: number,
    src: Uint8Array,
    index: number,
    comma: boolean,
  ): number {
    const f = this.#f;
    const base = index * FIELD_STRIDE;
    const kind = f[base + F_KIND];
    const end = f[base + F_END];
    const r = this.#r;
    const srcView = this.#srcView;
    const srcBase = this.#srcBase;
    r.pos = f[base + F_START];
    // The field was validated by #scanField: no checks needed here.
    while (r.pos < end) {
      const tag = uint32(r);
      const wt = tag & 7;
      switch (tag >>> 3) {
        case 1:
        case 3: {
          const len = uint32(r);
          r.pos += len;
          break;
        }
        case 2:
          uint32(r);
          break;
        case 4:
        case 5: {
          const len = uint32(r);
          const start = r.pos;
          r.pos += len;
          if (kind !== (tag >>> 3) - 4) break;
          if (comma) out[o++] = COMMA;
          comma = true;
          out[o++] = QUOTE;
          o = kind === 0
            ? writeJsonString(out, this.#outView, o, src, srcView, srcBase, start, start + len)
            : writeBase64(out, o, src, start, start + len);
          out[o++] = QUOTE;
          break;
        }
        case 6:
          if (wt === 2) {
            const e = uint32(r) + r.pos;
            if (kind !== 2) {
              r.pos = e;
              break;
            }
            while (r.pos < e) {
              readInt64(r);
              if (comma) out[o++] = COMMA;
              comma = true;
              o = writeInt64(out, o, i64lo, i64hi);
            }
          } else {
            readInt64(r);
            if (kind !== 2) break;
            if (comma) out[o++] = COMMA;
            comma = true;
            o = writeInt64(out, o, i64lo, i64hi);
          }
          break;
        case 7: {
          const e = wt === 2 ? uint32(r) + r.pos : r.pos + 8;
          if (kind === 3) {
            for (let p = r.pos; p < e; p += 8) {
              if (comma) out[o++] = COMMA;
              comma = true;
              o = writeDouble(out, o, srcView.getFloat64(srcBase + p, true));
            }
          }
          r.pos = e;
          break;
        }
        case 8:
          if (wt === 2) {
            const e = uint32(r) + r.pos;
            if (kind !== 4) {
              r.pos = e;
              break;
            }
            while (r.pos < e) {
              const v = uint32(r);
              if (comma) out[o++] = COMMA;
              comma = true;
              o = writeAscii(out, o, v !== 0 ? TRUE_BYTES : FALSE_BYTES);
            }
          } else {
            const v = uint32(r);
            if (kind !== 4) break;
            if (comma) out[o++] = COMMA;
            comma = true;
            o = writeAscii(out, o, v !== 0 ? TRUE_BYTES : FALSE_BYTES);
          }
          break;
        default:
          r.skipType(wt);
      }
    }
    return o;
  }
}

function allowed(
  allow: Map<number, Uint8Array[]>,
  buf: Uint8Array,
  start: number,
  end: number,
): boolean {
  const list = allow.get(hashBytes(buf, start, end));
  if (list === undefined) return false;
  for (const name of list) {
    if (name.length === end - start && sameBytes(name, 0, name.length, buf, start)) return true;
  }
  return false;
}

/**
 * The subscriber's line shape for decoded messages, as a string: kept for
 * the subscriber's settings (which validate the options with it) and for
 * callers that hold a decoded {@link HekaMessage}. It re-encodes the message
 * and runs {@link JsonLineWriter} on the bytes, so there is one JSON
 * implementation; hot paths should use {@link JsonLineWriter} on the bytes
 * they have. Strings are written as their UTF-8 on the wire (lone
 * surrogates, which decoded messages never hold, become U+FFFD) and
 * integers as the message's numbers.
 */
export class JsonLineEncoder {
  /** The selected keys, canonical spelling, in output order. */
  readonly fields: readonly JsonFieldName[];
  /** The dynamic field whitelist, or undefined for all. */
  readonly dynamicFields: ReadonlySet<string> | undefined;
  readonly #writer: JsonLineWriter;

  /** Validates the options; throws RangeError on an unknown or empty field list. */
  constructor(options: JsonEncoderOptions = {}) {
    this.#writer = new JsonLineWriter(options);
    this.fields = this.#writer.fields;
    this.dynamicFields = this.#writer.dynamicFields;
  }

  /** The options this encoder was built with, canonical (for a {@link JsonLineWriter}). */
  get options(): JsonEncoderOptions {
    return {
      fields: this.fields,
      dynamicFields: this.dynamicFields === undefined ? undefined : [...this.dynamicFields],
    };
  }

  /** One JSON object for `msg`, without a newline. */
  encode(msg: HekaMessage): string {
    return utf8.decode(this.#writer.encode(encodeMessage(msg)));
  }
}
