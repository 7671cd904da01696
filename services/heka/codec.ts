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
  FieldMember,
  type HekaField,
  type HekaMessage,
  MessageField,
  newField,
  newMessage,
  type ValueType,
  WireType,
} from "./message.ts";
import { isValidUtf8, noteWireUtf8, type StringSlot } from "./invalid_utf8.ts";
import {
  F_NAME,
  F_NAME_END,
  F_REPRESENTATION,
  F_REPRESENTATION_END,
  F_VALUE_COUNT,
  F_VALUE_TYPE,
  F_VALUES,
  FIELD_STRIDE,
  int64ToBigInt,
  int64ToNumber,
  MessageScanner,
  newWireReader,
  readDelimited,
  readKnownField,
  readUint32,
  undecodableMessage,
  V_A,
  V_B,
  V_MEMBER,
  VALUE_STRIDE,
  wireTag,
} from "./wire.ts";

const { Writer } = protobuf;

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

// Module-local copies of the field numbers decode and scan test: V8 folds
// these, while it loads and checks an imported binding on every use.
const {
  uuid: UUID,
  timestamp: TIMESTAMP,
  type: TYPE,
  logger: LOGGER,
  severity: SEVERITY,
  payload: PAYLOAD,
  envVersion: ENV_VERSION,
  pid: PID,
  hostname: HOSTNAME,
} = MessageField;
const {
  valueString: VALUE_STRING,
  valueBytes: VALUE_BYTES,
  valueInteger: VALUE_INTEGER,
  valueDouble: VALUE_DOUBLE,
} = FieldMember;

/** Every walk of a `Message` in this module (decode and scan are synchronous: one is enough). */
const scanner = new MessageScanner();

/**
 * The text of `bytes[start, end)`; when `holder` is given and the bytes are
 * not valid UTF-8, records them for the matcher (see invalid_utf8.ts).
 */
function textAt(
  bytes: Uint8Array,
  start: number,
  end: number,
  holder?: HekaMessage | HekaField,
  slot?: StringSlot,
): string {
  const view = bytes.subarray(start, end);
  const text = utf8.decode(view);
  // Only a text holding U+FFFD can come from invalid UTF-8.
  if (holder !== undefined && text.indexOf("\uFFFD") >= 0) {
    noteWireUtf8(holder, slot!, text, isValidUtf8(view) ? undefined : view.slice());
  }
  return text;
}

/** The string `Message` field `no` of the scanned message, or undefined when absent. */
function messageText(
  bytes: Uint8Array,
  no: MessageField,
  m: HekaMessage,
  slot: StringSlot,
): string | undefined {
  const start = scanner.spans[no * 2];
  return start < 0 ? undefined : textAt(bytes, start, scanner.spans[no * 2 + 1], m, slot);
}

/** The int32 `Message` field `no` of the scanned message, or undefined when absent. */
function messageInt32(no: MessageField): number | undefined {
  return scanner.spans[no * 2] < 0 ? undefined : scanner.int32s[no];
}

/** A DataView of the buffer of the message being decoded (kept: messages often share one). */
let doubleView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** The float64 at `bytes[at]`, little-endian. */
function doubleAt(bytes: Uint8Array, at: number): number {
  if (doubleView.buffer !== bytes.buffer) doubleView = new DataView(bytes.buffer);
  return doubleView.getFloat64(bytes.byteOffset + at, true);
}

/** Builds `Field` number `index` of the scanned message. */
function decodeField(bytes: Uint8Array, index: number): HekaField {
  const f = scanner.fields;
  const base = index * FIELD_STRIDE;
  const field = newField("", f[base + F_VALUE_TYPE] as ValueType);
  const name = f[base + F_NAME];
  if (name >= 0) field.name = textAt(bytes, name, f[base + F_NAME_END], field, "name");
  const representation = f[base + F_REPRESENTATION];
  if (representation >= 0) {
    field.representation = textAt(bytes, representation, f[base + F_REPRESENTATION_END]);
  }
  const values = scanner.values;
  const first = f[base + F_VALUES];
  const last = first + f[base + F_VALUE_COUNT];
  for (let v = first * VALUE_STRIDE; v < last * VALUE_STRIDE; v += VALUE_STRIDE) {
    const a = values[v + V_A];
    const b = values[v + V_B];
    switch (values[v + V_MEMBER]) {
      case VALUE_STRING:
        field.valueString.push(textAt(bytes, a, b, field, field.valueString.length));
        break;
      case VALUE_BYTES:
        field.valueBytes.push(bytes.subarray(a, b));
        break;
      case VALUE_INTEGER:
        field.valueInteger.push(int64ToNumber(a, b));
        break;
      case VALUE_DOUBLE:
        field.valueDouble.push(doubleAt(bytes, a));
        break;
      default:
        field.valueBool.push(a !== 0);
    }
  }
  return field;
}

