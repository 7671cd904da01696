// The hand-written codec against protobufjs reflection of proto/message.proto,
// round trips, validation, and fuzzing of the decoder.
import assert from "node:assert/strict";
import fc from "fast-check";
import protobuf from "protobufjs";
import {
  decodeHeader,
  decodeMessage,
  encodeHeader,
  encodeMessage,
  HekaDecodeError,
  type HekaHeader,
  HmacHash,
  scanMessage,
  validateMessage,
} from "../../services/heka/codec.ts";
import { FrameSplitter } from "../../services/heka/framing.ts";
import {
  FIELD_MEMBERS,
  FieldMember,
  type HekaField,
  type HekaMessage,
  MESSAGE_FIELDS,
  MessageField,
  newField,
  newMessage,
  ValueType,
  WireType,
} from "../../services/heka/message.ts";
import { arbMessage, arbMessageBytes, arbUtf16, encode, plain, readFixture } from "./fixtures.ts";

const root = protobuf.parse(
  Deno.readTextFileSync(new URL("../../proto/message.proto", import.meta.url)),
).root;
const ProtoMessage = root.lookupType("message.Message");
const ProtoHeader = root.lookupType("message.Header");

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, bytes: Array, defaults: false };

interface ReflectedField {
  name: string;
  valueType?: number;
  representation?: string;
  valueString?: string[];
  valueBytes?: number[][];
  valueInteger?: string[];
  valueDouble?: number[];
  valueBool?: boolean[];
}

interface ReflectedMessage {
  uuid?: number[];
  timestamp?: string;
  type?: string;
  logger?: string;
  severity?: number;
  payload?: string;
  envVersion?: string;
  pid?: number;
  hostname?: string;
  fields?: ReflectedField[];
}

/** protobufjs reflection's view of `bytes`, in the codec's model. */
function reflect(bytes: Uint8Array): HekaMessage {
  const o = ProtoMessage.toObject(ProtoMessage.decode(bytes), TO_OBJECT) as ReflectedMessage;
  const m = newMessage();
  m.uuid = o.uuid && new Uint8Array(o.uuid);
  m.timestamp = o.timestamp === undefined ? undefined : BigInt(o.timestamp);
  m.type = o.type;
  m.logger = o.logger;
  m.severity = o.severity;
  m.payload = o.payload;
  m.envVersion = o.envVersion;
  m.pid = o.pid;
  m.hostname = o.hostname;
  m.fields = (o.fields ?? []).map((f) => {
    const out = newField(f.name, (f.valueType ?? 0) as ValueType, f.representation ?? "");
    out.valueString = f.valueString ?? [];
    out.valueBytes = (f.valueBytes ?? []).map((b) => new Uint8Array(b));
    out.valueInteger = (f.valueInteger ?? []).map(Number);
    out.valueDouble = f.valueDouble ?? [];
    out.valueBool = f.valueBool ?? [];
    return out;
  });
  return m;
}

/** The codec's decoding with views copied into plain arrays (comparable with reflect()). */
function decodePlain(bytes: Uint8Array): HekaMessage {
  const m = decodeMessage(bytes);
  if (m.uuid) m.uuid = plain(m.uuid);
  for (const f of m.fields) f.valueBytes = f.valueBytes.map(plain);
  return m;
}

function benchMessages(): Uint8Array[] {
  const s = new FrameSplitter();
  s.push(readFixture("heka-bench.pbuf"));
  const out: Uint8Array[] = [];
  for (let f = s.next(); f !== null; f = s.next()) out.push(f.message);
  return out;
}

/** Messages protobufjs can decode: required fields present, strings well-formed. */
const arbReflectable: fc.Arbitrary<HekaMessage> = arbMessage().map((m) => {
  m.uuid ??= new Uint8Array(16);
  m.timestamp ??= 0n;
  return m;
});

Deno.test("codec agrees with protobufjs reflection on the heka-bench fixture", () => {
  const messages = benchMessages();
  assert.equal(messages.length, 7);
  for (const bytes of messages) {
    const ours = decodePlain(bytes);
    assert.deepEqual(ours, reflect(bytes));
    assert.ok(ours.fields.length >= 10, String(ours.fields.length));
  }
});

