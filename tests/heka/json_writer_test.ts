// JsonLineWriter (protobuf bytes → JSON bytes) against the reference string
// encoder over the decoded message: the same bytes, byte for byte, for real
// fixtures, generated messages, hand-built wire bytes (invalid UTF-8, every
// field type, packed and unpacked values, repeats, unknown fields) and
// corrupted bytes; undecodable bytes throw HekaDecodeError in both.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeMessage, encodeMessage, HekaDecodeError } from "../../services/heka/codec.ts";
import { FrameSplitter } from "../../services/heka/framing.ts";
import { JsonLineWriter } from "../../services/heka/json.ts";
import { JSON_FIELD_NAMES, type JsonEncoderOptions } from "../../services/heka/json_options.ts";
import { JsonLineEncoder } from "./json_line_encoder.ts";
import { newField, newMessage, parseUuid, ValueType } from "../../services/heka/message.ts";
import { arbMessage, arbUtf16, encode, readFixture } from "./fixtures.ts";
import { ReferenceJsonLineEncoder } from "./json_reference.ts";

const utf8 = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Integers beyond 2^53: the reference can only write them rounded (see json_reference.ts). */
function roundBigIntegers(line: string): string {
  return line.replace(/-?\d{16,}/g, (t) => String(Number(t)));
}

type Outcome = { line: string } | { error: unknown };

function viaReference(ref: ReferenceJsonLineEncoder, bytes: Uint8Array): Outcome {
  try {
    return { line: ref.encode(decodeMessage(bytes)) };
  } catch (error) {
    return { error };
  }
}

/** Shared buffers that messages are copied into, at odd offsets between junk (as in a socket read). */
const shared = [new Uint8Array(1 << 16), new Uint8Array(1 << 16)];
let sharedTurn = 0;

/** `bytes` copied into a shared buffer, between junk bytes. */
function embedded(bytes: Uint8Array): Uint8Array {
  const buf = shared[sharedTurn++ & 1];
  const at = 1 + (sharedTurn % 7);
  if (at + bytes.length + 8 > buf.length) return bytes.slice();
  buf.fill(0x22, 0, at);
  buf.set(bytes, at);
  buf.fill(0x80, at + bytes.length, at + bytes.length + 8);
  return buf.subarray(at, at + bytes.length);
}

function viaWriter(writer: JsonLineWriter, bytes: Uint8Array): Outcome {
  try {
    const out = writer.encode(bytes);
    // The output must be well-formed UTF-8 (fatal decoder) with no raw control characters.
    const line = strict.decode(out);
    for (const b of out) assert.ok(b >= 0x20, `raw control byte ${b} in ${line}`);
    // The same bytes inside a larger buffer, at an odd offset: the same line.
    assert.equal(strict.decode(writer.encode(embedded(bytes))), line);
    return { line };
  } catch (error) {
    return { error };
  }
}

/**
 * Asserts the writer and the reference agree on `bytes`: the same line
 * (which parses), or both throw HekaDecodeError. Returns whether the bytes
 * were decodable.
 */
function agree(
  writer: JsonLineWriter,
  ref: ReferenceJsonLineEncoder,
  bytes: Uint8Array,
  bigIntegers = false,
): boolean {
  const want = viaReference(ref, bytes);
  const got = viaWriter(writer, bytes);
  if ("error" in want) {
    assert.ok(want.error instanceof HekaDecodeError, String(want.error));
    assert.ok("error" in got, `writer accepted bytes the codec rejects (${want.error})`);
    assert.ok(got.error instanceof HekaDecodeError, String(got.error));
    return false;
  }
  if ("error" in got) throw got.error;
  if (bigIntegers) {
    assert.equal(roundBigIntegers(got.line), roundBigIntegers(want.line));
  } else {
    assert.equal(got.line, want.line);
  }
  JSON.parse(got.line);
  return true;
}

function pair(options: JsonEncoderOptions = {}): [JsonLineWriter, ReferenceJsonLineEncoder] {
  return [new JsonLineWriter(options), new ReferenceJsonLineEncoder(options)];
}

