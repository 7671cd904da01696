/**
 * Reading Heka's protobuf wire format: the varint readers and the checked
 * length-delimited read (on protobufjs's `Reader`: its `buf`, `pos` and
 * `len`), and {@link MessageScanner}, the one validating walk over a
 * `Message`, driven by the field tables of message.ts. It checks everything
 * `decodeMessage` promises (wire types of known fields, lengths, varints,
 * packed values, embedded `Field`s) and notes where each value is, in typed
 * arrays it reuses: no strings, no objects per message. The codec's
 * `decodeMessage` and `scanMessage` and the JSON line writer all read its
 * layout, so they accept and reject exactly the same bytes.
 *
 * The readers keep protobufjs's results and checks exactly (its `uint32`
 * and `int32` for 32-bit varints, with the one-byte case inline). They live
 * in this module with the scanner on purpose: V8 runs the walk about a fifth
 * faster when its readers are local functions than when they are imported,
 * and the constants of the hot loops are module-local for the same reason.
 *
 * @module
 */
import protobuf from "protobufjs";
import {
  FIELD_MEMBERS,
  FieldMember,
  MESSAGE_FIELDS,
  MessageField,
  WireType,
  type WireValue,
} from "./message.ts";

/** A cursor over protobuf bytes: protobufjs's `Reader`. */
export type WireReader = protobuf.Reader;

/** A reader over `bytes`. */
export function newWireReader(bytes: Uint8Array): WireReader {
  return protobuf.Reader.create(bytes);
}

/** The tag (key) of field `fieldNumber` with `wireType`. */
export function wireTag(fieldNumber: number, wireType: WireType): number {
  return (fieldNumber << 3) | wireType;
}

/** Rejects a known field sent with the wrong wire type (as Go's generated decoders do). */
export function expectWireType(actual: number, expected: WireType): void {
  if (actual !== expected) throw new RangeError(`wire type ${actual}, expected ${expected}`);
}