Deno.test("codec agrees with reflection on the Lagermeister message (except the invalid UTF-8)", () => {
  const bytes = readFixture("lagermeister-message.pb");
  const ours = decodePlain(bytes);
  const theirs = reflect(bytes);
  assert.ok(ours.payload?.includes("\uFFFD"));
  ours.payload = theirs.payload = "";
  assert.deepEqual(ours, theirs);
});

Deno.test("property: codec decodes what reflection decodes, both directions", () => {
  fc.assert(
    fc.property(arbReflectable, (m) => {
      // Our encoding, decoded by both.
      const bytes = encode(m);
      assert.deepEqual(decodePlain(bytes), reflect(bytes));
      // Reflection's encoding, decoded by us.
      const fromReflection = plain(
        ProtoMessage.encode(ProtoMessage.fromObject(toReflectionObject(m))).finish(),
      );
      assert.deepEqual(decodePlain(fromReflection), decodePlain(bytes));
    }),
    { numRuns: 300 },
  );
});

function toReflectionObject(m: HekaMessage): Record<string, unknown> {
  const o: Record<string, unknown> = {
    uuid: m.uuid,
    timestamp: m.timestamp?.toString(),
    type: m.type,
    logger: m.logger,
    severity: m.severity,
    payload: m.payload,
    envVersion: m.envVersion,
    pid: m.pid,
    hostname: m.hostname,
    fields: m.fields.map((f: HekaField) => ({
      name: f.name,
      valueType: f.valueType,
      representation: f.representation || undefined,
      valueString: f.valueString,
      valueBytes: f.valueBytes,
      valueInteger: f.valueInteger.map(String),
      valueDouble: f.valueDouble,
      valueBool: f.valueBool,
    })),
  };
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

Deno.test("property: encode/decode round trip", () => {
  fc.assert(
    fc.property(arbMessage(), (m) => {
      assert.deepEqual(decodeMessage(encode(m)), m);
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: ill-formed UTF-16 strings come back well-formed (lone surrogates to U+FFFD)", () => {
  fc.assert(
    fc.property(arbUtf16, (s) => {
      const m = newMessage();
      m.payload = s;
      m.fields.push(newField(s));
      const back = decodeMessage(encode(m));
      assert.equal(back.payload, s.toWellFormed());
      assert.equal(back.fields[0].name, s.toWellFormed());
    }),
  );
});

Deno.test("fixtures round trip structurally (Go writes defaults explicitly, so not byte for byte)", () => {
  for (const bytes of [...benchMessages(), readFixture("lagermeister-message.pb")]) {
    const m = decodeMessage(bytes);
    assert.deepEqual(decodeMessage(encode(m)), m);
  }
});

Deno.test("int64 timestamps and negative int32 severity/pid survive", () => {
  for (const ts of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 1500826173208510792n, 2n ** 32n]) {
    for (const n of [0, -1, 2 ** 31 - 1, -(2 ** 31)]) {
      const m = newMessage();
      m.timestamp = ts;
      m.severity = n;
      m.pid = n;
      const back = decodeMessage(encode(m));
      assert.equal(back.timestamp, ts);
      assert.equal(back.severity, n);
      assert.equal(back.pid, n);
      const o = ProtoMessage.toObject(ProtoMessage.decode(encode(m)), TO_OBJECT);
      assert.equal(o.timestamp, ts.toString());
    }
  }
});

Deno.test("headers agree with reflection and round trip", () => {
  const headers: (Partial<HekaHeader> & { messageLength: number })[] = [
    { messageLength: 0 },
    { messageLength: 65536 },
    { messageLength: 0xffffffff },
    {
      messageLength: 300,
      hmacHashFunction: HmacHash.SHA1,
      hmacSigner: "ops",
      hmacKeyVersion: 2,
      hmac: new Uint8Array(20).fill(7),
    },
    { messageLength: 1, hmacHashFunction: HmacHash.MD5, hmac: new Uint8Array(16) },
  ];
  for (const h of headers) {
    const bytes = plain(encodeHeader(h));
    const ours = decodeHeader(bytes);
    const o = ProtoHeader.toObject(ProtoHeader.decode(bytes), {
      bytes: Array,
      defaults: true,
    }) as { messageLength: number; hmacHashFunction: number; hmacSigner: string; hmac: number[] };
    assert.equal(ours.messageLength, h.messageLength);
    assert.equal(o.messageLength, h.messageLength);
    assert.equal(ours.hmacHashFunction, o.hmacHashFunction);
    assert.equal(ours.hmacSigner ?? "", o.hmacSigner);
    assert.deepEqual(ours.hmac ?? new Uint8Array(0), new Uint8Array(o.hmac));
    assert.equal(ours.hmacKeyVersion, h.hmacKeyVersion);
  }
  assert.throws(() => decodeHeader(new Uint8Array(0)), HekaDecodeError);
  assert.throws(() => decodeHeader(new Uint8Array([0x18, 0x01])), /no message_length/);
});

Deno.test("validateMessage names what is missing", () => {
  const valid = (): HekaMessage => {
    const m = newMessage();
    m.uuid = new Uint8Array(16);
    m.timestamp = 1n;
    m.hostname = "h";
    m.payload = "p";
    return m;
  };
  assert.equal(validateMessage(valid()), undefined);
  const cases: [string, (m: HekaMessage) => void][] = [
    ["missing uuid", (m) => (m.uuid = undefined)],
    ["uuid must be 16 bytes, got 15", (m) => (m.uuid = new Uint8Array(15))],
    ["uuid must be 16 bytes, got 0", (m) => (m.uuid = new Uint8Array(0))],
    ["missing timestamp", (m) => (m.timestamp = undefined)],
    ["missing hostname", (m) => (m.hostname = undefined)],
    ["missing hostname", (m) => (m.hostname = "")],
    ["missing payload and fields", (m) => (m.payload = undefined)],
  ];
  for (const [reason, spoil] of cases) {
    const m = valid();
    spoil(m);
    assert.equal(validateMessage(m), reason);
    // Same verdict after a trip over the wire.
    assert.equal(validateMessage(decodeMessage(encode(m))), reason);
  }
  const fieldsOnly = valid();
  fieldsOnly.payload = undefined;
  fieldsOnly.fields.push(newField("f"));
  assert.equal(validateMessage(fieldsOnly), undefined);
  const emptyPayload = valid();
  emptyPayload.payload = "";
  assert.equal(validateMessage(emptyPayload), undefined);
});

/** Runs `fn`; anything thrown must be a HekaDecodeError. */
function onlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof HekaDecodeError)) {
      throw new Error(`expected HekaDecodeError, got ${err}`, { cause: err });
    }
  }
}