/** The messages of the shared fixtures (copies). */
function fixtureMessages(): Uint8Array[] {
  const splitter = new FrameSplitter();
  splitter.push(readFixture("heka-bench.pbuf"));
  const out: Uint8Array[] = [];
  for (let f = splitter.next(); f !== null; f = splitter.next()) out.push(f.message.slice());
  out.push(readFixture("lagermeister-message.pb"));
  return out;
}

// --- hand-built wire bytes -------------------------------------------------

/** A protobuf writer that can write anything, including what encodeMessage never would. */
class Wire {
  parts: number[] = [];
  varint(v: bigint): this {
    let x = BigInt.asUintN(64, v);
    do {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      this.parts.push(x > 0n ? b | 0x80 : b);
    } while (x > 0n);
    return this;
  }
  tag(no: number, wt: number): this {
    return this.varint(BigInt((no << 3) | wt));
  }
  raw(bytes: Uint8Array | number[]): this {
    for (const b of bytes) this.parts.push(b);
    return this;
  }
  delimited(no: number, bytes: Uint8Array | number[]): this {
    return this.tag(no, 2).varint(BigInt(bytes.length)).raw(bytes);
  }
  double(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return this.raw(b);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Byte sequences that exercise the UTF-8 validation and the JSON escapes. */
const TRICKY: number[][] = [
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf],
  [0xc2, 0x80],
  [0xdf, 0xbf],
  [0xe0, 0x80, 0x80], // overlong
  [0xe0, 0x9f, 0xbf],
  [0xe0, 0xa0, 0x80],
  [0xed, 0x9f, 0xbf],
  [0xed, 0xa0, 0x80], // surrogate
  [0xed, 0xbf, 0xbf],
  [0xee, 0x80, 0x80],
  [0xef, 0xbb, 0xbf], // BOM
  [0xef, 0xbf, 0xbd], // U+FFFD itself
  [0xe2, 0x80, 0xa8], // U+2028
  [0xf0, 0x80, 0x80, 0x80],
  [0xf0, 0x8f, 0xbf, 0xbf],
  [0xf0, 0x90, 0x80, 0x80],
  [0xf0, 0x9f, 0x98, 0x80],
  [0xf4, 0x8f, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
  [0xf5, 0x80, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xfe],
  [0xff],
  [0x80],
  [0xbf],
  [0xe2, 0x82], // truncated
  [0xf0, 0x9f, 0x98], // truncated
  [0xf0, 0x9f],
  [0xc3],
  [0x22],
  [0x5c],
  [0x00],
  [0x08],
  [0x09],
  [0x0a],
  [0x0c],
  [0x0d],
  [0x1f],
  [0x7f],
  [0x2f],
];

/** Arbitrary bytes for a string field: valid text, tricky sequences, noise, long runs. */
const arbRawText: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 30 }).map((s) => utf8.encode(s)) },
  {
    weight: 4,
    arbitrary: fc.array(
      fc.oneof(
        fc.constantFrom(...TRICKY),
        fc.string({ maxLength: 6 }).map((s) => [...utf8.encode(s)]),
        fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 3 }),
        fc.array(fc.integer({ min: 0x80, max: 0xff }), { maxLength: 3 }),
      ),
      { maxLength: 12 },
    ).map((chunks) => Uint8Array.from(chunks.flat())),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.string({ minLength: 33, maxLength: 300 }),
      fc.constantFrom(...TRICKY),
      fc.string({ minLength: 33, maxLength: 300 }),
    ).map(([a, t, b]) => Uint8Array.from([...utf8.encode(a), ...t, ...utf8.encode(b)])),
  },
);

const RESERVED_OR_COMMON = [...JSON_FIELD_NAMES, "Fields.Type", "Fields.Pid", "host", "n", ""];

const arbName: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom(...RESERVED_OR_COMMON).map((s) => utf8.encode(s)),
  arbRawText,
);

const arbInt64: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: -(2n ** 53n) - 2n, max: 2n ** 53n + 2n }),
  fc.bigInt({ min: -1000n, max: 100_000n }),
  fc.constantFrom(0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n)),
);

const arbDouble: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e21, 1e-7, 2 ** 53, 2 ** 53 + 2, 5e-324, 0.1),
  fc.integer().map((n) => n / 8),
);

