/**
 * The subscriber's JSON line shape (NDJSON, one object per message), after
 * the original Lagermeister's `ESJsonEncode` (itself from Heka's
 * ElasticSearch encoder), and {@link JsonLineWriter}, which writes it
 * straight from a message's protobuf bytes: the layout of
 * {@link MessageScanner} (wire.ts) in, the byte writer (json_bytes.ts)
 * out. The options are in json_options.ts, the timestamp format in
 * timestamp.ts.
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
import { HekaDecodeError } from "./codec.ts";
import {
  checkFieldList,
  JSON_FIELD_NAMES,
  type JsonEncoderOptions,
  type JsonFieldName,
} from "./json_options.ts";
import {
  hashBytes,
  JsonByte,
  sameBytes,
  writeAscii,
  writeBase64,
  writeBool,
  writeDouble,
  writeInt64,
  writeJsonString,
  writeSafeInteger,
  writeUuidHex,
} from "./json_bytes.ts";
import {
  DEFAULT_SEVERITY,
  FieldMember,
  MESSAGE_FIELDS,
  MessageField,
  valueMemberOf,
  ValueType,
} from "./message.ts";
import {
  F_NAME,
  F_NAME_END,
  F_VALUE_COUNT,
  F_VALUE_TYPE,
  F_VALUES,
  FIELD_STRIDE,
  MessageScanner,
  undecodableMessage,
  V_A,
  V_B,
  V_MEMBER,
  VALUE_STRIDE,
} from "./wire.ts";
import { TimestampWriter } from "./timestamp.ts";

const textEncoder = new TextEncoder();

// Module-local copies of the constants the hot loops test and write: V8
// folds these, while it loads and checks an imported binding on every use.
const { QUOTE, COMMA, COLON, LBRACKET, RBRACKET, LBRACE, RBRACE } = JsonByte;
const { uuid: UUID, timestamp: TIMESTAMP, severity: SEVERITY, pid: PID, fields: FIELDS } =
  MessageField;
const { BYTES, INTEGER, DOUBLE, BOOL } = ValueType;
const VALUE_STRING = FieldMember.valueString;

/** The `Message` field number of each JSON key. */
const FIELD_NUMBERS: ReadonlyMap<JsonFieldName, number> = new Map(
  MESSAGE_FIELDS.map((f) => [f.jsonKey, f.number]),
);
const FIELDS_PREFIX = textEncoder.encode("Fields.");
/** `"Key":` (and the opening quote of string values) of each default key, by field number. */
const KEY_BYTES: readonly Uint8Array[] = [
  new Uint8Array(0),
  ...MESSAGE_FIELDS.map((f) =>
    textEncoder.encode(`"${f.jsonKey}":${f.value === "int32" ? "" : '"'}`)
  ),
];
/** Names a dynamic field may not take as its key (they get the `Fields.` prefix). */
const RESERVED_NAMES: readonly Uint8Array[] = MESSAGE_FIELDS
  .filter((f) => f.number !== MessageField.fields)
  .map((f) => textEncoder.encode(f.jsonKey));

/** Per dynamic field, `KEY_STRIDE` Int32 slots at these offsets, beside the scanner's `F_*`. */
const K_KEY = 0; // the key's escaped bytes in #keys, -1 when the field is not written
const K_KEY_END = 1;
const K_HASH = 2; // hash of the key bytes
const K_NEXT = 3; // next field under the same key, -1 at the end
const K_LAST = 4; // of a group's first field: the group's last field
const K_SIZE = 5; // of a group's first field: fields in the group; 0 for the others
const K_COUNT = 6; // its values of the member its value_type selects
const KEY_STRIDE = 7;

function isReservedName(buf: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len < 3 || len > 10) return false;
  for (const name of RESERVED_NAMES) {
    if (name.length === len && sameBytes(name, 0, len, buf, start)) return true;
  }
  return false;
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

