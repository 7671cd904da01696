/**
 * The Heka message model shared by every Lagermeister program.
 *
 * Field names follow Heka's `message.proto` (see `proto/message.proto`).
 * Optional proto2 fields that were absent on the wire are `undefined`, so
 * validation can tell "absent" from "empty"; readers that want Heka's
 * defaults use {@link severityOf} and friends or treat `undefined` as `""`/`0`.
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