/**
 * Decodes a Heka `Message`. Throws {@link HekaDecodeError} for bytes that are
 * not a protobuf message of that shape; does not validate required fields
 * (see {@link validateMessage}).
 */
export function decodeMessage(bytes: Uint8Array): HekaMessage {
  try {
    scanner.scan(bytes);
  } catch (err) {
    throw new HekaDecodeError(undecodableMessage(err));
  }
  const spans = scanner.spans;
  const m = newMessage();
  const uuid = spans[UUID * 2];
  if (uuid >= 0) m.uuid = bytes.subarray(uuid, spans[UUID * 2 + 1]);
  if (spans[TIMESTAMP * 2] >= 0) {
    m.timestamp = int64ToBigInt(scanner.timestamp[0], scanner.timestamp[1]);
  }
  m.type = messageText(bytes, TYPE, m, "type");
  m.logger = messageText(bytes, LOGGER, m, "logger");
  m.severity = messageInt32(SEVERITY);
  m.payload = messageText(bytes, PAYLOAD, m, "payload");
  m.envVersion = messageText(bytes, ENV_VERSION, m, "envVersion");
  m.pid = messageInt32(PID);
  m.hostname = messageText(bytes, HOSTNAME, m, "hostname");
  for (let i = 0; i < scanner.fieldCount; i++) m.fields.push(decodeField(bytes, i));
  return m;
}

/**
 * Checks a message the way {@link decodeMessage} + {@link validateMessage}
 * would, without decoding strings or building objects: the receivers' fast
 * path when no matcher needs the decoded message. Returns the 16 uuid bytes
 * (a view) when the message is valid, else the reason it is not.
 */