/** How many values of field `f[base…]` belong to the member its value_type selects. */
function typedCount(f: Int32Array, base: number, values: Int32Array): number {
  const member = valueMemberOf(f[base + F_VALUE_TYPE]);
  const first = f[base + F_VALUES] * VALUE_STRIDE;
  const last = first + f[base + F_VALUE_COUNT] * VALUE_STRIDE;
  let count = 0;
  for (let v = first; v < last; v += VALUE_STRIDE) if (values[v + V_MEMBER] === member) count++;
  return count;
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
  /** The `Message` field numbers of the selected keys, in output order. */
  readonly #numbers: Int32Array;
  /** Whitelisted names, as escaped JSON string bodies, by {@link hashBytes}. */
  readonly #allow: Map<number, Uint8Array[]> | undefined;
  readonly #scanner = new MessageScanner();
  readonly #timestamp = new TimestampWriter();
  #out = new Uint8Array(8192);
  #outView = new DataView(this.#out.buffer);
  /** A DataView of the buffer being written ({@link encodeInto}'s `outView`). */
  #view: DataView = this.#outView;
  /** A DataView of the buffer of the message being written (kept for the next one, which often shares it). */
  #srcView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  /** The buffer #srcView is a view of, and where the message starts in it. */
  #srcBuffer: ArrayBufferLike | undefined;
  #srcBase = 0;
  /** Escaped keys of the dynamic fields of the message being written. */
  #keys = new Uint8Array(1024);
  #keysView = new DataView(this.#keys.buffer);
  /** Per dynamic field, see `K_*`. */
  #k = new Int32Array(32 * KEY_STRIDE);
  /** Open-addressing table of field indexes + 1, by key hash. */
  #slots = new Int32Array(64);
  /** Scratch of {@link valueOf}. */
  #value = new Uint8Array(256);
  #valueView = new DataView(this.#value.buffer);

  /** Validates the options; throws RangeError on an unknown or empty field list. */
  constructor(options: JsonEncoderOptions = {}) {
    this.fields = options.fields === undefined
      ? [...JSON_FIELD_NAMES]
      : checkFieldList(options.fields);
    this.#numbers = Int32Array.from(this.fields, (n) => FIELD_NUMBERS.get(n)!);
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
   * Bytes {@link encodeInto} may write for a message of `messageLength`
   * bytes: no input byte takes more than 6 output bytes (a `\u00XX`
   * escape), and the keys and defaults fit in the rest.
   */
  static maxLineBytes(messageLength: number): number {
    return messageLength * 6 + 512;
  }

  /**
   * One JSON object for the Heka `Message` in `messageBytes`, without a
   * newline, as UTF-8: a view into a buffer of this writer that is valid
   * until its next `encode`. Throws {@link HekaDecodeError} for bytes that
   * `decodeMessage` rejects (exactly those).
   */
  encode(messageBytes: Uint8Array): Uint8Array {
    const need = JsonLineWriter.maxLineBytes(messageBytes.length);
    if (this.#out.length < need) {
      this.#out = new Uint8Array(Math.max(need, this.#out.length * 2));
      this.#outView = new DataView(this.#out.buffer);
    }
    return this.#out.subarray(0, this.encodeInto(messageBytes, this.#out, this.#outView, 0));
  }

  /**
   * Writes the line {@link encode} returns into `out` from `at` and returns
   * where it ends: no copy for callers that gather lines (the batcher).
   * `out` must have {@link maxLineBytes} of room from `at`; `outView` is a
   * DataView of exactly `out`'s bytes. Throws {@link HekaDecodeError},
   * having written nothing, for bytes that `decodeMessage` rejects.
   */
  encodeInto(messageBytes: Uint8Array, out: Uint8Array, outView: DataView, at: number): number {
    this.prepare(messageBytes);
    return this.writePrepared(out, outView, at);
  }

  /**
   * Checks the Heka `Message` in `messageBytes` and makes it the one
   * {@link writePrepared}, {@link valueOf} and {@link timestampParts} work
   * on: for callers that write something before the line (a record's
   * head). Throws {@link HekaDecodeError} like {@link encode}.
   */
  prepare(messageBytes: Uint8Array): void {
    const scanner = this.#scanner;
    try {
      scanner.scan(messageBytes);
    } catch (err) {
      throw new HekaDecodeError(undecodableMessage(err));
    }
    const src = messageBytes;
    // Messages often share a buffer (a socket read): one DataView for all of them.
    if (src.buffer !== this.#srcBuffer) {
      this.#srcBuffer = src.buffer;
      this.#srcView = new DataView(src.buffer);
    }
    this.#srcBase = src.byteOffset;
  }

  /**
   * Writes the line of the message last {@link prepare}d into `out` from
   * `at` (room and `outView` as for {@link encodeInto}); returns where it ends.
   */
  writePrepared(out: Uint8Array, outView: DataView, at: number): number {
    const src = this.#scanner.bytes;
    this.#view = outView;
    const numbers = this.#numbers;
    let o = at;
    out[o++] = LBRACE;
    for (let c = 0; c < numbers.length; c++) {
      const no = numbers[c];
      if (no === FIELDS) {
        const end = this.#writeDynamic(out, o, src);
        if (end === o) continue; // no dynamic fields: no key at all
        o = end;
      } else {
        o = writeAscii(out, o, KEY_BYTES[no]);
        o = this.#writeValue(out, outView, o, src, no);
      }
      out[o++] = COMMA;
    }
    if (o > at + 1) o--;
    out[o++] = RBRACE;
    return o;
  }

  /**
   * The JSON value (a quoted, escaped string or a number, as in the line)
   * of one key of the message last passed to {@link encode} (or {@link prepare}), whether or not
   * that key is selected: a view into a buffer of this writer, valid until
   * the next `valueOf` or `encode`. Request builders use it for what their
   * store needs besides the line (an `_id`, a host, labels). `"Fields"` is
   * not a value: it throws RangeError.
   */
  valueOf(name: JsonFieldName): Uint8Array {
    const no = FIELD_NUMBERS.get(name)!;
    if (no === FIELDS) throw new RangeError("Fields has no single value");
    const spans = this.#scanner.spans;
    let need = 64;
    if (spans[no * 2] >= 0) need += (spans[no * 2 + 1] - spans[no * 2]) * 6;
    if (this.#value.length < need) {
      this.#value = new Uint8Array(need * 2);
      this.#valueView = new DataView(this.#value.buffer);
    }
    const out = this.#value;
    let o = 0;
    if (KEY_BYTES[no][KEY_BYTES[no].length - 1] === QUOTE) out[o++] = QUOTE;
    o = this.#writeValue(out, this.#valueView, o, this.#scanner.bytes, no);
    return out.subarray(0, o);
  }

  /**
   * The Timestamp of the message last passed to {@link encode} (or {@link prepare}), split into
   * whole seconds since the epoch (floor) and nanoseconds (0 to 999,999,999),
   * both exact.
   */
  timestampParts(): { seconds: number; nanos: number } {
    const t = this.#scanner.timestamp;
    this.#timestamp.split(t[0], t[1]);
    return { seconds: this.#timestamp.seconds, nanos: this.#timestamp.nanos };
  }

  /**
   * Writes the value of `Message` field `no` (not `Fields`), after the
   * opening quote of a string value, with its closing quote.
   */
  #writeValue(out: Uint8Array, outView: DataView, o: number, src: Uint8Array, no: number): number {
    const scanner = this.#scanner;
    const spans = scanner.spans;
    switch (no) {
      case SEVERITY:
        return writeSafeInteger(
          out,
          o,
          spans[no * 2] < 0 ? DEFAULT_SEVERITY : scanner.int32s[no],
        );
      case PID:
        return writeSafeInteger(out, o, spans[no * 2] < 0 ? 0 : scanner.int32s[no]);
      case TIMESTAMP:
        o = this.#timestamp.write(out, o, scanner.timestamp[0], scanner.timestamp[1]);
        break;
      default: {
        // Uuid, Type, Logger, Payload, EnvVersion, Hostname
        const start = spans[no * 2];
        if (start < 0) break;
        const end = spans[no * 2 + 1];
        o = no === UUID
          ? writeUuidHex(out, o, src, start, end)
          : writeJsonString(out, outView, o, src, this.#srcView, this.#srcBase, start, end);
      }
    }
    out[o++] = QUOTE;
    return o;
  }

  /**
   * Writes the dynamic fields as `"key":value` pairs joined by commas;
   * returns `o` unchanged when there are none to write.
   */
  #writeDynamic(out: Uint8Array, o: number, src: Uint8Array): number {
    const srcView = this.#srcView;
    const srcBase = this.#srcBase;
    const scanner = this.#scanner;
    const n = scanner.fieldCount;
    if (n === 0) return o;
    const f = scanner.fields;
    if (n * KEY_STRIDE > this.#k.length) {
      this.#k = new Int32Array(Math.max(n * KEY_STRIDE, this.#k.length * 2));
    }
    const k = this.#k;
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
      const kb = i * KEY_STRIDE;
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
        k[kb + K_KEY] = -1;
        continue;
      }
      let keyStart = bodyStart;
      if (isReservedName(keys, bodyStart, keyEnd)) {
        keyStart = kpos;
        keys.set(FIELDS_PREFIX, kpos);
      }
      const h = hashBytes(keys, keyStart, keyEnd);
      k[kb + K_KEY] = keyStart;
      k[kb + K_KEY_END] = keyEnd;
      k[kb + K_HASH] = h;
      k[kb + K_NEXT] = -1;
      k[kb + K_COUNT] = typedCount(f, base, scanner.values);
      kpos = keyEnd;
      // Group fields by key, in order of first appearance.
      for (let s = h & mask;; s = (s + 1) & mask) {
        const entry = slots[s];
        if (entry === 0) {
          slots[s] = i + 1;
          k[kb + K_LAST] = i;
          k[kb + K_SIZE] = 1;
          break;
        }
        const first = (entry - 1) * KEY_STRIDE;
        const firstKey = k[first + K_KEY];
        if (
          k[first + K_HASH] === h && k[first + K_KEY_END] - firstKey === keyEnd - keyStart &&
          sameBytes(keys, keyStart, keyEnd, keys, firstKey)
        ) {
          k[k[first + K_LAST] * KEY_STRIDE + K_NEXT] = i;
          k[first + K_LAST] = i;
          k[first + K_SIZE]++;
          k[kb + K_SIZE] = 0;
          break;
        }
      }
      written++;
    }
    if (written === 0) return o;
    const start = o;
    for (let i = 0; i < n; i++) {
      const kb = i * KEY_STRIDE;
      const size = k[kb + K_SIZE];
      if (k[kb + K_KEY] < 0 || size === 0) continue;
      if (o !== start) out[o++] = COMMA;
      out[o++] = QUOTE;
      for (let p = k[kb + K_KEY], end = k[kb + K_KEY_END]; p < end; p++) out[o++] = keys[p];
      out[o++] = QUOTE;
      out[o++] = COLON;
      if (size === 1 && k[kb + K_COUNT] === 1) {
        o = this.#writeValues(out, o, src, i, false);
      } else {
        out[o++] = LBRACKET;
        let comma = false;
        for (let j = i; j >= 0; j = k[j * KEY_STRIDE + K_NEXT]) {
          if (k[j * KEY_STRIDE + K_COUNT] === 0) continue;
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
    const scanner = this.#scanner;
    const f = scanner.fields;
    const base = index * FIELD_STRIDE;
    const member = valueMemberOf(f[base + F_VALUE_TYPE]);
    // The value type the member holds (unknown types are read as strings).
    const type = member - VALUE_STRING;
    const values = scanner.values;
    const srcView = this.#srcView;
    const srcBase = this.#srcBase;
    const first = f[base + F_VALUES] * VALUE_STRIDE;
    const last = first + f[base + F_VALUE_COUNT] * VALUE_STRIDE;
    for (let v = first; v < last; v += VALUE_STRIDE) {
      if (values[v + V_MEMBER] !== member) continue;
      if (comma) out[o++] = COMMA;
      comma = true;
      const a = values[v + V_A];
      switch (type) {
        case BYTES:
          out[o++] = QUOTE;
          o = writeBase64(out, o, src, a, values[v + V_B]);
          out[o++] = QUOTE;
          break;
        case INTEGER:
          o = writeInt64(out, o, a, values[v + V_B]);
          break;
        case DOUBLE:
          o = writeDouble(out, o, srcView.getFloat64(srcBase + a, true));
          break;
        case BOOL:
          o = writeBool(out, o, a !== 0);
          break;
        default:
          out[o++] = QUOTE;
          o = writeJsonString(out, this.#view, o, src, srcView, srcBase, a, values[v + V_B]);
          out[o++] = QUOTE;
      }
    }
    return o;
  }
}
