// Unit tests of the chunk format: frames as frameMessages writes them, read back by splitChunk.
import assert from "node:assert/strict";
import { framedSize, splitChunk, writeFrame } from "../../services/heka/chunk.ts";
import { frameMessage, frameMessages, FrameSplitter } from "../../services/heka/framing.ts";

function chunkOf(messages: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(messages.reduce((n, m) => n + framedSize(m.length), 0));
  let at = 0;
  for (const m of messages) at = writeFrame(out, at, m);
  assert.equal(at, out.length, "framedSize is exact");
  return out;
}

Deno.test("writeFrame writes what frameMessages writes; splitChunk and FrameSplitter read it", () => {
  const sizes = [0, 1, 127, 128, 300, 16383, 16384, 70_000, 2_100_000];
  const messages = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
  const chunk = chunkOf(messages);
  assert.deepEqual(chunk, frameMessages(messages));
  const got = splitChunk(chunk);
  assert.equal(got.skippedBytes, 0);
  assert.deepEqual(got.messages, messages);
  const splitter = new FrameSplitter({ maxMessageSize: 1 << 22 });
  splitter.push(chunk);
  const frames = [];
  for (let f = splitter.next(); f !== null; f = splitter.next()) frames.push(f.message);
  assert.deepEqual(frames, messages);
});

Deno.test("splitChunk reads signed frames and skips damage like a stream reader", () => {
  const a = new Uint8Array(40).fill(7);
  const b = new Uint8Array(50).fill(8);
  const signed = frameMessage(b, { name: "ops", version: 1, hash: "md5", key: "k" });
  const damaged = new Uint8Array([0x1e, 0, 1, 2, 3]);
  const got = splitChunk(new Uint8Array([...chunkOf([a]), ...damaged, ...signed, ...chunkOf([a])]));
  assert.deepEqual(got.messages, [a, b, a]);
  assert.equal(got.skippedBytes, damaged.length);
  assert.deepEqual(splitChunk(new Uint8Array(0)), { messages: [], skippedBytes: 0 });
  const cut = chunkOf([a, b]).subarray(0, 60);
  assert.deepEqual(splitChunk(cut).messages, [a]);
  assert.ok(splitChunk(cut).skippedBytes > 0, "a truncated frame is counted");
});