/** Reads a 32-bit varint: `r.uint32()`, with the common one-byte case inline (same result, same checks). */
export function readUint32(r: WireReader): number {
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

/** Reads an int32 varint (`r.int32()`). */
export function readInt32(r: WireReader): number {
  return readUint32(r) | 0;
}

/** The halves of the int64 the last {@link readInt64} read: `[low 32 bits, high 32 bits]`, both signed. */
export const int64Halves: Int32Array = new Int32Array(2);

/**
 * Reads an int64 varint into {@link int64Halves}, without a BigInt. Throws
 * RangeError when it is longer than 10 bytes or runs past the message.
 */
export function readInt64(r: WireReader): void {
  const buf = r.buf;
  const len = r.len;
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let i = r.pos;
  // low 28 bits
  for (; shift < 28; shift += 7) {
    if (i >= len) throw new RangeError("varint overruns the message");
    const b = buf[i++];
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.pos = i;
      int64Halves[0] = lo;
      int64Halves[1] = 0;
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
  int64Halves[0] = lo;
  int64Halves[1] = hi;
}

/** The int64 of two halves as a bigint, exactly. */
export function int64ToBigInt(lo: number, hi: number): bigint {
  if (hi === 0) return BigInt(lo >>> 0);
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

/**
 * The int64 of two halves as the nearest number (exact up to 2^53): both
 * terms are exact doubles and one addition rounds correctly, as
 * `Number(bigint)` does.
 */
export function int64ToNumber(lo: number, hi: number): number {
  return hi * 4294967296 + (lo >>> 0);
}

/**
 * Reads the next tag of a message whose fields' wire types are `wireTypes`
 * (by number, -1 for unknown numbers). Returns the number of a known field,
 * its wire type checked, with the reader at its value; or -1 after skipping
 * an unknown field. A zero tag is an error.
 */
export function readKnownField(r: WireReader, wireTypes: Int8Array): number {
  const tag = readUint32(r);
  const no = tag >>> 3;
  const want = no < wireTypes.length ? wireTypes[no] : -1;
  if (want < 0) {
    if (tag === 0) throw new RangeError("zero tag");
    r.skipType(tag & 7);
    return -1;
  }
  expectWireType(tag & 7, want as WireType);
  return no;
}

/**
 * Reads the length of a length-delimited value and skips it, checking it
 * fits in the message; returns where the value starts (`r.pos` is its end).
 * `what` names the value in the error.
 */
export function readDelimited(r: WireReader, what: string): number {
  const len = readUint32(r);
  const start = r.pos;
  const end = start + len;
  if (end > r.len) throw new RangeError(`${what} of ${len} bytes overruns the message`);
  r.pos = end;
  return start;
}

// Module-local copies of the constants the walk tests (see the module doc).
const LEN = WireType.LEN;
/** How the walk reads a value: {@link WireValue} as a small number, for the tables below. */
const AS_BYTES = 0;
const AS_STRING = 1;
const AS_INT32 = 2;
const AS_INT64 = 3;
const AS_DOUBLE = 4;
const AS_BOOL = 5;
const AS_FIELD = 6;
const READ_AS: Record<WireValue, number> = {
  bytes: AS_BYTES,
  string: AS_STRING,
  int32: AS_INT32,
  int64: AS_INT64,
  double: AS_DOUBLE,
  bool: AS_BOOL,
  field: AS_FIELD,
};
const { name: NAME, representation: REPRESENTATION } = FieldMember;
const UUID = MessageField.uuid;

/** The wire type of each known field, by number; -1 for unknown numbers. */
function wireTypes(table: readonly { number: number; wireType: number }[]): Int8Array {
  const out = new Int8Array(table[table.length - 1].number + 1).fill(-1);
  for (const f of table) out[f.number] = f.wireType;
  return out;
}

/** How each known field's value is read (`AS_*`), by number. */
function wireValues(table: readonly { number: number; value: WireValue }[]): Int8Array {
  const out = new Int8Array(table[table.length - 1].number + 1).fill(-1);
  for (const f of table) out[f.number] = READ_AS[f.value];
  return out;
}

const MESSAGE_WIRE = wireTypes(MESSAGE_FIELDS);
const MESSAGE_VALUE = wireValues(MESSAGE_FIELDS);
const MEMBER_WIRE = wireTypes(FIELD_MEMBERS);
const MEMBER_VALUE = wireValues(FIELD_MEMBERS);
const MEMBER_PACKED = Uint8Array.from(
  { length: MEMBER_WIRE.length },
  (_, n) => FIELD_MEMBERS.some((m) => m.number === n && m.packed) ? 1 : 0,
);

/** Per `Field`, {@link FIELD_STRIDE} Int32 slots at these offsets in {@link MessageScanner.fields}. */
export const F_NAME = 0; // start of the name bytes, -1 when absent
export const F_NAME_END = 1;
export const F_VALUE_TYPE = 2; // the value_type as sent (0 when absent)
export const F_REPRESENTATION = 3; // start of the representation bytes, -1 when absent
export const F_REPRESENTATION_END = 4;
export const F_VALUES = 5; // index of its first value in `values`
export const F_VALUE_COUNT = 6; // its values, of every member
/** Int32 slots per `Field`. */
export const FIELD_STRIDE = 7;

/**
 * Per value of a `Field`, {@link VALUE_STRIDE} Int32 slots in
 * {@link MessageScanner.values}: the member number (4 to 8), then
 * start and end (strings, bytes), low and high halves (integers), the
 * position of the 8 bytes (doubles) or 0/1 (bools).
 */
export const V_MEMBER = 0;
export const V_A = 1;
export const V_B = 2;
/** Int32 slots per value. */
export const VALUE_STRIDE = 3;

/**
 * Walks `Message` bytes once, validating them and noting where every field
 * is. Reuse one per caller: `scan` resets it, and the layout stays valid until
 * the next `scan`.
 */
export class MessageScanner {
  /** The reader over the last scanned bytes. */
  readonly reader: WireReader = newWireReader(new Uint8Array(0));
  /**
   * Per `Message` field number, where its (last) value is: start and end of
   * length-delimited values, start and end of the varint for the others;
   * start -1 when absent.
   */
  readonly spans: Int32Array = new Int32Array(MESSAGE_WIRE.length * 2).fill(-1);
  /** The value of each int32 field (severity, pid) by field number; stale when absent (see {@link spans}). */
  readonly int32s: Int32Array = new Int32Array(MESSAGE_WIRE.length);
  /** The timestamp's halves, `[low, high]`; 0 when absent. */
  readonly timestamp: Int32Array = new Int32Array(2);
  /** The embedded `Field`s, see `F_*`. Replaced when it grows: read it after `scan`. */
  fields: Int32Array = new Int32Array(32 * FIELD_STRIDE);
  /** How many `Field`s the message holds. */
  fieldCount = 0;
  /** Values of the `Field`s, see `V_*`. Replaced when it grows: read it after `scan`. */
  values: Int32Array = new Int32Array(256 * VALUE_STRIDE);
  #valueCount = 0;
  /** Whether this scan notes the `Field`s' layout (see {@link scan}). */
  #layout = true;

  /** The bytes last scanned. */
  get bytes(): Uint8Array {
    return this.reader.buf;
  }

  /**
   * Walks `bytes` as a `Message`. Throws RangeError, naming what is wrong,
   * for bytes that are not a protobuf message of that shape (exactly those
   * `decodeMessage` rejects). With `layout` false it only validates and
   * counts the `Field`s, leaving {@link fields} and {@link values} unset:
   * the receivers' check needs no more.
   */
  scan(bytes: Uint8Array, layout = true): void {
    this.#layout = layout;
    const r = this.reader;
    r.buf = bytes;
    r.pos = 0;
    r.len = bytes.length;
    const spans = this.spans;
    const int32s = this.int32s;
    // Only the starts say "absent"; a plain loop, as a typed array's fill calls into the runtime.
    for (let k = 0; k < spans.length; k += 2) spans[k] = -1;
    const timestamp = this.timestamp;
    timestamp[0] = 0;
    timestamp[1] = 0;
    this.fieldCount = 0;
    this.#valueCount = 0;
    while (r.pos < r.len) {
      const no = readKnownField(r, MESSAGE_WIRE);
      if (no < 0) continue;
      const start = r.pos;
      switch (MESSAGE_VALUE[no]) {
        case AS_INT64:
          readInt64(r);
          timestamp[0] = int64Halves[0];
          timestamp[1] = int64Halves[1];
          break;
        case AS_INT32:
          int32s[no] = readInt32(r);
          break;
        case AS_FIELD: {
          const at = readDelimited(r, "field");
          this.#scanField(r, at, r.pos);
          continue;
        }
        default: {
          const at = readDelimited(r, no === UUID ? "bytes" : "string");
          spans[no * 2] = at;
          spans[no * 2 + 1] = r.pos;
          continue;
        }
      }
      spans[no * 2] = start;
      spans[no * 2 + 1] = r.pos;
    }
  }

  /** Validates one `Field` in `[start, end)` (the reader is at its end) and notes it. */
  #scanField(r: WireReader, start: number, end: number): void {
    const index = this.fieldCount++;
    if (this.#layout && (index + 1) * FIELD_STRIDE > this.fields.length) {
      const grown = new Int32Array(this.fields.length * 2);
      grown.set(this.fields);
      this.fields = grown;
    }
    const firstValue = this.#valueCount;
    let name = -1;
    let nameEnd = -1;
    let representation = -1;
    let representationEnd = -1;
    let valueType = 0;
    r.pos = start;
    while (r.pos < end) {
      const tag = readUint32(r);
      const wt = tag & 7;
      const no = tag >>> 3;
      const want = no < MEMBER_WIRE.length ? MEMBER_WIRE[no] : -1;
      if (want < 0) {
        // Unknown members are skipped (a zero tag included), as Go's decoder does.
        r.skipType(wt);
        continue;
      }
      if (wt === LEN && MEMBER_PACKED[no] === 1) {
        this.#scanPacked(r, no);
        continue;
      }
      expectWireType(wt, want as WireType);
      switch (MEMBER_VALUE[no]) {
        case AS_INT32:
          valueType = readInt32(r);
          break;
        case AS_INT64:
          readInt64(r);
          this.#value(no, int64Halves[0], int64Halves[1]);
          break;
        case AS_DOUBLE:
          if (r.pos + 8 > r.len) throw new RangeError("double overruns the message");
          this.#value(no, r.pos, 0);
          r.pos += 8;
          break;
        case AS_BOOL:
          this.#value(no, readUint32(r) !== 0 ? 1 : 0, 0);
          break;
        default: {
          const at = readDelimited(r, MEMBER_VALUE[no] === AS_BYTES ? "bytes" : "string");
          if (no === NAME) {
            name = at;
            nameEnd = r.pos;
          } else if (no === REPRESENTATION) {
            representation = at;
            representationEnd = r.pos;
          } else this.#value(no, at, r.pos);
        }
      }
    }
    if (r.pos !== end) throw new RangeError("field overruns its length");
    if (!this.#layout) return;
    const f = this.fields;
    const base = index * FIELD_STRIDE;
    f[base + F_NAME] = name;
    f[base + F_NAME_END] = nameEnd;
    f[base + F_VALUE_TYPE] = valueType;
    f[base + F_REPRESENTATION] = representation;
    f[base + F_REPRESENTATION_END] = representationEnd;
    f[base + F_VALUES] = firstValue;
    f[base + F_VALUE_COUNT] = this.#valueCount - firstValue;
  }

  /** Validates the packed values of member `no` (the reader is at their length) and notes them. */
  #scanPacked(r: WireReader, no: number): void {
    const end = readUint32(r) + r.pos;
    if (end > r.len) throw new RangeError("packed field overruns the message");
    const value = MEMBER_VALUE[no];
    while (r.pos < end) {
      if (value === AS_INT64) {
        readInt64(r);
        this.#value(no, int64Halves[0], int64Halves[1]);
      } else if (value === AS_DOUBLE) {
        if (r.pos + 8 > r.len) throw new RangeError("double overruns the message");
        this.#value(no, r.pos, 0);
        r.pos += 8;
      } else {
        this.#value(no, readUint32(r) !== 0 ? 1 : 0, 0);
      }
    }
    if (r.pos !== end) throw new RangeError("packed value overruns its field");
  }

  #value(member: number, a: number, b: number): void {
    if (!this.#layout) return;
    const at = this.#valueCount++ * VALUE_STRIDE;
    if (at + VALUE_STRIDE > this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    const values = this.values;
    values[at + V_MEMBER] = member;
    values[at + V_A] = a;
    values[at + V_B] = b;
  }
}

/** The reason to give for bytes {@link MessageScanner.scan} rejected, from what it threw. */
export function undecodableMessage(err: unknown): string {
  return `undecodable protobuf message: ${err instanceof Error ? err.message : String(err)}`;
}
