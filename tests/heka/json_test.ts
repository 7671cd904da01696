// The subscriber's NDJSON line shape, pinned on the reference implementation
// (json_reference.ts); json_writer_test.ts holds JsonLineWriter to it byte for byte.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeMessage } from "../../services/heka/codec.ts";
import { canonicalFieldName, JSON_FIELD_NAMES } from "../../services/heka/json_options.ts";
import { formatTimestamp } from "../../services/heka/timestamp.ts";
import { parseFieldList } from "./json_line_encoder.ts";
import { ReferenceJsonLineEncoder as JsonLineEncoder } from "./json_reference.ts";
import {
  fieldValues,
  formatUuid,
  type HekaField,
  type HekaMessage,
  newField,
  newMessage,
  parseUuid,
  ValueType,
} from "../../services/heka/message.ts";
import { arbMessage, arbUtf16, encode, readFixture } from "./fixtures.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function sample(): HekaMessage {
  const m = newMessage();
  m.uuid = parseUuid("87cf1ac2-e810-4ddf-a02d-a5ce44d13a85");
  m.timestamp = 1373989745000000000n; // 2013-07-16T15:49:05Z
  m.type = "TEST";
  m.logger = "GoSpec";
  m.severity = 6;
  m.payload = "Test Payload";
  m.envVersion = "0.8";
  m.pid = 14098;
  m.hostname = "hostname";
  return m;
}

function field(
  name: string,
  type: ValueType,
  values: (string | Uint8Array | number | boolean)[],
): HekaField {
  const f = newField(name, type);
  for (const v of values) {
    if (type === ValueType.STRING) f.valueString.push(v as string);
    if (type === ValueType.BYTES) f.valueBytes.push(v as Uint8Array);
    if (type === ValueType.INTEGER) f.valueInteger.push(v as number);
    if (type === ValueType.DOUBLE) f.valueDouble.push(v as number);
    if (type === ValueType.BOOL) f.valueBool.push(v as boolean);
  }
  return f;
}

/** Top-level keys in the order they appear in a line (JSON.parse reorders integer-like keys). */
function keyOrder(line: string): string[] {
  const keys: string[] = [];
  const obj = JSON.parse(line) as Record<string, Json>;
  let at = 1;
  for (let i = 0; i < Object.keys(obj).length; i++) {
    const end = line.indexOf('":', at);
    const key = JSON.parse(line.slice(at, end + 1)) as string;
    keys.push(key);
    at = end + 2 + JSON.stringify(obj[key]).length + 1;
  }
  return keys;
}

/** True when the text holds a raw (unescaped) control character U+0000..U+001F. */
function hasRawControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

function base64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** An independent model of the line: plain objects, no string building. */
function expectedObject(m: HekaMessage): Record<string, Json> {
  const out: Record<string, Json> = {
    Uuid: formatUuid(m.uuid),
    Type: m.type ?? "",
    Logger: m.logger ?? "",
    Severity: m.severity ?? 7,
    Payload: m.payload ?? "",
    EnvVersion: m.envVersion ?? "",
    Pid: m.pid ?? 0,
    Hostname: m.hostname ?? "",
  };
  const groups = new Map<string, HekaField[]>();
  for (const f of m.fields) {
    const key = (JSON_FIELD_NAMES as readonly string[]).includes(f.name) && f.name !== "Fields"
      ? `Fields.${f.name}`
      : f.name;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const [key, fs] of groups) {
    const values: Json[] = [];
    for (const f of fs) {
      for (const v of fieldValues(f)) {
        if (f.valueType === ValueType.BYTES) values.push(base64(v as Uint8Array));
        else if (f.valueType === ValueType.INTEGER || f.valueType === ValueType.DOUBLE) {
          const n = v as number;
          values.push(Number.isFinite(n) ? (Object.is(n, -0) ? 0 : n) : null);
        } else values.push(v as string | boolean);
      }
    }
    out[key] = fs.length === 1 && values.length === 1 ? values[0] : values;
  }
  return out;
}

/** Parses an RFC 3339 UTC timestamp back to nanoseconds, independently of formatTimestamp. */
function parseTimestamp(text: string): bigint {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$/.exec(text);
  assert.ok(m, text);
  if (m[7] !== undefined) assert.ok(!m[7].endsWith("0"), `trailing zero in ${text}`);
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return BigInt(ms / 1000) * 1_000_000_000n + BigInt((m[7] ?? "").padEnd(9, "0"));
}

Deno.test("the original Lagermeister's example line, plus nanoseconds and EnvVersion", () => {
  const enc = new JsonLineEncoder();
  assert.equal(
    enc.encode(sample()),
    '{"Uuid":"87cf1ac2-e810-4ddf-a02d-a5ce44d13a85","Timestamp":"2013-07-16T15:49:05Z",' +
      '"Type":"TEST","Logger":"GoSpec","Severity":6,"Payload":"Test Payload",' +
      '"EnvVersion":"0.8","Pid":14098,"Hostname":"hostname"}',
  );
});

