/**
 * The Heka message model shared by every Lagermeister program.
 *
 * Field names follow Heka's `message.proto` (see `proto/message.proto`).
 * Optional proto2 fields that were absent on the wire are `undefined`, so
 * validation can tell "absent" from "empty"; readers that want Heka's
 * defaults use {@link severityOf} and friends or treat `undefined` as `""`/`0`.
 *
 * {@link MESSAGE_FIELDS} and {@link FIELD_MEMBERS} are the wire layout, the one
 * table every walker of the protobuf (`MessageScanner`, the codec, the JSON
 * line writer) reads: field number, wire type, how the value is read, the
 * property of the model and, for `Message`, the JSON key.
 *
 * @module
 */

/** Heka `Field.ValueType`. */
export const ValueType = {
  STRING: 0,
  BYTES: 1,
  INTEGER: 2,
  DOUBLE: 3,
  BOOL: 4,
} as const;

/** One of the {@link ValueType} numbers. */
export type ValueType = typeof ValueType[keyof typeof ValueType];

/** Protobuf wire types: the low three bits of a tag. */
export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  /** Length-delimited: strings, bytes, embedded messages, packed repeated scalars. */
  LEN: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  FIXED32: 5,
} as const;
/** One of {@link WireType}. */
export type WireType = typeof WireType[keyof typeof WireType];

/** How a field's value is read off the wire. */
export const WireValue = {
  /** Length-delimited bytes, kept as a view. */
  BYTES: 0,
  /** Length-delimited UTF-8. */
  STRING: 1,
  /** An int32 varint. */
  INT32: 2,
  /** An int64 varint. */
  INT64: 3,
  /** A little-endian float64. */
  DOUBLE: 4,
  /** A varint, non-zero = true. */
  BOOL: 5,
  /** An embedded `Field` message. */
  FIELD: 6,
} as const;
/** One of {@link WireValue}. */
export type WireValue = typeof WireValue[keyof typeof WireValue];

/**
 * The fields of Heka's `Message`, in field-number order (which is also the
 * default order of the JSON keys): number, wire type, how the value is read,
 * the {@link HekaMessage} property and the JSON key.
 */
export const MESSAGE_FIELDS = [
  { number: 1, wireType: WireType.LEN, value: WireValue.BYTES, name: "uuid", jsonKey: "Uuid" },
  {
    number: 2,
    wireType: WireType.VARINT,
    value: WireValue.INT64,
    name: "timestamp",
    jsonKey: "Timestamp",
  },
  { number: 3, wireType: WireType.LEN, value: WireValue.STRING, name: "type", jsonKey: "Type" },
  { number: 4, wireType: WireType.LEN, value: WireValue.STRING, name: "logger", jsonKey: "Logger" },
  {
    number: 5,
    wireType: WireType.VARINT,
    value: WireValue.INT32,
    name: "severity",
    jsonKey: "Severity",
  },
  {
    number: 6,
    wireType: WireType.LEN,
    value: WireValue.STRING,
    name: "payload",
    jsonKey: "Payload",
  },
  {
    number: 7,
    wireType: WireType.LEN,
    value: WireValue.STRING,
    name: "envVersion",
    jsonKey: "EnvVersion",
  },
  { number: 8, wireType: WireType.VARINT, value: WireValue.INT32, name: "pid", jsonKey: "Pid" },
  {
    number: 9,
    wireType: WireType.LEN,
    value: WireValue.STRING,
    name: "hostname",
    jsonKey: "Hostname",
  },
  { number: 10, wireType: WireType.LEN, value: WireValue.FIELD, name: "fields", jsonKey: "Fields" },
] as const;

/** `Message` field numbers by name, from {@link MESSAGE_FIELDS}. */
export const MessageField = {
  UUID: 1,
  TIMESTAMP: 2,
  TYPE: 3,
  LOGGER: 4,
  SEVERITY: 5,
  PAYLOAD: 6,
  ENV_VERSION: 7,
  PID: 8,
  HOSTNAME: 9,
  FIELDS: 10,
} as const;
/** One of {@link MessageField}. */
export type MessageField = typeof MessageField[keyof typeof MessageField];

/**
 * The members of Heka's `Field`, in field-number order. The repeated
 * scalars (`packed: true`) are accepted packed (length-delimited) or one
 * value per tag, as proto2 parsers must.
 */
