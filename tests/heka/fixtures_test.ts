// Real bytes written by Heka tooling go through the splitter, the codec and
// the JSON encoder.
import assert from "node:assert/strict";
import { decodeMessage, validateMessage } from "../../services/heka/codec.ts";
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  frameMessage,
  FrameSplitter,
  type FrameSplitter as FrameSplitterT,
  type HekaFrame,
} from "../../services/heka/framing.ts";
import { JsonLineEncoder } from "./json_line_encoder.ts";
import { fieldValues, formatUuid, ValueType } from "../../services/heka/message.ts";
import { readFixture } from "./fixtures.ts";

function drain(s: FrameSplitterT): HekaFrame[] {
  const out: HekaFrame[] = [];
  for (let f = s.next(); f !== null; f = s.next()) out.push(f);
  return out;
}

function splitAll(bytes: Uint8Array, chunkSize: number, maxMessageSize?: number): HekaFrame[] {
  const s = new FrameSplitter({ maxMessageSize });
  const out: HekaFrame[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) {
    s.push(bytes.subarray(i, i + chunkSize));
    out.push(...drain(s));
  }
  assert.equal(s.buffered, 0);
  assert.equal(s.stats.garbageBytes, 0);
  assert.equal(s.stats.invalidHeaders, 0);
  return out;
}

const BENCH_LENGTHS = [36230, 41368, 42310, 41343, 37171, 56727, 46492];

Deno.test("heka-bench.pbuf: 7 messages with the default 64 KiB limit", () => {
  const bytes = readFixture("heka-bench.pbuf");
  assert.equal(DEFAULT_MAX_MESSAGE_SIZE, 65536);
  const frames = splitAll(bytes, bytes.length);
  assert.deepEqual(frames.map((f) => f.message.length), BENCH_LENGTHS);
  assert.equal(Math.max(...frames.map((f) => f.message.length)), 56727);
  for (const f of frames) {
    // A record inside one chunk comes back as a view, not a copy.
    assert.equal(f.message.buffer, bytes.buffer);
    assert.equal(f.header.hmac, undefined);
    const m = decodeMessage(f.message);
    assert.equal(validateMessage(m), undefined);
    assert.equal(m.type, "hekabench");
    assert.equal(m.hostname, "trink-x230");
    assert.equal(m.uuid?.length, 16);
    const names = m.fields.map((x) => x.name);
    assert.ok(names.includes("filler"), names.join());
    for (const field of m.fields) {
      const expectedType = /^string/.test(field.name)
        ? ValueType.STRING
        : /^int/.test(field.name)
        ? ValueType.INTEGER
        : /^double/.test(field.name)
        ? ValueType.DOUBLE
        : /^bool/.test(field.name)
        ? ValueType.BOOL
        : ValueType.BYTES;
      assert.equal(field.valueType, expectedType, field.name);
      assert.ok(fieldValues(field).length >= 1, field.name);
    }
  }
});

Deno.test("heka-bench.pbuf: same messages whatever the chunking", () => {
  const bytes = readFixture("heka-bench.pbuf");
  const whole = splitAll(bytes, bytes.length).map((f) => f.message);
  for (const size of [1, 7, 4096, 10 * 1024, 65536]) {
    const frames = splitAll(bytes, size);
    assert.deepEqual(frames.map((f) => f.message), whole, `chunk size ${size}`);
  }
});

Deno.test("heka-bench.pbuf: the 56,727-byte message needs maxMessageSize >= its length", () => {
  const bytes = readFixture("heka-bench.pbuf");
  assert.equal(splitAll(bytes, 9999, 56727).length, 7);
  const s = new FrameSplitter({ maxMessageSize: 56726 });
  s.push(bytes);
  const frames = drain(s);
  assert.deepEqual(frames.map((f) => f.message.length), BENCH_LENGTHS.filter((n) => n !== 56727));
  assert.equal(s.stats.oversized, 1);
  assert.equal(s.stats.oversizedBytes, 56727 + 3 + 4);
  // The original Lagermeister read 10 KB at a time; nothing fits in 10 KB here.
  const small = new FrameSplitter({ maxMessageSize: 10 * 1024 });
  small.push(bytes);
  assert.equal(drain(small).length, 0);
  assert.equal(small.stats.oversized, 7);
  assert.equal(small.stats.oversizedBytes, bytes.length);
  assert.equal(small.stats.garbageBytes, 0);
});

Deno.test("lagermeister-framed.pbuf: one message, byte-identical to lagermeister-message.pb", () => {
  const framed = readFixture("lagermeister-framed.pbuf");
  const unframed = readFixture("lagermeister-message.pb");
  for (const size of [framed.length, 1, 2, 5, 6, 100]) {
    const frames = splitAll(framed, size);
    assert.equal(frames.length, 1);
    assert.deepEqual(frames[0].message, unframed);
    assert.equal(frames[0].header.messageLength, 281);
  }
  // Framing the raw message again reproduces the fixture exactly.
  assert.deepEqual(frameMessage(unframed), framed);
});

Deno.test("lagermeister-message.pb: invalid UTF-8 payload decodes with U+FFFD, bytes untouched", () => {
  const bytes = readFixture("lagermeister-message.pb");
  const copy = new Uint8Array(bytes);
  const m = decodeMessage(bytes);
  assert.deepEqual(bytes, copy);
  assert.equal(validateMessage(m), undefined);
  assert.equal(formatUuid(m.uuid), "9d40abfe-7329-4258-9fd8-fae330b5629a");
  assert.equal(m.timestamp, 1500826173208510792n);
  assert.equal(m.type, "hekabench");
  assert.equal(m.hostname, "ubuntu");
  assert.equal(m.severity, 6);
  assert.equal(m.pid, 38887);
  assert.equal(m.envVersion, "0.8");
  assert.ok(m.payload?.startsWith("hekabench: ubuntu - "));
  assert.ok(m.payload?.includes("\uFFFD"));
  // The raw payload bytes really are invalid UTF-8.
  const raw = bytes.subarray(bytes.indexOf(0x68 /* "h" */));
  assert.throws(() => new TextDecoder("utf-8", { fatal: true }).decode(raw), TypeError);
});

Deno.test("fixtures: every message encodes to a JSON line that parses", () => {
  const enc = new JsonLineEncoder();
  const messages = [
    ...splitAll(readFixture("heka-bench.pbuf"), 65536).map((f) => f.message),
    readFixture("lagermeister-message.pb"),
  ];
  for (const bytes of messages) {
    const m = decodeMessage(bytes);
    const line = enc.encode(m);
    assert.ok(!line.includes("\n"));
    const obj = JSON.parse(line);
    assert.equal(obj.Uuid, formatUuid(m.uuid));
    assert.equal(obj.Type, "hekabench");
    assert.equal(obj.Payload, m.payload);
  }
});