const arbMutated: fc.Arbitrary<Uint8Array> = fc.tuple(
  arbMessageBytes,
  fc.array(
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })),
    { minLength: 1, maxLength: 8 },
  ),
).map(([bytes, edits]) => {
  let b = Array.from(bytes);
  for (const [pos, value, kind] of edits) {
    const at = b.length === 0 ? 0 : pos % b.length;
    if (kind === 0) b[at] = value; // overwrite
    else if (kind === 1) b.splice(at, 0, value); // insert
    else if (kind === 2) b.splice(at, 1); // delete
    else b = b.slice(0, at); // truncate
  }
  return new Uint8Array(b);
});

Deno.test("fuzz: decodeMessage throws only HekaDecodeError on random and mutated bytes", () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), arbMutated), (bytes) => {
      onlyDecodeErrors(() => decodeMessage(bytes));
      onlyDecodeErrors(() => decodeHeader(bytes));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("fuzz: hostile shapes — deep groups, huge lengths, long varints", () => {
  const hostile: Uint8Array[] = [
    new Uint8Array(200_000).fill(0x5b), // field 11, start group, nested 200k deep
    new Uint8Array([0x5c]), // end group without start
    new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // uuid claiming 4 GB
    new Uint8Array([0x10, ...new Array(11).fill(0xff), 0x01]), // 12-byte varint
    new Uint8Array([0x10, 0xff]), // truncated varint
    new Uint8Array([0x52, 0x05, 0x32, 0x10, 0x01, 0x02, 0x03]), // packed ints overrun field
    new Uint8Array([0x52, 0x04, 0x32, 0x01, 0x80, 0x01]), // packed varint crosses its length
    new Uint8Array([0x00]), // zero tag
    new Uint8Array([0x0f]), // wire type 7
  ];
  // An empty unknown group is well-formed and skipped.
  assert.equal(decodeMessage(new Uint8Array([0x5b, 0x5c, 0x1a, 0x01, 0x74])).type, "t");
  for (const bytes of hostile) {
    assert.throws(() => decodeMessage(bytes), HekaDecodeError, String(bytes.subarray(0, 12)));
    onlyDecodeErrors(() => decodeHeader(bytes));
  }
});

Deno.test("known fields with the wrong wire type are rejected, as Go's decoder does", () => {
  const cases = [
    [0x08, 0x01], // uuid as varint
    [0x12, 0x01, 0x00], // timestamp as length-delimited
    [0x1d, 0, 0, 0, 0], // type as fixed32
    [0x2a, 0x00], // severity as length-delimited
    [0x50, 0x01], // fields as varint
    [0x52, 0x02, 0x08, 0x00], // field name as varint
    [0x52, 0x05, 0x35, 0, 0, 0, 0], // value_integer as fixed32
    [0x52, 0x05, 0x3d, 0, 0, 0, 0], // value_double as fixed32
  ];
  for (const c of cases) {
    assert.throws(() => decodeMessage(new Uint8Array(c)), HekaDecodeError, String(c));
  }
  // The header too: message_length must be a varint.
  assert.throws(() => decodeHeader(new Uint8Array([0x0d, 1, 0, 0, 0])), HekaDecodeError);
  assert.throws(() => decodeHeader(new Uint8Array([0x0f, 0x01])), HekaDecodeError);
  // Unpacked repeated scalars are still accepted (proto2 parsers must accept both).
  const unpacked = decodeMessage(
    new Uint8Array([0x52, 0x0d, 0x30, 0x05, 0x39, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x40, 0x01]),
  );
  assert.deepEqual(unpacked.fields[0].valueInteger, [5]);
  assert.deepEqual(unpacked.fields[0].valueDouble, [1]);
  assert.deepEqual(unpacked.fields[0].valueBool, [true]);
});

Deno.test("unknown fields are skipped", () => {
  const m = newMessage();
  m.type = "t";
  const bytes = encode(m);
  // field 15 varint, field 16 fixed64, field 17 bytes, field 18 fixed32, field 19 group
  const extra = [
    0x78,
    0x05,
    0x81,
    0x01,
    ...new Array(8).fill(1),
    0x8a,
    0x01,
    0x02,
    0xaa,
    0xbb,
    0x95,
    0x01,
    1,
    2,
    3,
    4,
    0x9b,
    0x01,
    0x08,
    0x01,
    0x9c,
    0x01,
  ];
  const back = decodeMessage(new Uint8Array([...extra, ...bytes, ...extra]));
  assert.equal(back.type, "t");
});

Deno.test("decoded uuid and bytes are views into the input (no copies)", () => {
  const m = newMessage();
  m.uuid = new Uint8Array(16).fill(3);
  const f = newField("b", ValueType.BYTES);
  f.valueBytes.push(new Uint8Array([1, 2, 3]));
  m.fields.push(f);
  const bytes = encode(m);
  const back = decodeMessage(bytes);
  assert.equal(back.uuid?.buffer, bytes.buffer);
  assert.equal(back.fields[0].valueBytes[0].buffer, bytes.buffer);
  assert.equal(encodeMessage(m).length, bytes.length);
});

Deno.test("scanMessage agrees with decodeMessage + validateMessage on fixtures, edits and random bytes", async () => {
  const { scanMessage } = await import("../../services/heka/codec.ts");
  const { formatUuid: fmt } = await import("../../services/heka/message.ts");
  const reference = (bytes: Uint8Array): string => {
    try {
      const m = decodeMessage(bytes);
      return validateMessage(m) ?? fmt(m.uuid);
    } catch {
      return "undecodable";
    }
  };
  const scanned = (bytes: Uint8Array): string => {
    const r = scanMessage(bytes);
    if (typeof r !== "string") return fmt(r);
    return r.startsWith("undecodable") ? "undecodable" : r;
  };
  const base = Deno.readFileSync(
    new URL("../fixtures/lagermeister-message.pb", import.meta.url),
  );
  const splitter = new FrameSplitter({ maxMessageSize: 1 << 20 });
  splitter.push(
    Deno.readFileSync(new URL("../fixtures/heka-bench.pbuf", import.meta.url)),
  );
  const bases = [base];
  for (let f = splitter.next(); f; f = splitter.next()) bases.push(f.message.slice(0, 3000));
  const inputs: Uint8Array[] = [...bases, new Uint8Array(0)];
  for (let i = 0; i < 20_000; i++) {
    const src = bases[i % bases.length];
    const b = src.slice(0, Math.floor(Math.random() * (src.length + 1)));
    const flips = Math.floor(Math.random() * 4);
    for (let k = 0; k < flips && b.length; k++) {
      b[Math.floor(Math.random() * b.length)] ^= 1 << Math.floor(Math.random() * 8);
    }
    inputs.push(b);
  }
  for (const b of inputs) {
    if (scanned(b) !== reference(b)) {
      throw new Error(`disagree on ${[...b].join(",")}: scan=${scanned(b)} decode=${reference(b)}`);
    }
  }
});

Deno.test("the field tables of message.ts match proto/message.proto", () => {
  const ProtoField = root.lookupType("message.Field");
  const wireTypeOf = (f: protobuf.Field): number => {
    f.resolve();
    if (f.resolvedType instanceof protobuf.Enum) return WireType.VARINT;
    if (f.resolvedType) return WireType.LEN;
    return protobuf.types.basic[f.type as keyof typeof protobuf.types.basic];
  };
  const tables = [[MESSAGE_FIELDS, ProtoMessage], [FIELD_MEMBERS, ProtoField]] as const;
  for (const [table, type] of tables) {
    assert.deepEqual(
      table.map((row) => row.number),
      Object.keys(type.fieldsById).map(Number).sort((a, b) => a - b),
      type.name,
    );
    for (const row of table) {
      const f = type.fieldsById[row.number];
      assert.equal(f.name, row.name);
      assert.equal(wireTypeOf(f), row.wireType, f.name);
      if ("packed" in row) assert.equal(row.packed, f.repeated && wireTypeOf(f) !== WireType.LEN);
    }
  }
  assert.equal(MessageField.envVersion, 7);
  assert.equal(FieldMember.valueString, 4);
});

Deno.test("scanMessage rejects what decodeMessage rejects, malformed varints included", () => {
  const uuid = [0x0a, 0x10, ...new Array(16).fill(7)];
  const rest = [0x4a, 0x01, 0x68, 0x32, 0x01, 0x78]; // hostname "h", payload "x"
  const cases = [
    [...uuid, 0x10, ...new Array(11).fill(0xff), 0x01, ...rest], // 12-byte timestamp varint
    [...uuid, 0x10, 0x01, 0x28, ...new Array(10).fill(0xff), 0x01, ...rest], // 11-byte severity
    [...uuid, 0x10, 0x01, 0x52, 0x04, 0x32, 0x02, 0xff, 0xff, ...rest], // packed int crosses its length
  ];
  for (const c of cases) {
    const bytes = new Uint8Array(c);
    assert.throws(() => decodeMessage(bytes), HekaDecodeError, String(c));
    assert.match(String(scanMessage(bytes)), /^undecodable/, String(c));
  }
  const ok = new Uint8Array([...uuid, 0x10, 0x01, ...rest]);
  assert.equal(validateMessage(decodeMessage(ok)), undefined);
  assert.equal(typeof scanMessage(ok), "object");
});