Deno.test("absent fields: strings empty, Severity 7, Pid 0, Timestamp the epoch", () => {
  const line = new JsonLineEncoder().encode(newMessage());
  assert.equal(
    line,
    '{"Uuid":"","Timestamp":"1970-01-01T00:00:00Z","Type":"","Logger":"","Severity":7,' +
      '"Payload":"","EnvVersion":"","Pid":0,"Hostname":""}',
  );
});

Deno.test("invalid UTF-8 payload fixture gives valid JSON with U+FFFD", () => {
  const bytes = readFixture("lagermeister-message.pb");
  const line = new JsonLineEncoder().encode(decodeMessage(bytes));
  assert.ok(line.isWellFormed());
  const obj = JSON.parse(line);
  assert.ok(obj.Payload.includes("\uFFFD"));
  assert.ok(obj.Payload.startsWith("hekabench: ubuntu - "));
  assert.equal(obj.Timestamp, "2017-07-23T16:09:33.208510792Z");
  assert.equal(obj.Uuid, "9d40abfe-7329-4258-9fd8-fae330b5629a");
  assert.equal(obj.Logger, "");
  assert.equal(obj.Severity, 6);
  assert.equal(obj.Pid, 38887);
  assert.equal(obj.Hostname, "ubuntu");
  // Control characters from the payload are escaped: no raw ones in the line.
  assert.ok(!hasRawControl(line));
});

Deno.test("field selection: order as given, case-insensitive, DynamicFields alias", () => {
  const m = sample();
  m.fields.push(field("code", ValueType.INTEGER, [200]));
  const enc = new JsonLineEncoder({ fields: ["payload", "Uuid", "DynamicFields", "severity"] });
  assert.deepEqual(enc.fields, ["Payload", "Uuid", "Fields", "Severity"]);
  const line = enc.encode(m);
  assert.deepEqual(keyOrder(line), ["Payload", "Uuid", "code", "Severity"]);
  assert.equal(
    line,
    '{"Payload":"Test Payload","Uuid":"87cf1ac2-e810-4ddf-a02d-a5ce44d13a85","code":200,"Severity":6}',
  );
  // Without "Fields", no dynamic fields at all.
  assert.equal(new JsonLineEncoder({ fields: ["Pid"] }).encode(m), '{"Pid":14098}');
  // Only dynamic fields, and none present.
  assert.equal(new JsonLineEncoder({ fields: ["Fields"] }).encode(sample()), "{}");
  assert.equal(
    new JsonLineEncoder({ fields: ["Fields", "Pid"] }).encode(sample()),
    '{"Pid":14098}',
  );
  // Duplicates are dropped.
  assert.deepEqual(new JsonLineEncoder({ fields: ["Pid", "pid", "PID"] }).fields, ["Pid"]);
});

Deno.test("parseFieldList validates names and lists the valid ones", () => {
  assert.deepEqual(parseFieldList("Uuid,Timestamp, payload ,Fields"), [
    "Uuid",
    "Timestamp",
    "Payload",
    "Fields",
  ]);
  assert.deepEqual(parseFieldList("uuid,,dynamicFields,"), ["Uuid", "Fields"]);
  assert.throws(
    () => parseFieldList("Uuid,Bogus"),
    (e: Error) =>
      e instanceof RangeError && e.message.includes('"Bogus"') &&
      e.message.includes(
        "Uuid, Timestamp, Type, Logger, Severity, Payload, EnvVersion, Pid, " +
          "Hostname, Fields",
      ),
  );
  assert.throws(() => parseFieldList(" , "), /empty/);
  assert.throws(() => new JsonLineEncoder({ fields: [] }), RangeError);
  assert.throws(() => new JsonLineEncoder({ fields: ["Nope"] }), /valid names/);
  assert.equal(canonicalFieldName("ENVVERSION"), "EnvVersion");
  assert.equal(canonicalFieldName("x"), undefined);
});

