/**
 * Protobuf codec for Heka `Message` and stream `Header`, on protobufjs's
 * wire `Reader`/`Writer`.
 *
 * Strings are decoded with a non-fatal `TextDecoder`, so a string field that
 * holds invalid UTF-8 decodes (to U+FFFD) instead of failing; the wire bytes
 * of such strings are kept beside the message for the matcher
 * (invalid_utf8.ts), which compares bytes as Heka does; relays never
 * re-encode and keep the original bytes. The codec knows nothing of sockets
 * or framing.
 *
 * @module
 */
import protobuf from "protobufjs";
import {
  type HekaField,
  type HekaMessage,
  newField,
  newMessage,
  type ValueType,
} from "./message.ts";
import { isValidUtf8, noteWireUtf8, type StringSlot } from "./invalid_utf8.ts";

const { Reader, Writer } = protobuf;
type ReaderT = protobuf.Reader;

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** HMAC hash functions of the stream header. */
export const HmacHash = { MD5: 0, SHA1: 1 } as const;
/** One of {@link HmacHash}. */
export type HmacHash = typeof HmacHash[keyof typeof HmacHash];

/** A Heka stream framing header. */
export interface HekaHeader {
  messageLength: number;
  hmacHashFunction: HmacHash;
  hmacSigner: string | undefined;
  hmacKeyVersion: number | undefined;
  hmac: Uint8Array | undefined;
}

/** Raised when bytes are not a decodable protobuf message. */
export class HekaDecodeError extends Error {
  override name = "HekaDecodeError";
}

/**
 * Reads a string; when `holder` is given and the bytes are not valid UTF-8,
 * records them for the matcher (see invalid_utf8.ts).
 */
function readString(r: ReaderT, holder?: HekaMessage | HekaField, slot?: StringSlot): string {
  const len = r.uint32();
  const start = r.pos;
  const end = start + len;
  if (end > r.len) throw new RangeError(`string of ${len} bytes overruns the message`);
  r.pos = end;
  const bytes = r.buf.subarray(start, end);
  const text = utf8.decode(bytes);
  // Only a text holding U+FFFD can come from invalid UTF-8.
  if (holder !== undefined && text.indexOf("\uFFFD") >= 0) {
    noteWireUtf8(holder, slot!, text, isValidUtf8(bytes) ? undefined : bytes.slice());
  }
  return text;
}

function readBytes(r: ReaderT): Uint8Array {
  const len = r.uint32();
  const start = r.pos;
  const end = start + len;
  if (end > r.len) throw new RangeError(`bytes of ${len} bytes overruns the message`);
  r.pos = end;
  return r.buf.subarray(start, end);
}

