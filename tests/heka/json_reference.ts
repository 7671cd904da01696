/**
 * The reference implementation of the subscriber's JSON line shape: the
 * original string-building encoder over a decoded {@link HekaMessage}
 * (`JSON.stringify` for strings, `String` for numbers). Production code
 * writes lines with `JsonLineWriter` (services/heka/json.ts), straight from
 * protobuf bytes; the differential test (json_writer_test.ts) holds the two
 * to the same bytes, and json_test.ts pins this one to the documented shape.
 *
 * The one intended difference: integers beyond 2^53, which this encoder
 * can only write as the rounded JavaScript number (the decoded message
 * holds numbers), while `JsonLineWriter` writes all 64 bits exactly.
 *
 * @module
 */
import {
  checkFieldList,
  JSON_FIELD_NAMES,
  type JsonEncoderOptions,
  type JsonFieldName,
} from "../../services/heka/json_options.ts";
import { formatTimestamp } from "../../services/heka/timestamp.ts";
import {
  DEFAULT_SEVERITY,
  fieldValues,
  formatUuid,
  type HekaField,
  type HekaMessage,
  ValueType,
} from "../../services/heka/message.ts";

/** Keys a dynamic field may not take over; such fields get a `"Fields."` prefix. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(JSON_FIELD_NAMES.slice(0, 9));

function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : "null";
}

/** The JSON text of one value of a field of type `valueType`. */
function jsonValue(valueType: number, v: string | Uint8Array | number | boolean): string {
  switch (valueType) {
    case ValueType.BYTES:
      return '"' + (v as Uint8Array).toBase64() + '"';
    case ValueType.INTEGER:
    case ValueType.DOUBLE:
      return jsonNumber(v as number);
    case ValueType.BOOL:
      return v ? "true" : "false";
    default:
      return JSON.stringify(v as string);
  }
}

function jsonValues(field: HekaField, out: string): string {
  const values = fieldValues(field);
  const t = field.valueType;
  for (let i = 0; i < values.length; i++) {
    if (out.length > 1) out += ",";
    out += jsonValue(t, values[i]);
  }
  return out;
}

function jsonFieldValue(field: HekaField): string {
  const values = fieldValues(field);
  if (values.length === 1) return jsonValue(field.valueType, values[0]);
  return jsonValues(field, "[") + "]";
}

function outputKey(name: string): string {
  return RESERVED_KEYS.has(name) ? "Fields." + name : name;
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

/**
 * Encodes decoded Heka messages as single-line JSON objects (no trailing
 * newline) by building strings: the specification `JsonLineWriter` is
 * tested against.
 */
export class ReferenceJsonLineEncoder {
  /** The selected keys, canonical spelling, in output order. */
  readonly fields: readonly JsonFieldName[];
  /** The dynamic field whitelist, or undefined for all. */
  readonly dynamicFields: ReadonlySet<string> | undefined;
  readonly #codes: Int32Array;

  /** Validates the options; throws RangeError on an unknown or empty field list. */
  constructor(options: JsonEncoderOptions = {}) {
    this.fields = options.fields === undefined
      ? [...JSON_FIELD_NAMES]
      : checkFieldList(options.fields);
    this.#codes = Int32Array.from(this.fields, (n) => FIELD_CODES[n]);
    const dyn = options.dynamicFields;
    this.dynamicFields = dyn === undefined || dyn.length === 0 ? undefined : new Set(dyn);
  }

  /** One JSON object for `msg`, without a newline. */
  encode(msg: HekaMessage): string {
    const codes = this.#codes;
    let s = "{";
    for (let i = 0; i < codes.length; i++) {
      switch (codes[i]) {
        case 0:
          s += '"Uuid":"' + formatUuid(msg.uuid) + '"';
          break;
        case 1:
          s += '"Timestamp":"' + formatTimestamp(msg.timestamp ?? 0n) + '"';
          break;
        case 2:
          s += '"Type":' + JSON.stringify(msg.type ?? "");
          break;
        case 3:
          s += '"Logger":' + JSON.stringify(msg.logger ?? "");
          break;
        case 4:
          s += '"Severity":' + (msg.severity ?? DEFAULT_SEVERITY);
          break;
        case 5:
          s += '"Payload":' + JSON.stringify(msg.payload ?? "");
          break;
        case 6:
          s += '"EnvVersion":' + JSON.stringify(msg.envVersion ?? "");
          break;
        case 7:
          s += '"Pid":' + (msg.pid ?? 0);
          break;
        case 8:
          s += '"Hostname":' + JSON.stringify(msg.hostname ?? "");
          break;
        default: {
          const dyn = this.#dynamic(msg.fields);
          if (dyn === "") continue;
          s += dyn;
        }
      }
      s += ",";
    }
    if (s.length > 1) s = s.slice(0, -1);
    return s + "}";
  }

  /** The dynamic fields as `"key":value` pairs joined by commas ("" when none). */
  #dynamic(fields: HekaField[]): string {
    if (fields.length === 0) return "";
    const allow = this.dynamicFields;
    // Repeated keys are rare: detect them with a list (few fields) or a set.
    const seenList: string[] | undefined = fields.length <= 16 ? [] : undefined;
    const seenSet: Set<string> | undefined = seenList === undefined ? new Set() : undefined;
    let s = "";
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (allow !== undefined && !allow.has(f.name)) continue;
      const key = outputKey(f.name);
      if (seenList !== undefined) {
        if (seenList.includes(key)) return this.#dynamicMerged(fields);
        seenList.push(key);
      } else {
        if (seenSet!.has(key)) return this.#dynamicMerged(fields);
        seenSet!.add(key);
      }
      if (s !== "") s += ",";
      s += JSON.stringify(key) + ":" + jsonFieldValue(f);
    }
    return s;
  }

  /** Slow path of {@link #dynamic} for messages with repeated field keys. */
  #dynamicMerged(fields: HekaField[]): string {
    const allow = this.dynamicFields;
    const groups = new Map<string, HekaField[]>();
    for (const f of fields) {
      if (allow !== undefined && !allow.has(f.name)) continue;
      const key = outputKey(f.name);
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [f]);
      else group.push(f);
    }
    let s = "";
    for (const [key, group] of groups) {
      if (s !== "") s += ",";
      s += JSON.stringify(key) + ":";
      if (group.length === 1) {
        s += jsonFieldValue(group[0]);
      } else {
        let arr = "[";
        for (const f of group) arr = jsonValues(f, arr);
        s += arr + "]";
      }
    }
    return s;
  }
}
