// The WebAssembly JSON string escaper against the JavaScript loop and against
// JSON.stringify of the WHATWG-decoded text.
import assert from "node:assert/strict";
import fc from "fast-check";
import { writeJsonString, writeJsonStringJs } from "../../services/heka/json_bytes.ts";
import {
  escapeJsonStringWasm,
  WASM_ESCAPE_MIN,
  wasmEscapeAvailable,
} from "../../services/heka/json_escape.ts";

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/** What a string body must be: JSON.stringify's, without the quotes. */
function reference(bytes: Uint8Array): Uint8Array {
  return encoder.encode(JSON.stringify(decoder.decode(bytes)).slice(1, -1));
}

/** `bytes` written at offset 3 of `out` by `write`, from a source that starts 5 bytes into its buffer. */
function written(
  bytes: Uint8Array,
  write: typeof writeJsonString,
): Uint8Array {
  const backing = new Uint8Array(bytes.length + 9);
  backing.set(bytes, 5);
  const src = backing.subarray(2); // the bytes start at src[3]
  const out = new Uint8Array(3 + 6 * bytes.length + 16).fill(0xaa);
  const end = write(
    out,
    new DataView(out.buffer),
    3,
    src,
    new DataView(backing.buffer),
    src.byteOffset,
    3,
    3 + bytes.length,
  );
  return out.slice(3, end);
}

function wasmOnly(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 * bytes.length + 16);
  const end = escapeJsonStringWasm(out, 0, bytes, 0, bytes.length);
  assert.ok(end >= 0, "the WebAssembly escaper is not available");
  return out.slice(0, end);
}

/** Bytes that matter to an escaper: plain ASCII, quote, backslash, controls, UTF-8 leads and continuations. */
const interesting = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.constantFrom(0x22, 0x5c, 0x00, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x7f),
  fc.constantFrom(
    0x80,
    0xbf,
    0xc0,
    0xc2,
    0xdf,
    0xe0,
    0xa0,
    0xed,
    0x9f,
    0xef,
    0xf0,
    0x90,
    0xf4,
    0x8f,
    0xf5,
    0xff,
  ),
  fc.integer({ min: 0, max: 255 }),
);

Deno.test("json escape: WebAssembly SIMD runs here (else the tests below test nothing new)", () => {
  assert.equal(wasmEscapeAvailable(), true);
});

Deno.test("json escape: WebAssembly, the JavaScript loop and JSON.stringify agree on any bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 700 }).chain((noise) =>
        fc.array(interesting, { minLength: 0, maxLength: 700 }).map((picked) =>
          Uint8Array.from([...picked, ...noise.subarray(0, picked.length % 64)])
        )
      ),
      (bytes) => {
        const want = reference(bytes);
        assert.deepEqual(wasmOnly(bytes), want);
        assert.deepEqual(written(bytes, writeJsonStringJs), want);
        assert.deepEqual(written(bytes, writeJsonString), want);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("json escape: every escape at every position of a 16-byte block, and sequences across blocks", () => {
  const specials = [
    [0x22],
    [0x5c],
    [0x00],
    [0x0a],
    [0x1f],
    [0xc3, 0xa9], // é
    [0xe2, 0x82, 0xac], // €
    [0xf0, 0x9f, 0x98, 0x80], // 😀
    [0xe2, 0x82], // truncated
    [0xed, 0xa0, 0x80], // a surrogate
    [0xff],
  ];
  for (const s of specials) {
    for (let at = 0; at < 40; at++) {
      const bytes = new Uint8Array(WASM_ESCAPE_MIN + 40).fill(0x61);
      bytes.set(s, at);
      assert.deepEqual(written(bytes, writeJsonString), reference(bytes), `${s} at ${at}`);
      // and cut short at the end of the input
      const end = bytes.slice(0, WASM_ESCAPE_MIN + at);
      end.set(s.slice(0, Math.max(1, s.length - 1)), end.length - Math.max(1, s.length - 1));
      assert.deepEqual(wasmOnly(end), reference(end), `${s} cut at the end, ${at}`);
    }
  }
});

Deno.test("json escape: long strings grow the module's memory and stay right", () => {
  const bytes = new Uint8Array(300_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 97 === 0 ? 0x22 : 0x41 + (i % 26);
  assert.deepEqual(wasmOnly(bytes), reference(bytes));
  const small = encoder.encode('after growing: "quoted" \\ and é');
  assert.deepEqual(wasmOnly(small), reference(small));
});
