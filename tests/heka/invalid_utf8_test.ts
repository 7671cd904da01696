// Go's reading of invalid UTF-8 and the wire bytes the codec keeps for it.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeMessage, encodeMessage } from "../../services/heka/codec.ts";
import {
  decodeUtf8Go,
  goTextOf,
  isValidUtf8,
  wasInvalidUtf8,
  wireBytesOf,
} from "../../services/heka/invalid_utf8.ts";
import { newField, newMessage, ValueType } from "../../services/heka/message.ts";

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });

function fatalOk(b: Uint8Array): boolean {
  try {
    fatal.decode(b);
    return true;
  } catch {
    return false;
  }
}

Deno.test("decodeUtf8Go: one U+FFFD per invalid byte, as Go ranges over a string", () => {
  const cases: [number[], string][] = [
    [[0xe2, 0x82], "\uFFFD\uFFFD"], // truncated: WHATWG gives one U+FFFD
    [[0xed, 0xa0, 0x80], "\uFFFD\uFFFD\uFFFD"], // a surrogate
    [[0xff], "\uFFFD"],
    [[0x61, 0xff, 0x62], "a\uFFFDb"],
    [[0xc0, 0x80], "\uFFFD\uFFFD"], // overlong
    [[0xf4, 0x90, 0x80, 0x80], "\uFFFD\uFFFD\uFFFD\uFFFD"], // above U+10FFFF
    [[0xf0, 0x9f, 0x98], "\uFFFD\uFFFD\uFFFD"],
    [[0xf0, 0x9f, 0x98, 0x80], "😀"],
    [[0xef, 0xbf, 0xbd], "\uFFFD"], // U+FFFD itself is valid
  ];
  for (const [bytes, want] of cases) {
    assert.equal(decodeUtf8Go(Uint8Array.from(bytes)), want, JSON.stringify(bytes));
  }
  assert.equal(lenient.decode(Uint8Array.from([0xe2, 0x82])), "\uFFFD");
});

Deno.test("property: isValidUtf8 agrees with a fatal TextDecoder; valid input decodes the same", () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 12 }),
    fc.string({ unit: "grapheme", maxLength: 6 }).map((s) => new TextEncoder().encode(s)),
    fc.array(fc.constantFrom(0x61, 0x80, 0xbf, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xff), {
      maxLength: 8,
    }).map((a) => Uint8Array.from(a)),
  );
  fc.assert(
    fc.property(bytes, (b) => {
      const ok = fatalOk(b);
      assert.equal(isValidUtf8(b), ok);
      const go = decodeUtf8Go(b);
      if (ok) assert.equal(go, lenient.decode(b));
      else assert.ok(go.includes("\uFFFD"));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("the codec keeps the wire bytes of invalid strings, and only of those", () => {
  const m = newMessage();
  m.uuid = new Uint8Array(16);
  m.timestamp = 1n;
  m.payload = "PAYLOAD";
  m.type = "\uFFFD"; // a real U+FFFD: valid
  const f = newField("f", ValueType.STRING);
  f.valueString.push("ok", "VALUE");
  m.fields.push(f);
  const bytes = encodeMessage(m);
  // Overwrite "PAYLOAD" and "VALUE" on the wire with invalid UTF-8 of the same length.
  const patch = (text: string, invalid: number[]) => {
    const at = new TextDecoder("latin1").decode(bytes).indexOf(text);
    bytes.set(invalid, at);
  };
  patch("PAYLOAD", [0x61, 0xe2, 0x82, 0x62, 0xff, 0x63, 0x64]);
  patch("VALUE", [0xed, 0xa0, 0x80, 0x78, 0x79]);
  const d = decodeMessage(bytes);
  assert.equal(d.payload, "a\uFFFDb\uFFFDcd"); // what JSON shows
  assert.ok(wasInvalidUtf8(d, "payload", d.payload!));
  assert.equal(goTextOf(d, "payload", d.payload!), "a\uFFFD\uFFFDb\uFFFDcd"); // what Go's regexp sees
  assert.deepEqual([...wireBytesOf(d, "payload", d.payload!)], [
    0x61,
    0xe2,
    0x82,
    0x62,
    0xff,
    0x63,
    0x64,
  ]);
  assert.ok(!wasInvalidUtf8(d, "type", d.type!));
  assert.equal(goTextOf(d, "type", d.type!), "\uFFFD");
  const df = d.fields[0];
  assert.ok(!wasInvalidUtf8(df, 0, df.valueString[0]));
  assert.ok(wasInvalidUtf8(df, 1, df.valueString[1]));
  assert.equal(goTextOf(df, 1, df.valueString[1]), "\uFFFD\uFFFD\uFFFDxy");
  // A later assignment is not mistaken for the wire value.
  d.payload = "other";
  assert.ok(!wasInvalidUtf8(d, "payload", d.payload));
  assert.equal(goTextOf(d, "payload", d.payload), "other");
});
