// Property tests of FrameSplitter: arbitrary frames, chunkings and garbage.
import { concatBytes } from "../../services/net/bytes.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeHeader } from "../../services/heka/codec.ts";
import {
  frameMessage,
  FrameSplitter,
  type FrameSplitterStats,
  type HekaFrame,
  type HmacSigner,
  MAX_HEADER_SIZE,
} from "../../services/heka/framing.ts";
import { SignatureVerifier } from "../../services/heka/hmac.ts";
import { arbMessageBytes } from "./fixtures.ts";

/** Garbage that cannot start a record: bytes without 0x1E. */
const arbGarbage: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(new Uint8Array(0)) },
  {
    weight: 2,
    arbitrary: fc.uint8Array({ maxLength: 300, size: "max" }).map((b) =>
      b.map((x) => x === 0x1e ? 0x1f : x)
    ),
  },
);

/** A message: an encoded Heka message, or any bytes (framing does not look inside). */
const arbPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  arbMessageBytes,
  fc.uint8Array({ maxLength: 3000, size: "max" }),
  fc.uint8Array({ maxLength: 4 }),
);

/** Chunk sizes to cut a stream with, used cyclically. */
const arbChunking: fc.Arbitrary<readonly number[]> = fc.oneof(
  fc.constant([1]),
  fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 20 }),
  fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }),
  fc.constant([1 << 30]),
);

interface Run {
  frames: HekaFrame[];
  stats: FrameSplitterStats;
  buffered: number;
  maxBuffered: number;
}

/** Feeds `stream` cut by `sizes` (cyclic), draining after every push. */
function run(stream: Uint8Array, sizes: readonly number[], maxMessageSize?: number): Run {
  const s = new FrameSplitter({ maxMessageSize });
  const frames: HekaFrame[] = [];
  let maxBuffered = 0;
  for (let at = 0, i = 0; at < stream.length; i++) {
    const end = Math.min(stream.length, at + sizes[i % sizes.length]);
    s.push(stream.subarray(at, end));
    at = end;
    for (let f = s.next(); f !== null; f = s.next()) frames.push(f);
    maxBuffered = Math.max(maxBuffered, s.buffered);
  }
  return { frames, stats: { ...s.stats }, buffered: s.buffered, maxBuffered };
}

function frameBytes(f: HekaFrame): number {
  return 3 + encodeHeader(f.header).length + f.message.length;
}

Deno.test("property: valid frames with garbage between, any chunking → the same messages, in order", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(arbGarbage, arbPayload), { maxLength: 25 }),
      arbGarbage,
      arbChunking,
      (items, tail, sizes) => {
        const parts: Uint8Array[] = [];
        let garbage = tail.length;
        for (const [g, m] of items) {
          parts.push(g, frameMessage(m));
          garbage += g.length;
        }
        parts.push(tail);
        const stream = concatBytes(parts);
        const copy = stream.slice();
        const r = run(stream, sizes);
        assert.deepEqual(r.frames.map((f) => f.message), items.map(([, m]) => m));
        assert.equal(r.stats.frames, items.length);
        assert.equal(r.stats.garbageBytes, garbage);
        assert.equal(r.stats.invalidHeaders, 0);
        assert.equal(r.stats.oversized, 0);
        assert.equal(r.buffered, 0);
        assert.deepEqual(stream, copy); // never written to
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("property: oversized records are skipped and counted; the others come through", () => {
  const max = 64;
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          arbGarbage,
          fc.oneof(
            fc.uint8Array({ maxLength: max, size: "max" }),
            fc.uint8Array({ minLength: max + 1, maxLength: 5000, size: "max" }),
          ),
        ),
        { maxLength: 20 },
      ),
      arbChunking,
      (items, sizes) => {
        // Oversized bodies are full of record separators: none may be taken for a frame.
        const messages = items.map(([, m]) => m.length > max ? m.fill(0x1e) : m);
        const stream = concatBytes(items.flatMap(([g], i) => [g, frameMessage(messages[i])]));
        const r = run(stream, sizes, max);
        assert.deepEqual(r.frames.map((f) => f.message), messages.filter((m) => m.length <= max));
        assert.equal(r.stats.oversized, messages.filter((m) => m.length > max).length);
        assert.equal(r.stats.invalidHeaders, 0);
        assert.equal(r.buffered, 0);
        // Never more than one record's worth (plus the chunk just pushed) held.
        const biggestChunk = Math.max(...sizes);
        assert.ok(r.maxBuffered <= max + 3 + MAX_HEADER_SIZE + biggestChunk);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: arbitrary bytes never throw; output does not depend on chunking; bytes add up", () => {
  // Random bytes salted with valid frames and record-separator lookalikes.
  const arbPiece = fc.oneof(
    fc.uint8Array({ maxLength: 200, size: "max" }),
    arbPayload.map((m) => frameMessage(m)),
    fc.uint8Array({ maxLength: 6 }).map((b) => new Uint8Array([0x1e, ...b])),
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 10 })).map((
      [n, b],
    ) => new Uint8Array([0x1e, n, ...b, 0x1f])),
  );
  fc.assert(
    fc.property(
      fc.array(arbPiece, { maxLength: 30 }),
      arbChunking,
      fc.integer({ min: 0, max: 3000 }),
      (pieces, sizes, max) => {
        const stream = concatBytes(pieces);
        const whole = run(stream, [stream.length || 1], max);
        const cut = run(stream, sizes, max);
        assert.deepEqual(cut.frames.map((f) => f.message), whole.frames.map((f) => f.message));
        assert.deepEqual(cut.stats, whole.stats);
        assert.equal(cut.buffered, whole.buffered);
        const used = cut.frames.reduce((n, f) => n + frameBytes(f), 0);
        const s = cut.stats;
        assert.equal(used + s.garbageBytes + s.oversizedBytes + cut.buffered, stream.length);
        assert.ok(cut.buffered <= max + 3 + MAX_HEADER_SIZE);
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("property: signed frames verify after any chunking", () => {
  const verifier = new SignatureVerifier({
    signers: { a_1: "alpha", b_2: "beta" },
    requireSigned: true,
  });
  const arbSigner: fc.Arbitrary<HmacSigner> = fc.record({
    name: fc.constantFrom("a", "b"),
    version: fc.constant(0),
    key: fc.constant(""),
    hash: fc.constantFrom("md5" as const, "sha1" as const),
  }).map((s) =>
    s.name === "a" ? { ...s, version: 1, key: "alpha" } : { ...s, version: 2, key: "beta" }
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(arbGarbage, arbPayload, arbSigner), { maxLength: 10 }),
      arbChunking,
      (items, sizes) => {
        const stream = concatBytes(items.flatMap(([g, m, signer]) => [g, frameMessage(m, signer)]));
        const r = run(stream, sizes);
        assert.equal(r.frames.length, items.length);
        for (const f of r.frames) assert.equal(verifier.verify(f.header, f.message), "ok");
      },
    ),
    { numRuns: 150 },
  );
});