/** Reads an int64 varint as bigint without intermediate objects beyond the result. */
function readInt64Big(r: ReaderT): bigint {
  const buf = r.buf;
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let i = r.pos;
  // low 28 bits
  for (; shift < 28; shift += 7) {
    if (i >= r.len) throw new RangeError("varint overruns the message");
    const b = buf[i++];
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.pos = i;
      return BigInt(lo >>> 0);
    }
  }
  if (i >= r.len) throw new RangeError("varint overruns the message");
  let b = buf[i++];
  lo |= (b & 0x0f) << 28;
  hi = (b & 0x7f) >> 4;
  if (b >= 0x80) {
    for (shift = 3; shift < 32; shift += 7) {
      if (i >= r.len) throw new RangeError("varint overruns the message");
      b = buf[i++];
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    if (b >= 0x80) throw new RangeError("varint longer than 10 bytes");
  }
  r.pos = i;
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

function readInt64Number(r: ReaderT): number {
  return Number(readInt64Big(r));
}

/** Rejects a known field sent with the wrong wire type (as Go's generated decoders do). */
function expectWireType(actual: number, expected: number): void {
  if (actual !== expected) throw new RangeError(`wire type ${actual}, expected ${expected}`);
}

function readPackedOrOne<T>(
  r: ReaderT,
  wireType: number,
  scalarWireType: number,
  readOne: () => T,
  out: T[],
): void {
  if (wireType === 2) {
    const end = r.uint32() + r.pos;
    if (end > r.len) throw new RangeError("packed field overruns the message");
    while (r.pos < end) out.push(readOne());
    if (r.pos !== end) throw new RangeError("packed value overruns its field");
  } else {
    expectWireType(wireType, scalarWireType);
    out.push(readOne());
  }
}

function decodeField(r: ReaderT, end: number): HekaField {
  const f = newField("");
  while (r.pos < end) {
    const tag = r.uint32();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectWireType(wt, 2);
        f.name = readString(r, f, "name");
        break;
      case 2:
        expectWireType(wt, 0);
        f.valueType = r.int32() as ValueType;
        break;
      case 3:
        expectWireType(wt, 2);
        f.representation = readString(r);
        break;
      case 4:
        expectWireType(wt, 2);
        f.valueString.push(readString(r, f, f.valueString.length));
        break;
      case 5:
        expectWireType(wt, 2);
        f.valueBytes.push(readBytes(r));
        break;
      case 6:
        readPackedOrOne(r, wt, 0, () => readInt64Number(r), f.valueInteger);
        break;
      case 7:
        readPackedOrOne(r, wt, 1, () => r.double(), f.valueDouble);
        break;
      case 8:
        readPackedOrOne(r, wt, 0, () => r.bool(), f.valueBool);
        break;
      default:
        r.skipType(wt);
    }
  }
  if (r.pos !== end) throw new RangeError("field overruns its length");
  return f;
}

/**
 * Decodes a Heka `Message`. Throws {@link HekaDecodeError} for bytes that are
 * not a protobuf message of that shape; does not validate required fields
 * (see {@link validateMessage}).
 */