Deno.test("dynamic fields: scalar, arrays, base64 bytes, numbers, bools, empty", () => {
  const m = newMessage();
  const bytes = new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]);
  m.fields.push(
    field("s", ValueType.STRING, ["one"]),
    field("ss", ValueType.STRING, ["a", "b"]),
    field("b", ValueType.BYTES, [bytes]),
    field("bb", ValueType.BYTES, [new Uint8Array(0), new Uint8Array([104, 105])]),
    field("i", ValueType.INTEGER, [-42]),
    field("ii", ValueType.INTEGER, [22, 80, 3000, Number.MAX_SAFE_INTEGER]),
    field("d", ValueType.DOUBLE, [19101.3]),
    field("dd", ValueType.DOUBLE, [42, -0, 1e300, 5e-324, NaN, Infinity, -Infinity]),
    field("t", ValueType.BOOL, [true]),
    field("tt", ValueType.BOOL, [true, false, false]),
    field("none", ValueType.STRING, []),
  );
  const line = new JsonLineEncoder({ fields: ["Fields"] }).encode(m);
  assert.equal(
    line,
    '{"s":"one","ss":["a","b"],"b":"AAEC+vv8/f7/","bb":["","aGk="],"i":-42,' +
      '"ii":[22,80,3000,9007199254740991],"d":19101.3,' +
      '"dd":[42,0,1e+300,5e-324,null,null,null],"t":true,"tt":[true,false,false],"none":[]}',
  );
  assert.deepEqual(JSON.parse(line), expectedObjectFieldsOnly(m));
  assert.deepEqual(
    JSON.parse(line),
    {
      s: "one",
      ss: ["a", "b"],
      b: base64(bytes),
      bb: ["", "aGk="],
      i: -42,
      ii: [22, 80, 3000, Number.MAX_SAFE_INTEGER],
      d: 19101.3,
      dd: [42, 0, 1e300, 5e-324, null, null, null],
      t: true,
      tt: [true, false, false],
      none: [],
    },
  );
});

Deno.test("dynamic fields: a value type outside the enum is read as strings", () => {
  const m = newMessage();
  const f = newField("odd", 9 as ValueType);
  f.valueString.push("x");
  m.fields.push(f);
  assert.equal(new JsonLineEncoder({ fields: ["Fields"] }).encode(m), '{"odd":"x"}');
});

Deno.test("dynamic field whitelist", () => {
  const m = sample();
  m.fields.push(
    field("integerArray", ValueType.INTEGER, [22, 80, 3000]),
    field("doubleArray", ValueType.DOUBLE, [42, 19101.3]),
    field("secret", ValueType.STRING, ["x"]),
    field("test.dotted.field.name.string", ValueType.STRING, ['{"asdf":123}']),
  );
  const enc = new JsonLineEncoder({
    dynamicFields: ["integerArray", "doubleArray", "test.dotted.field.name.string", "absent"],
  });
  const obj = JSON.parse(enc.encode(m));
  assert.deepEqual(obj.integerArray, [22, 80, 3000]);
  assert.deepEqual(obj.doubleArray, [42, 19101.3]);
  assert.equal(obj["test.dotted.field.name.string"], '{"asdf":123}');
  assert.equal("secret" in obj, false);
  assert.equal("absent" in obj, false);
  // An empty whitelist means all, as in the original.
  assert.equal(JSON.parse(new JsonLineEncoder({ dynamicFields: [] }).encode(m)).secret, "x");
});

Deno.test("a dynamic field named like a default key goes under Fields.<name>", () => {
  const m = sample();
  m.fields.push(
    field("Type", ValueType.STRING, ["dynamic"]),
    field("Severity", ValueType.INTEGER, [1]),
    field("Fields", ValueType.STRING, ["not reserved"]),
  );
  const obj = JSON.parse(new JsonLineEncoder().encode(m));
  assert.equal(obj.Type, "TEST");
  assert.equal(obj.Severity, 6);
  assert.equal(obj["Fields.Type"], "dynamic");
  assert.equal(obj["Fields.Severity"], 1);
  assert.equal(obj.Fields, "not reserved");
  // Prefixed even when the default key is not selected.
  const only = new JsonLineEncoder({ fields: ["Fields"] }).encode(m);
  assert.equal(only, '{"Fields.Type":"dynamic","Fields.Severity":1,"Fields":"not reserved"}');
});

Deno.test("repeated field names (and prefixed collisions) merge into one array", () => {
  const m = newMessage();
  m.fields.push(
    field("tag", ValueType.STRING, ["a"]),
    field("n", ValueType.INTEGER, [1]),
    field("tag", ValueType.STRING, ["b", "c"]),
    field("Type", ValueType.STRING, ["x"]),
    field("tag", ValueType.BOOL, [true]),
    field("Fields.Type", ValueType.STRING, ["y"]),
    field("e", ValueType.STRING, []),
    field("e", ValueType.STRING, []),
  );
  const line = new JsonLineEncoder({ fields: ["Fields"] }).encode(m);
  assert.equal(line, '{"tag":["a","b","c",true],"n":1,"Fields.Type":["x","y"],"e":[]}');
  // Many fields take the set-based duplicate check.
  const big = newMessage();
  for (let i = 0; i < 40; i++) big.fields.push(field(`f${i % 30}`, ValueType.INTEGER, [i]));
  const obj = JSON.parse(new JsonLineEncoder({ fields: ["Fields"] }).encode(big));
  assert.equal(Object.keys(obj).length, 30);
  assert.deepEqual(obj.f0, [0, 30]);
  assert.equal(obj.f29, 29);
  assert.deepEqual(obj, expectedObjectFieldsOnly(big));
});