/** One entry of a `Field` message: [append it, whether it holds integers beyond 2^53]. */
type FieldPart = { write: (w: Wire) => void; big: boolean };

const arbFieldPart: fc.Arbitrary<FieldPart> = fc.oneof(
  arbName.map((n) => ({ write: (w: Wire) => void w.delimited(1, n), big: false })),
  fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: -3, max: 9 })).map((t) => ({
    write: (w: Wire) => void w.tag(2, 0).varint(BigInt(t)),
    big: false,
  })),
  arbRawText.map((t) => ({ write: (w: Wire) => void w.delimited(3, t), big: false })),
  arbRawText.map((t) => ({ write: (w: Wire) => void w.delimited(4, t), big: false })),
  fc.uint8Array({ maxLength: 20 }).map((b) => ({
    write: (w: Wire) => void w.delimited(5, b),
    big: false,
  })),
  fc.tuple(fc.boolean(), fc.array(arbInt64, { maxLength: 4 })).map(([packed, vs]) => ({
    write: (w: Wire) => {
      if (packed) {
        const inner = new Wire();
        for (const v of vs) inner.varint(v);
        w.delimited(6, inner.bytes());
      } else for (const v of vs) w.tag(6, 0).varint(v);
    },
    big: vs.some((v) => v > 2n ** 53n || v < -(2n ** 53n)),
  })),
  fc.tuple(fc.boolean(), fc.array(arbDouble, { maxLength: 4 })).map(([packed, vs]) => ({
    write: (w: Wire) => {
      if (packed) {
        const inner = new Wire();
        for (const v of vs) inner.double(v);
        w.delimited(7, inner.bytes());
      } else for (const v of vs) w.tag(7, 1).double(v);
    },
    big: false,
  })),
  fc.tuple(
    fc.boolean(),
    fc.array(fc.oneof(fc.constantFrom(0n, 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), {
      maxLength: 4,
    }),
  ).map(([packed, vs]) => ({
    write: (w: Wire) => {
      if (packed) {
        const inner = new Wire();
        for (const v of vs) inner.varint(v);
        w.delimited(8, inner.bytes());
      } else for (const v of vs) w.tag(8, 0).varint(v);
    },
    big: false,
  })),
  // Unknown members: skipped.
  fc.tuple(fc.integer({ min: 9, max: 40 }), fc.constantFrom(0, 1, 2, 5)).map(([no, wt]) => ({
    write: (w: Wire) => {
      w.tag(no, wt);
      if (wt === 0) w.varint(300n);
      else if (wt === 1) w.raw([1, 2, 3, 4, 5, 6, 7, 8]);
      else if (wt === 2) w.varint(2n).raw([0xff, 0x00]);
      else w.raw([1, 2, 3, 4]);
    },
    big: false,
  })),
);

/** A typical field first (name, type, values of that type), then anything. */
const arbRawField: fc.Arbitrary<FieldPart> = fc.tuple(
  arbName,
  fc.integer({ min: 0, max: 4 }),
  fc.array(arbFieldPart, { maxLength: 6 }),
  fc.boolean(),
).map(([name, type, parts, typed]) => {
  const fieldParts: FieldPart[] = typed
    ? [
      { write: (w) => void w.delimited(1, name), big: false },
      { write: (w) => void w.tag(2, 0).varint(BigInt(type)), big: false },
      ...parts,
    ]
    : parts;
  return {
    write: (w: Wire) => {
      const inner = new Wire();
      for (const p of fieldParts) p.write(inner);
      w.delimited(10, inner.bytes());
    },
    big: fieldParts.some((p) => p.big),
  };
});

