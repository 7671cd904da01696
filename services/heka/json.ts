/**
 * The subscriber's JSON line shape (NDJSON, one object per message), after
 * the original Lagermeister's `ESJsonEncode` (itself from Heka's
 * ElasticSearch encoder).
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
 * as JSON booleans. A dynamic field whose name equals one of the default
 * keys above is written as `"Fields.<name>"` (e.g. `"Fields.Type"`) so it
 * never clobbers the default key, whether or not that key is selected.
 * Fields that end up under the same key (a repeated name) are merged into
 * one array, at the position of the first. Output is always valid JSON:
 * strings were decoded with U+FFFD for invalid UTF-8 by the codec, and
 * control characters and lone surrogates are escaped.
 *
 * @module
 */
import {
  DEFAULT_SEVERITY,
  fieldValues,
  formatUuid,
  type HekaField,
  type HekaMessage,
  ValueType,
} from "./message.ts";

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

/** Options of {@link JsonLineEncoder}. */
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

/** Keys a dynamic field may not take over; such fields get a `"Fields."` prefix. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(JSON_FIELD_NAMES.slice(0, 9));

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
 * Encodes Heka messages as single-line JSON objects (no trailing newline),
 * in the shape described in this module's documentation. Build one per
 * configuration and reuse it; `encode` is a hot path.
 */
export class JsonLineEncoder {
  /** The selected keys, canonical spelling, in output order. */
  readonly fields: readonly JsonFieldName[];
  /** The dynamic field whitelist, or undefined for all. */
  readonly dynamicFields: ReadonlySet<string> | undefined;
  readonly #codes: Int32Array;

  /** Validates the options; throws RangeError on an unknown or empty field list. */
  constructor(options: JsonEncoderOptions = {}) {
    this.fields = options.fields === undefined
      ? [...JSON_FIELD_NAMES]
      : checkedFieldList(options.fields);
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
