/**
 * Test helpers for the Heka modules: the real-Heka fixture files in `tests/fixtures/`, and
 * fast-check arbitraries of Heka messages.
 *
 * @module
 */
import fc from "fast-check";
import { encodeMessage } from "../../services/heka/codec.ts";
import {
  type HekaField,
  type HekaMessage,
  newField,
  newMessage,
  type ValueType,
} from "../../services/heka/message.ts";

/** Names of the files in `tests/fixtures/`. */
export type FixtureName =
  | "heka-bench.pbuf"
  | "heka-client-tls-signed.pbuf"
  | "lagermeister-framed.pbuf"
  | "lagermeister-message.pb";

/** URL of a fixture (`tests/fixtures/NAME`). */
export function fixturePath(name: FixtureName): URL {
  return new URL(`../fixtures/${name}`, import.meta.url);
}

/** The bytes of a fixture. */
export function readFixture(name: FixtureName): Uint8Array {
  return Deno.readFileSync(fixturePath(name));
}

/** A plain Uint8Array copy (protobufjs hands out pooled Node Buffers). */
export function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** `encodeMessage` as a plain, unshared Uint8Array. */
export function encode(m: HekaMessage): Uint8Array {
  return plain(encodeMessage(m));
}

/** Well-formed strings, including astral code points. */
export const arbText: fc.Arbitrary<string> = fc.string({ unit: "binary", maxLength: 40 });

/** Strings of arbitrary UTF-16 code units, lone surrogates and control characters included. */
export const arbUtf16: fc.Arbitrary<string> = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

const arbInt64: fc.Arbitrary<number> = fc.maxSafeInteger();

/** A dynamic field whose values match its type. */
export const arbField: fc.Arbitrary<HekaField> = fc.record({
  name: fc.oneof(arbText, fc.constantFrom("Type", "Payload", "host", "n", "Fields.Type")),
  valueType: fc.integer({ min: 0, max: 4 }),
  representation: fc.oneof(fc.constant(""), arbText),
  count: fc.integer({ min: 0, max: 4 }),
  seed: fc.array(
    fc.tuple(
      arbText,
      fc.uint8Array({ maxLength: 20 }),
      arbInt64,
      fc.double(),
      fc.boolean(),
    ),
    { minLength: 4, maxLength: 4 },
  ),
}).map(({ name, valueType, representation, count, seed }) => {
  const f = newField(name, valueType as ValueType, representation);
  for (const [s, b, i, d, bool] of seed.slice(0, count)) {
    if (valueType === 0) f.valueString.push(s);
    if (valueType === 1) f.valueBytes.push(b);
    if (valueType === 2) f.valueInteger.push(i);
    if (valueType === 3) f.valueDouble.push(d);
    if (valueType === 4) f.valueBool.push(bool);
  }
  return f;
});

/** Any Heka message the codec can encode (optional fields may be absent). */
export function arbMessage(text: fc.Arbitrary<string> = arbText): fc.Arbitrary<HekaMessage> {
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  return fc.record({
    uuid: opt(fc.uint8Array({ minLength: 16, maxLength: 16 })),
    timestamp: opt(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
    type: opt(text),
    logger: opt(text),
    severity: opt(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
    payload: opt(fc.oneof(text, fc.string({ maxLength: 3000 }))),
    envVersion: opt(text),
    pid: opt(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
    hostname: opt(text),
    fields: fc.array(arbField, { maxLength: 6 }),
  }).map((r) => Object.assign(newMessage(), r));
}

/** Encoded bytes of an arbitrary message. */
export const arbMessageBytes: fc.Arbitrary<Uint8Array> = arbMessage().map(encode);