const arbTopPart: fc.Arbitrary<FieldPart> = fc.oneof(
  fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 20 }))
    .map((u) => ({ write: (w: Wire) => void w.delimited(1, u), big: false })),
  arbInt64.map((t) => ({ write: (w: Wire) => void w.tag(2, 0).varint(t), big: false })),
  fc.tuple(fc.constantFrom(3, 4, 6, 7, 9), arbRawText).map(([no, t]) => ({
    write: (w: Wire) => void w.delimited(no, t),
    big: false,
  })),
  fc.tuple(fc.constantFrom(5, 8), fc.oneof(fc.integer(), fc.integer({ min: 0, max: 7 }))).map((
    [no, v],
  ) => ({ write: (w: Wire) => void w.tag(no, 0).varint(BigInt(v)), big: false })),
  { arbitrary: arbRawField, weight: 3 },
  fc.tuple(fc.integer({ min: 11, max: 40 }), fc.constantFrom(0, 1, 2, 5)).map(([no, wt]) => ({
    write: (w: Wire) => {
      w.tag(no, wt);
      if (wt === 0) w.varint(-5n);
      else if (wt === 1) w.raw([1, 2, 3, 4, 5, 6, 7, 8]);
      else if (wt === 2) w.varint(3n).raw([0x80, 0x22, 0x0a]);
      else w.raw([1, 2, 3, 4]);
    },
    big: false,
  })),
);

/** Hand-built message bytes, and whether they hold integers beyond 2^53. */
const arbWireMessage: fc.Arbitrary<{ bytes: Uint8Array; big: boolean }> = fc.array(arbTopPart, {
  maxLength: 14,
}).map((parts) => {
  const w = new Wire();
  for (const p of parts) p.write(w);
  return { bytes: w.bytes(), big: parts.some((p) => p.big) };
});

/** Field selections: any subset, any order, any case, sometimes the DynamicFields alias. */
const arbFieldList: fc.Arbitrary<string[] | undefined> = fc.option(
  fc.shuffledSubarray([...JSON_FIELD_NAMES], { minLength: 1 }).chain((names) =>
    fc.tuple(...names.map((n) =>
      fc.constantFrom(
        n,
        n.toLowerCase(),
        n.toUpperCase(),
        ...(n === "Fields" ? ["DynamicFields", "dynamicfields"] : []),
      )
    ))
  ),
  { nil: undefined },
);

/** Options for `bytes`: a field list, and a whitelist drawn partly from the message's own names. */
function arbOptionsFor(): fc.Arbitrary<{
  fields: string[] | undefined;
  pick: boolean[];
  extra: string[];
  whitelist: boolean;
}> {
  return fc.record({
    fields: arbFieldList,
    pick: fc.array(fc.boolean(), { maxLength: 16 }),
    extra: fc.array(
      fc.oneof(fc.constantFrom(...RESERVED_OR_COMMON, "\ufffd", "\ud800"), fc.string()),
      { maxLength: 3 },
    ),
    whitelist: fc.boolean(),
  });
}

function optionsFor(
  bytes: Uint8Array,
  o: { fields: string[] | undefined; pick: boolean[]; extra: string[]; whitelist: boolean },
): JsonEncoderOptions {
  if (!o.whitelist) return { fields: o.fields };
  let names: string[] = [];
  try {
    names = decodeMessage(bytes).fields.map((f) => f.name);
  } catch {
    // undecodable: only the extra names
  }
  return {
    fields: o.fields,
    dynamicFields: [...names.filter((_, i) => o.pick[i]), ...o.extra],
  };
}

// --- tests -----------------------------------------------------------------

Deno.test("writer = reference on every fixture message, for several option sets", () => {
  const messages = fixtureMessages();
  assert.equal(messages.length, 8);
  const optionSets: JsonEncoderOptions[] = [
    {},
    { fields: ["Fields"] },
    { fields: ["Payload", "uuid", "DynamicFields", "severity"] },
    { fields: ["Hostname", "Timestamp"] },
    { dynamicFields: ["string0", "int1", "double2", "bool3", "filler", "absent"] },
  ];
  for (const options of optionSets) {
    const [writer, ref] = pair(options);
    for (const bytes of messages) assert.ok(agree(writer, ref, bytes));
  }
  // The invalid UTF-8 payload of lagermeister-message.pb comes out as U+FFFD, as in the reference.
  const line = new TextDecoder().decode(
    new JsonLineWriter().encode(readFixture("lagermeister-message.pb")),
  );
  assert.ok(JSON.parse(line).Payload.includes("\ufffd"));
});