export const FIELD_MEMBERS = [
  { number: 1, wireType: WireType.LEN, value: WireValue.STRING, name: "name", packed: false },
  {
    number: 2,
    wireType: WireType.VARINT,
    value: WireValue.INT32,
    name: "valueType",
    packed: false,
  },
  {
    number: 3,
    wireType: WireType.LEN,
    value: WireValue.STRING,
    name: "representation",
    packed: false,
  },
  {
    number: 4,
    wireType: WireType.LEN,
    value: WireValue.STRING,
    name: "valueString",
    packed: false,
  },
  {
    number: 5,
    wireType: WireType.LEN,
    value: WireValue.BYTES,
    name: "valueBytes",
    packed: false,
  },
  {
    number: 6,
    wireType: WireType.VARINT,
    value: WireValue.INT64,
    name: "valueInteger",
    packed: true,
  },
  {
    number: 7,
    wireType: WireType.FIXED64,
    value: WireValue.DOUBLE,
    name: "valueDouble",
    packed: true,
  },
  { number: 8, wireType: WireType.VARINT, value: WireValue.BOOL, name: "valueBool", packed: true },
] as const;

/** `Field` member numbers by name, from {@link FIELD_MEMBERS}. */
export const FieldMember = {
  NAME: 1,
  VALUE_TYPE: 2,
  REPRESENTATION: 3,
  VALUE_STRING: 4,
  VALUE_BYTES: 5,
  VALUE_INTEGER: 6,
  VALUE_DOUBLE: 7,
  VALUE_BOOL: 8,
} as const;
/** One of {@link FieldMember}. */
export type FieldMember = typeof FieldMember[keyof typeof FieldMember];

/** The member of `Field` holding values of `valueType` (`VALUE_STRING` for unknown types). */
export function valueMemberOf(valueType: number): FieldMember {
  return valueType >= ValueType.BYTES && valueType <= ValueType.BOOL
    ? (FieldMember.VALUE_STRING + valueType) as FieldMember
    : FieldMember.VALUE_STRING;
}

/** A dynamic field of a Heka message. Only the array matching `valueType` is normally filled. */
export interface HekaField {
  name: string;
  valueType: ValueType;
  representation: string;
  valueString: string[];
  valueBytes: Uint8Array[];
  /** int64 values; exact up to 2^53, as Heka users rarely exceed that. */
  valueInteger: number[];
  valueDouble: number[];
  valueBool: boolean[];
}

/** A decoded Heka message. */
export interface HekaMessage {
  /** 16 raw bytes when valid; a view into the original buffer. */
  uuid: Uint8Array | undefined;
  /** Nanoseconds since the UNIX epoch. */
  timestamp: bigint | undefined;
  type: string | undefined;
  logger: string | undefined;
  /** Absent severity reads 7 in Heka; use {@link severityOf}. */
  severity: number | undefined;
  payload: string | undefined;
  envVersion: string | undefined;
  pid: number | undefined;
  hostname: string | undefined;
  fields: HekaField[];
}

/** Heka's default severity (debug) for messages that carry none. */
export const DEFAULT_SEVERITY = 7;

/** Severity with Heka's default applied. */
export function severityOf(msg: HekaMessage): number {
  return msg.severity ?? DEFAULT_SEVERITY;
}

/** A fresh field with empty value arrays. */
export function newField(
  name: string,
  valueType: ValueType = ValueType.STRING,
  representation = "",
): HekaField {
  return {
    name,
    valueType,
    representation,
    valueString: [],
    valueBytes: [],
    valueInteger: [],
    valueDouble: [],
    valueBool: [],
  };
}

/** A fresh message with every optional field absent. */
export function newMessage(): HekaMessage {
  return {
    uuid: undefined,
    timestamp: undefined,
    type: undefined,
    logger: undefined,
    severity: undefined,
    payload: undefined,
    envVersion: undefined,
    pid: undefined,
    hostname: undefined,
    fields: [],
  };
}

/** The values of a field as one array, whatever its type. */
export function fieldValues(field: HekaField): (string | Uint8Array | number | boolean)[] {
  switch (field.valueType) {
    case ValueType.BYTES:
      return field.valueBytes;
    case ValueType.INTEGER:
      return field.valueInteger;
    case ValueType.DOUBLE:
      return field.valueDouble;
    case ValueType.BOOL:
      return field.valueBool;
    default:
      return field.valueString;
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Formats 16 uuid bytes as 8-4-4-4-12 lowercase hex; other lengths as plain hex. */
export function formatUuid(bytes: Uint8Array | undefined): string {
  if (!bytes) return "";
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    if (bytes.length === 16 && (i === 4 || i === 6 || i === 8 || i === 10)) s += "-";
    s += HEX[bytes[i]];
  }
  return s;
}

/** Parses an 8-4-4-4-12 (or plain 32 hex digit) uuid into 16 bytes. */
export function parseUuid(text: string): Uint8Array {
  const hex = text.replaceAll("-", "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a uuid: ${JSON.stringify(text)}`);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