function expectedObjectFieldsOnly(m: HekaMessage): Record<string, Json> {
  const all = expectedObject(m);
  for (const k of JSON_FIELD_NAMES) delete all[k];
  return all;
}

Deno.test("control characters, quotes, backslashes and lone surrogates are escaped", () => {
  const m = newMessage();
  m.payload = 'a"b\\c\n\r\t\u0000\u0001\u001f\u007f\u2028\u2029 \ud800 x \udfff \ud83d\ude00';
  m.type = "\ud800";
  m.fields.push(field('we"ird\nname\udc00', ValueType.STRING, ["\u0000"]));
  const line = new JsonLineEncoder().encode(m);
  assert.ok(line.isWellFormed());
  assert.ok(!hasRawControl(line));
  const obj = JSON.parse(line);
  assert.equal(obj.Payload, m.payload);
  assert.equal(obj.Type, "\ud800");
  assert.equal(obj['we"ird\nname\udc00'], "\u0000");
});

Deno.test("formatTimestamp: RFC 3339 UTC, nanoseconds trimmed like Go's RFC3339Nano", () => {
  const cases: [bigint, string][] = [
    [0n, "1970-01-01T00:00:00Z"],
    [1n, "1970-01-01T00:00:00.000000001Z"],
    [100_000_000n, "1970-01-01T00:00:00.1Z"],
    [120_000_000n, "1970-01-01T00:00:00.12Z"],
    [999_999_999n, "1970-01-01T00:00:00.999999999Z"],
    [1_000_000_000n, "1970-01-01T00:00:01Z"],
    [1500826173208510792n, "2017-07-23T16:09:33.208510792Z"],
    [1500826173208510000n, "2017-07-23T16:09:33.20851Z"],
    [1500826173000000000n, "2017-07-23T16:09:33Z"],
    [-1n, "1969-12-31T23:59:59.999999999Z"],
    [-1_000_000_000n, "1969-12-31T23:59:59Z"],
    [-1_500_000_000n, "1969-12-31T23:59:58.5Z"],
    [951782400_000000000n, "2000-02-29T00:00:00Z"],
    // int64 extremes, as Go prints them
    [-(2n ** 63n), "1677-09-21T00:12:43.145224192Z"],
    [2n ** 63n - 1n, "2262-04-11T23:47:16.854775807Z"],
  ];
  for (const [ns, text] of cases) {
    assert.equal(formatTimestamp(ns), text, String(ns));
    assert.equal(parseTimestamp(text), ns);
  }
  // The one-entry cache of the seconds prefix does not leak between calls.
  assert.equal(formatTimestamp(1500826173208510792n), "2017-07-23T16:09:33.208510792Z");
  assert.equal(formatTimestamp(1500826173208510793n), "2017-07-23T16:09:33.208510793Z");
  assert.equal(formatTimestamp(1500826174000000000n), "2017-07-23T16:09:34Z");
});

Deno.test("property: every line is valid JSON matching an independent model", () => {
  const enc = new JsonLineEncoder();
  const dynamicOnly = new JsonLineEncoder({ fields: ["Fields"] });
  fc.assert(
    fc.property(fc.oneof(arbMessage(), arbMessage(arbUtf16)), (m) => {
      const line = enc.encode(m);
      assert.ok(line.isWellFormed());
      assert.ok(!hasRawControl(line));
      const obj = JSON.parse(line) as Record<string, Json>;
      assert.equal(parseTimestamp(obj.Timestamp as string), m.timestamp ?? 0n);
      delete obj.Timestamp;
      assert.deepEqual(obj, expectedObject(m));
      assert.deepEqual(JSON.parse(dynamicOnly.encode(m)), expectedObjectFieldsOnly(m));
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: decoded messages (U+FFFD strings) always give valid JSON", () => {
  const enc = new JsonLineEncoder();
  fc.assert(
    fc.property(arbMessage(), fc.uint8Array({ minLength: 1, maxLength: 40 }), (m, junk) => {
      // Put raw, possibly invalid UTF-8 bytes in the payload on the wire.
      m.payload = "";
      const bytes = encode(m);
      const at = bytes.length;
      const wire = new Uint8Array(at + 2 + junk.length);
      wire.set(bytes);
      wire[at] = (6 << 3) | 2;
      wire[at + 1] = junk.length;
      wire.set(junk, at + 2);
      const decoded = decodeMessage(wire);
      const line = enc.encode(decoded);
      assert.equal(JSON.parse(line).Payload, decoded.payload);
    }),
    { numRuns: 300 },
  );
});