Deno.test("property: writer = reference on encoded arbitrary messages", () => {
  const [writer, ref] = pair();
  const [dynWriter, dynRef] = pair({ fields: ["Fields", "Pid"] });
  fc.assert(
    fc.property(fc.oneof(arbMessage(), arbMessage(arbUtf16)), (m) => {
      const bytes = encode(m);
      assert.ok(agree(writer, ref, bytes));
      assert.ok(agree(dynWriter, dynRef, bytes));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("property: writer = reference on hand-built wire bytes (invalid UTF-8, repeats, every type)", () => {
  // One long-lived pair (state must not leak between messages) and fresh ones per option set.
  const [writer, ref] = pair();
  let decodable = 0;
  fc.assert(
    fc.property(arbWireMessage, arbOptionsFor(), ({ bytes, big }, o) => {
      if (agree(writer, ref, bytes, big)) decodable++;
      const [w, r] = pair(optionsFor(bytes, o));
      agree(w, r, bytes, big);
    }),
    { numRuns: 5000 },
  );
  assert.ok(decodable > 4000, `only ${decodable} of 5000 decodable`);
});

Deno.test("property: corrupted bytes are rejected by both or written alike", () => {
  const [writer, ref] = pair();
  let rejected = 0;
  const arbSource = fc.oneof(arbWireMessage.map((w) => w.bytes), arbMessage().map(encode));
  const arbEdit = fc.tuple(
    fc.constantFrom("set", "insert", "delete", "truncate"),
    fc.nat(),
    fc.integer({ min: 0, max: 255 }),
  );
  fc.assert(
    fc.property(arbSource, fc.array(arbEdit, { minLength: 1, maxLength: 3 }), (source, edits) => {
      let b = [...source];
      for (const [kind, at, v] of edits) {
        const i = b.length === 0 ? 0 : at % b.length;
        if (kind === "set") b[i] = v;
        else if (kind === "insert") b.splice(i, 0, v);
        else if (kind === "delete") b.splice(i, 1);
        else b = b.slice(0, i);
      }
      if (!agree(writer, ref, Uint8Array.from(b), true)) rejected++;
    }),
    { numRuns: 5000 },
  );
  assert.ok(rejected > 500, `only ${rejected} of 5000 corrupted messages rejected`);
});

Deno.test("property: random bytes are rejected by both or written alike", () => {
  const [writer, ref] = pair();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      agree(writer, ref, bytes, true);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("writer: integers are exact beyond 2^53, where the reference rounds", () => {
  const f = new Wire().delimited(1, utf8.encode("n")).tag(2, 0).varint(2n);
  const inner = new Wire();
  const values = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 53n, 0n];
  for (const v of values) inner.varint(v);
  f.delimited(6, inner.bytes());
  const bytes = new Wire().delimited(10, f.bytes()).bytes();
  const line = new TextDecoder().decode(new JsonLineWriter({ fields: ["Fields"] }).encode(bytes));
  assert.equal(
    line,
    '{"n":[9223372036854775807,-9223372036854775808,9007199254740993,-9007199254740993,' +
      "9007199254740992,0]}",
  );
  assert.equal(
    new ReferenceJsonLineEncoder({ fields: ["Fields"] }).encode(decodeMessage(bytes)),
    '{"n":[9223372036854776000,-9223372036854776000,9007199254740992,-9007199254740992,' +
      "9007199254740992,0]}",
  );
});

Deno.test("writer: the returned view is reused; a large message grows the buffer", () => {
  const writer = new JsonLineWriter({ fields: ["Payload"] });
  const m = newMessage();
  m.payload = "x".repeat(100_000) + '"';
  const big = writer.encode(encodeMessage(m));
  assert.equal(big.length, '{"Payload":""}'.length + 100_002);
  m.payload = "small";
  const small = writer.encode(encodeMessage(m));
  assert.equal(new TextDecoder().decode(small), '{"Payload":"small"}');
  assert.equal(small.buffer, big.buffer, "one buffer, reused");
  // Absent everything: the defaults.
  assert.equal(
    new TextDecoder().decode(new JsonLineWriter().encode(new Uint8Array(0))),
    '{"Uuid":"","Timestamp":"1970-01-01T00:00:00Z","Type":"","Logger":"","Severity":7,' +
      '"Payload":"","EnvVersion":"","Pid":0,"Hostname":""}',
  );
});

Deno.test("writer: undecodable bytes throw HekaDecodeError, as decodeMessage does", () => {
  const writer = new JsonLineWriter();
  for (
    const bytes of [
      [0x00], // zero tag
      [0x0a, 0x05, 0x01], // uuid overruns
      [0x32, 0x80], // truncated length
      [0x10], // truncated timestamp
      [0x52, 0x02, 0x38, 0x01], // double overruns the field
      [0x0b], // group start without end
      [0x0f], // wire type 7
      [0x52, 0x0a, 0x3a, 0x03, 1, 2, 3, 4, 5, 6, 7, 8], // packed doubles: 3 bytes
      [0x52, 0x04, 0x32, 0x01, 0x80, 0x01], // packed integer overruns its length
      [0x52, 0x04, 0x42, 0x01, 0x80, 0x01], // packed bool overruns its length
      [0x52, 0x03, 0x10, 0x80, 0x01, 0x08], // field overruns its length
    ]
  ) {
    const b = Uint8Array.from(bytes);
    assert.throws(() => decodeMessage(b), HekaDecodeError);
    assert.throws(() => writer.encode(b), HekaDecodeError, `${bytes}`);
  }
});

Deno.test("JsonLineEncoder (decoded messages) writes through JsonLineWriter", () => {
  const m = newMessage();
  m.uuid = parseUuid("87cf1ac2-e810-4ddf-a02d-a5ce44d13a85");
  m.timestamp = 1373989745000000000n;
  m.payload = 'a"b\n\u00e9\ud83d\ude00';
  m.hostname = "h";
  const f = newField("Type", ValueType.INTEGER);
  f.valueInteger.push(1, 2);
  m.fields.push(f);
  const enc = new JsonLineEncoder({
    fields: ["uuid", "Payload", "Fields"],
    dynamicFields: ["Type"],
  });
  assert.deepEqual(enc.fields, ["Uuid", "Payload", "Fields"]);
  assert.deepEqual(enc.options, {
    fields: ["Uuid", "Payload", "Fields"],
    dynamicFields: ["Type"],
  });
  const line = enc.encode(m);
  assert.equal(line, new ReferenceJsonLineEncoder(enc.options).encode(m));
  assert.equal(
    line,
    '{"Uuid":"87cf1ac2-e810-4ddf-a02d-a5ce44d13a85","Payload":"a\\"b\\n\u00e9\ud83d\ude00",' +
      '"Fields.Type":[1,2]}',
  );
  assert.throws(() => new JsonLineEncoder({ fields: ["nope"] }), RangeError);
  assert.throws(() => new JsonLineWriter({ fields: [] }), RangeError);
});

Deno.test("property: encodeInto writes encode's line in place, within maxLineBytes, nothing around it", () => {
  const writer = new JsonLineWriter();
  const inPlace = new JsonLineWriter();
  let written = 0;
  fc.assert(
    fc.property(arbWireMessage, fc.integer({ min: 0, max: 100 }), ({ bytes }, at) => {
      let want: Uint8Array | undefined;
      try {
        want = writer.encode(bytes).slice();
      } catch (err) {
        assert.ok(err instanceof HekaDecodeError);
      }
      const room = JsonLineWriter.maxLineBytes(bytes.length);
      const out = new Uint8Array(at + room + 16).fill(0xee);
      const view = new DataView(out.buffer);
      if (want === undefined) {
        assert.throws(() => inPlace.encodeInto(bytes, out, view, at), HekaDecodeError);
        assert.ok(out.every((b) => b === 0xee), "nothing written for undecodable bytes");
        return;
      }
      written++;
      const end = inPlace.encodeInto(bytes, out, view, at);
      assert.deepEqual(out.subarray(at, end), want);
      assert.ok(end - at <= room);
      assert.ok(out.subarray(0, at).every((b) => b === 0xee), "nothing before at");
      assert.ok(out.subarray(end).every((b) => b === 0xee), "nothing after the line");
    }),
    { numRuns: 2000 },
  );
  assert.ok(written > 1500, `only ${written} of 2000 decodable`);
});