export function scanMessage(bytes: Uint8Array): Uint8Array | string {
  try {
    scanner.scan(bytes, false);
  } catch (err) {
    return undecodableMessage(err);
  }
  const spans = scanner.spans;
  const uuid = spans[UUID * 2];
  if (uuid < 0) return "missing uuid";
  const uuidLength = spans[UUID * 2 + 1] - uuid;
  if (uuidLength !== 16) return `uuid must be 16 bytes, got ${uuidLength}`;
  if (spans[TIMESTAMP * 2] < 0) return "missing timestamp";
  const hostname = spans[HOSTNAME * 2];
  if (hostname < 0 || spans[HOSTNAME * 2 + 1] === hostname) return "missing hostname";
  if (spans[PAYLOAD * 2] < 0 && scanner.fieldCount === 0) {
    return "missing payload and fields";
  }
  return bytes.subarray(uuid, uuid + 16);
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

/** Field numbers of Heka's stream `Header` (message.proto). */
const HeaderField = {
  MESSAGE_LENGTH: 1,
  HMAC_HASH_FUNCTION: 3,
  HMAC_SIGNER: 4,
  HMAC_KEY_VERSION: 5,
  HMAC: 6,
} as const;

/** The wire type of each `Header` field, by number; -1 for unknown numbers. */
const HEADER_WIRE = Int8Array.from([
  -1,
  WireType.VARINT, // message_length
  -1,
  WireType.VARINT, // hmac_hash_function
  WireType.LEN, // hmac_signer
  WireType.VARINT, // hmac_key_version
  WireType.LEN, // hmac
]);

/**
 * Writes a string field as valid UTF-8: lone surrogates become U+FFFD
 * (protobufjs's writer would emit them as WTF-8 bytes, invalid UTF-8).
 */
function writeString(w: protobuf.Writer, fieldNo: number, s: string | undefined): void {
  if (s !== undefined) w.uint32(wireTag(fieldNo, WireType.LEN)).string(s.toWellFormed());
}

/** Starts a packed repeated member of a `Field` (end it with `ldelim`). */
function forkPacked(w: protobuf.Writer, member: FieldMember): protobuf.Writer {
  return w.uint32(wireTag(member, WireType.LEN)).fork();
}

/** Encodes a Heka `Message` (for generators and tests; relays never re-encode). */
export function encodeMessage(m: HekaMessage): Uint8Array {
  const w = Writer.create();
  if (m.uuid !== undefined) w.uint32(wireTag(MessageField.uuid, WireType.LEN)).bytes(m.uuid);
  if (m.timestamp !== undefined) {
    w.uint32(wireTag(MessageField.timestamp, WireType.VARINT))
      .int64(m.timestamp.toString() as unknown as number);
  }
  writeString(w, MessageField.type, m.type);
  writeString(w, MessageField.logger, m.logger);
  if (m.severity !== undefined) {
    w.uint32(wireTag(MessageField.severity, WireType.VARINT)).int32(m.severity);
  }
  writeString(w, MessageField.payload, m.payload);
  writeString(w, MessageField.envVersion, m.envVersion);
  if (m.pid !== undefined) w.uint32(wireTag(MessageField.pid, WireType.VARINT)).int32(m.pid);
  writeString(w, MessageField.hostname, m.hostname);
  for (const f of m.fields) {
    w.uint32(wireTag(MessageField.fields, WireType.LEN)).fork();
    writeString(w, FieldMember.name, f.name);
    if (f.valueType !== 0) {
      w.uint32(wireTag(FieldMember.valueType, WireType.VARINT)).int32(f.valueType);
    }
    if (f.representation) writeString(w, FieldMember.representation, f.representation);
    for (const s of f.valueString) writeString(w, FieldMember.valueString, s);
    for (const b of f.valueBytes) w.uint32(wireTag(FieldMember.valueBytes, WireType.LEN)).bytes(b);
    if (f.valueInteger.length) {
      forkPacked(w, FieldMember.valueInteger);
      for (const v of f.valueInteger) w.int64(v);
      w.ldelim();
    }
    if (f.valueDouble.length) {
      forkPacked(w, FieldMember.valueDouble);
      for (const v of f.valueDouble) w.double(v);
      w.ldelim();
    }
    if (f.valueBool.length) {
      forkPacked(w, FieldMember.valueBool);
      for (const v of f.valueBool) w.bool(v);
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
}

/** Decodes a stream framing `Header`. Throws {@link HekaDecodeError} when malformed. */
export function decodeHeader(bytes: Uint8Array): HekaHeader {
  const r = newWireReader(bytes);
  const h: HekaHeader = {
    messageLength: -1,
    hmacHashFunction: HmacHash.MD5,
    hmacSigner: undefined,
    hmacKeyVersion: undefined,
    hmac: undefined,
  };
  try {
    while (r.pos < r.len) {
      const no = readKnownField(r, HEADER_WIRE);
      if (no < 0) continue;
      if (HEADER_WIRE[no] === WireType.LEN) {
        const start = readDelimited(r, no === HeaderField.HMAC ? "bytes" : "string");
        const value = r.buf.subarray(start, r.pos);
        if (no === HeaderField.HMAC) h.hmac = value;
        else h.hmacSigner = utf8.decode(value);
      } else {
        const value = readUint32(r);
        if (no === HeaderField.MESSAGE_LENGTH) h.messageLength = value;
        else if (no === HeaderField.HMAC_HASH_FUNCTION) {
          h.hmacHashFunction = (value | 0) as HmacHash;
        } else h.hmacKeyVersion = value;
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
  w.uint32(wireTag(HeaderField.MESSAGE_LENGTH, WireType.VARINT)).uint32(h.messageLength);
  if (h.hmac !== undefined) {
    w.uint32(wireTag(HeaderField.HMAC_HASH_FUNCTION, WireType.VARINT))
      .int32(h.hmacHashFunction ?? HmacHash.MD5);
  }
  writeString(w, HeaderField.HMAC_SIGNER, h.hmacSigner);
  if (h.hmacKeyVersion !== undefined) {
    w.uint32(wireTag(HeaderField.HMAC_KEY_VERSION, WireType.VARINT)).uint32(h.hmacKeyVersion);
  }
  if (h.hmac !== undefined) w.uint32(wireTag(HeaderField.HMAC, WireType.LEN)).bytes(h.hmac);
  return w.finish();
}