export function decodeMessage(bytes: Uint8Array): HekaMessage {
  const r = Reader.create(bytes);
  const m = newMessage();
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      const wt = tag & 7;
      switch (tag >>> 3) {
        case 1:
          expectWireType(wt, 2);
          m.uuid = readBytes(r);
          break;
        case 2:
          expectWireType(wt, 0);
          m.timestamp = readInt64Big(r);
          break;
        case 3:
          expectWireType(wt, 2);
          m.type = readString(r, m, "type");
          break;
        case 4:
          expectWireType(wt, 2);
          m.logger = readString(r, m, "logger");
          break;
        case 5:
          expectWireType(wt, 0);
          m.severity = r.int32();
          break;
        case 6:
          expectWireType(wt, 2);
          m.payload = readString(r, m, "payload");
          break;
        case 7:
          expectWireType(wt, 2);
          m.envVersion = readString(r, m, "envVersion");
          break;
        case 8:
          expectWireType(wt, 0);
          m.pid = r.int32();
          break;
        case 9:
          expectWireType(wt, 2);
          m.hostname = readString(r, m, "hostname");
          break;
        case 10: {
          if (wt !== 2) throw new RangeError("fields must be length-delimited");
          const end = r.uint32() + r.pos;
          if (end > r.len) throw new RangeError("field overruns the message");
          m.fields.push(decodeField(r, end));
          break;
        }
        default:
          if (tag === 0) throw new RangeError("zero tag");
          r.skipType(wt);
      }
    }
  } catch (err) {
    throw new HekaDecodeError(
      `undecodable protobuf message: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return m;
}

/** Skips a length-delimited value, checking it fits. */
function skipDelimited(r: ReaderT): number {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw new RangeError(`value of ${len} bytes overruns the message`);
  r.pos = end;
  return len;
}

/** Expected wire types of `Field`'s members (index = field number); -1 = packed or scalar. */
const FIELD_WIRE = [-2, 2, 0, 2, 2, 2, -1, -1, -1];
const FIELD_SCALAR_WIRE = [0, 0, 0, 0, 0, 0, 0, 1, 0];

function scanField(r: ReaderT, end: number): void {
  while (r.pos < end) {
    const tag = r.uint32();
    const wt = tag & 7;
    const no = tag >>> 3;
    const want = no < FIELD_WIRE.length ? FIELD_WIRE[no] : -2;
    if (want === -2) {
      // Unknown members are skipped, as decodeField does (zero tag included).
      r.skipType(wt);
    } else if (want === -1) {
      if (wt === 2) {
        const len = r.uint32();
        const end = r.pos + len;
        if (end > r.len) throw new RangeError("packed field overruns the message");
        if (no === 7) {
          if (len % 8 !== 0) throw new RangeError("packed value overruns its field");
          r.pos = end;
        } else {
          while (r.pos < end) r.skipType(0);
          if (r.pos !== end) throw new RangeError("packed value overruns its field");
        }
      } else {
        expectWireType(wt, FIELD_SCALAR_WIRE[no]);
        r.skipType(wt);
      }
    } else {
      expectWireType(wt, want);
      if (wt === 2) skipDelimited(r);
      else r.skipType(wt);
    }
  }
  if (r.pos !== end) throw new RangeError("field overruns its length");
}

/**
 * Checks a message the way {@link decodeMessage} + {@link validateMessage}
 * would, without decoding strings or building objects: the receivers' fast
 * path when no matcher needs the decoded message. Returns the 16 uuid bytes
 * (a view) when the message is valid, else the reason it is not.
 */
export function scanMessage(bytes: Uint8Array): Uint8Array | string {
  const r = Reader.create(bytes);
  let uuid: Uint8Array | undefined;
  let timestamp = false;
  let hostname = false;
  let payload = false;
  let fields = false;
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      const wt = tag & 7;
      switch (tag >>> 3) {
        case 1:
          expectWireType(wt, 2);
          uuid = readBytes(r);
          break;
        case 2:
          expectWireType(wt, 0);
          r.skipType(0);
          timestamp = true;
          break;
        case 3:
        case 4:
        case 7:
          expectWireType(wt, 2);
          skipDelimited(r);
          break;
        case 5:
        case 8:
          expectWireType(wt, 0);
          r.skipType(0);
          break;
        case 6:
          expectWireType(wt, 2);
          skipDelimited(r);
          payload = true;
          break;
        case 9:
          expectWireType(wt, 2);
          hostname = skipDelimited(r) > 0;
          break;
        case 10: {
          if (wt !== 2) throw new RangeError("fields must be length-delimited");
          const end = r.uint32() + r.pos;
          if (end > r.len) throw new RangeError("field overruns the message");
          scanField(r, end);
          fields = true;
          break;
        }
        default:
          if (tag === 0) throw new RangeError("zero tag");
          r.skipType(wt);
      }
    }
  } catch (err) {
    return `undecodable protobuf message: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (uuid === undefined) return "missing uuid";
  if (uuid.length !== 16) return `uuid must be 16 bytes, got ${uuid.length}`;
  if (!timestamp) return "missing timestamp";
  if (!hostname) return "missing hostname";
  if (!payload && !fields) return "missing payload and fields";
  return uuid;
}

/**
 * Checks what the original Lagermeister required of a message. Returns
 * `undefined` when valid, else a short reason naming what is missing.
 */
export function validateMessage(m: HekaMessage): string | undefined {
  if (m.uuid === undefined) return "missing uuid";
  if (m.uuid.length !== 16) return `uuid must be 16 bytes, got ${m.uuid.length}`;
  if (m.timestamp === undefined) return "missing timestamp";
  if (m.hostname === undefined || m.hostname === "") return "missing hostname";
  if (m.payload === undefined && m.fields.length === 0) return "missing payload and fields";
  return undefined;
}

/**
 * Writes a string field as valid UTF-8: lone surrogates become U+FFFD
 * (protobufjs's writer would emit them as WTF-8 bytes, invalid UTF-8).
 */
function writeString(w: protobuf.Writer, fieldNo: number, s: string | undefined): void {
  if (s !== undefined) w.uint32((fieldNo << 3) | 2).string(s.toWellFormed());
}

/** Encodes a Heka `Message` (for generators and tests; relays never re-encode). */
export function encodeMessage(m: HekaMessage): Uint8Array {
  const w = Writer.create();
  if (m.uuid !== undefined) w.uint32((1 << 3) | 2).bytes(m.uuid);
  if (m.timestamp !== undefined) {
    w.uint32(2 << 3).int64(m.timestamp.toString() as unknown as number);
  }
  writeString(w, 3, m.type);
  writeString(w, 4, m.logger);
  if (m.severity !== undefined) w.uint32(5 << 3).int32(m.severity);
  writeString(w, 6, m.payload);
  writeString(w, 7, m.envVersion);
  if (m.pid !== undefined) w.uint32(8 << 3).int32(m.pid);
  writeString(w, 9, m.hostname);
  for (const f of m.fields) {
    w.uint32((10 << 3) | 2).fork();
    writeString(w, 1, f.name);
    if (f.valueType !== 0) w.uint32(2 << 3).int32(f.valueType);
    if (f.representation) writeString(w, 3, f.representation);
    for (const s of f.valueString) writeString(w, 4, s);
    for (const b of f.valueBytes) w.uint32((5 << 3) | 2).bytes(b);
    if (f.valueInteger.length) {
      w.uint32((6 << 3) | 2).fork();
      for (const v of f.valueInteger) w.int64(v);
      w.ldelim();
    }
    if (f.valueDouble.length) {
      w.uint32((7 << 3) | 2).fork();
      for (const v of f.valueDouble) w.double(v);
      w.ldelim();
    }
    if (f.valueBool.length) {
      w.uint32((8 << 3) | 2).fork();
      for (const v of f.valueBool) w.bool(v);
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
}

/** Decodes a stream framing `Header`. Throws {@link HekaDecodeError} when malformed. */
export function decodeHeader(bytes: Uint8Array): HekaHeader {
  const r = Reader.create(bytes);
  const h: HekaHeader = {
    messageLength: -1,
    hmacHashFunction: HmacHash.MD5,
    hmacSigner: undefined,
    hmacKeyVersion: undefined,
    hmac: undefined,
  };
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      const wt = tag & 7;
      switch (tag >>> 3) {
        case 1:
          expectWireType(wt, 0);
          h.messageLength = r.uint32();
          break;
        case 3:
          expectWireType(wt, 0);
          h.hmacHashFunction = r.int32() as HmacHash;
          break;
        case 4:
          expectWireType(wt, 2);
          h.hmacSigner = readString(r);
          break;
        case 5:
          expectWireType(wt, 0);
          h.hmacKeyVersion = r.uint32();
          break;
        case 6:
          expectWireType(wt, 2);
          h.hmac = readBytes(r);
          break;
        default:
          if (tag === 0) throw new RangeError("zero tag");
          r.skipType(wt);
      }
    }
  } catch (err) {
    throw new HekaDecodeError(
      `undecodable header: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (h.messageLength < 0) throw new HekaDecodeError("header has no message_length");
  return h;
}

/** Encodes a stream framing `Header`. */
export function encodeHeader(h: Partial<HekaHeader> & { messageLength: number }): Uint8Array {
  const w = Writer.create();
  w.uint32(1 << 3).uint32(h.messageLength);
  if (h.hmac !== undefined) {
    w.uint32(3 << 3).int32(h.hmacHashFunction ?? HmacHash.MD5);
  }
  writeString(w, 4, h.hmacSigner);
  if (h.hmacKeyVersion !== undefined) w.uint32(5 << 3).uint32(h.hmacKeyVersion);
  if (h.hmac !== undefined) w.uint32((6 << 3) | 2).bytes(h.hmac);
  return w.finish();
}
