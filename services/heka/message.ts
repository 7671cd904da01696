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

/**
 * How a field's value is read off the wire: `bytes` (length-delimited, kept
 * as a view), `string` (length-delimited UTF-8), `int32` and `int64`
 * (varints), `double` (little-endian float64), `bool` (a varint, non-zero =
 * true) or `field` (an embedded `Field` message).
 */
export type WireValue = "bytes" | "string" | "int32" | "int64" | "double" | "bool" | "field";

/** The field numbers of a table by property name, with their literal types. */
export type NumbersByName<T extends readonly { name: string; number: number }[]> = {
  readonly [R in T[number] as R["name"]]: R["number"];
};

function numbersByName<T extends readonly { name: string; number: number }[]>(
  table: T,
): NumbersByName<T> {
  return Object.fromEntries(table.map((r) => [r.name, r.number])) as NumbersByName<T>;
}

/** One row of {@link MESSAGE_FIELDS}. */
export interface MessageFieldSpec {
  readonly number: number;
  readonly wireType: WireType;
  readonly value: WireValue;
  /** The {@link HekaMessage} property. */
  readonly name: keyof HekaMessage;
  /** The key of the JSON line (json.ts). */
  readonly jsonKey: string;
}

/**
 * The fields of Heka's `Message`, in field-number order (which is also the
 * default order of the JSON keys): number, wire type, how the value is read,
 * the {@link HekaMessage} property and the JSON key.
 */
export const MESSAGE_FIELDS = [
  { number: 1, wireType: WireType.LEN, value: "bytes", name: "uuid", jsonKey: "Uuid" },
  {
    number: 2,
    wireType: WireType.VARINT,
    value: "int64",
    name: "timestamp",
    jsonKey: "Timestamp",
  },
  { number: 3, wireType: WireType.LEN, value: "string", name: "type", jsonKey: "Type" },
  { number: 4, wireType: WireType.LEN, value: "string", name: "logger", jsonKey: "Logger" },
  {
    number: 5,
    wireType: WireType.VARINT,
    value: "int32",
    name: "severity",
    jsonKey: "Severity",
  },
  {
    number: 6,
    wireType: WireType.LEN,
    value: "string",
    name: "payload",
    jsonKey: "Payload",
  },
  {
    number: 7,
    wireType: WireType.LEN,
    value: "string",
    name: "envVersion",
    jsonKey: "EnvVersion",
  },
  { number: 8, wireType: WireType.VARINT, value: "int32", name: "pid", jsonKey: "Pid" },
  {
    number: 9,
    wireType: WireType.LEN,
    value: "string",
    name: "hostname",
    jsonKey: "Hostname",
  },
  { number: 10, wireType: WireType.LEN, value: "field", name: "fields", jsonKey: "Fields" },
] as const satisfies readonly MessageFieldSpec[];

/** `Message` field numbers by property name (`MessageField.envVersion` = 7), from {@link MESSAGE_FIELDS}. */
export const MessageField: NumbersByName<typeof MESSAGE_FIELDS> = numbersByName(MESSAGE_FIELDS);
/** One of the `Message` field numbers. */
export type MessageField = typeof MESSAGE_FIELDS[number]["number"];

/** One row of {@link FIELD_MEMBERS}. */
export interface FieldMemberSpec {
  readonly number: number;
  /** The wire type of one value (repeated scalars may also come packed). */
  readonly wireType: WireType;
  readonly value: WireValue;
  /** The {@link HekaField} property. */
  readonly name: keyof HekaField;
  /** Whether the values may come packed. */
  readonly packed: boolean;
}

/**
 * The members of Heka's `Field`, in field-number order. The repeated
 * scalars (`packed: true`) are accepted packed (length-delimited) or one
 * value per tag, as proto2 parsers must.
 */
export const FIELD_MEMBERS = [
  { number: 1, wireType: WireType.LEN, value: "string", name: "name", packed: false },
  {
    number: 2,
    wireType: WireType.VARINT,
    value: "int32",
    name: "valueType",
    packed: false,
  },
  {
    number: 3,
    wireType: WireType.LEN,
    value: "string",
    name: "representation",
    packed: false,
  },
  {
    number: 4,
    wireType: WireType.LEN,
    value: "string",
    name: "valueString",
    packed: false,
  },
  {
    number: 5,
    wireType: WireType.LEN,
    value: "bytes",
    name: "valueBytes",
    packed: false,
  },
  {
    number: 6,
    wireType: WireType.VARINT,
    value: "int64",
    name: "valueInteger",
    packed: true,
  },
  {
    number: 7,
    wireType: WireType.FIXED64,
    value: "double",
    name: "valueDouble",
    packed: true,
  },
  { number: 8, wireType: WireType.VARINT, value: "bool", name: "valueBool", packed: true },
] as const satisfies readonly FieldMemberSpec[];

/** `Field` member numbers by property name (`FieldMember.valueString` = 4), from {@link FIELD_MEMBERS}. */
export const FieldMember: NumbersByName<typeof FIELD_MEMBERS> = numbersByName(FIELD_MEMBERS);
/** One of the `Field` member numbers. */
export type FieldMember = typeof FIELD_MEMBERS[number]["number"];

/** The member of `Field` holding values of `valueType` (`VALUE_STRING` for unknown types). */
export function valueMemberOf(valueType: number): FieldMember {
  return valueType >= ValueType.BYTES && valueType <= ValueType.BOOL
    ? (FieldMember.valueString + valueType) as FieldMember
    : FieldMember.valueString;
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
