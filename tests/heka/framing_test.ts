// Unit tests of Heka stream framing: FrameSplitter, frameMessage(s).
import assert from "node:assert/strict";
import { decodeHeader, encodeHeader, HmacHash } from "../../services/heka/codec.ts";
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  frameMessage,
  frameMessages,
  FrameSplitter,
  type HekaFrame,
  type HmacSigner,
  MAX_HEADER_SIZE,
  RECORD_SEPARATOR,
  UNIT_SEPARATOR,
} from "../../services/heka/framing.ts";
import { SignatureVerifier, signMessage } from "../../services/heka/hmac.ts";

function drain(s: FrameSplitter): HekaFrame[] {
  const out: HekaFrame[] = [];
  for (let f = s.next(); f !== null; f = s.next()) out.push(f);
  return out;
}

function bytesOf(...parts: (number | Uint8Array)[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += typeof p === "number" ? 1 : p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    if (typeof p === "number") out[at++] = p;
    else {
      out.set(p, at);
      at += p.length;
    }
  }
  return out;
}

function msg(n: number, fill = 0x41): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/** Pushes `bytes` in chunks of `size`, draining after each. */
function feed(s: FrameSplitter, bytes: Uint8Array, size: number): HekaFrame[] {
  const out: HekaFrame[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    s.push(bytes.subarray(i, i + size));
    out.push(...drain(s));
  }
  return out;
}

/** Bytes accounted for: frames + garbage + oversized + still buffered. */
function accounted(s: FrameSplitter, frames: HekaFrame[]): number {
  let n = s.stats.garbageBytes + s.stats.oversizedBytes + s.buffered;
  for (const f of frames) n += 3 + encodeHeader(f.header).length + f.message.length;
  return n;
}

Deno.test("frameMessage: layout is 0x1E, header length, Header, 0x1F, message", () => {
  const m = msg(300);
  const framed = frameMessage(m);
  assert.equal(framed[0], RECORD_SEPARATOR);
  const hl = framed[1];
  // message_length 300 = varint ac 02 after tag 08
  assert.deepEqual(framed.subarray(2, 2 + hl), new Uint8Array([0x08, 0xac, 0x02]));
  assert.equal(framed[2 + hl], UNIT_SEPARATOR);
  assert.deepEqual(framed.subarray(3 + hl), m);
  assert.equal(decodeHeader(framed.subarray(2, 2 + hl)).messageLength, 300);
  assert.equal(framed.constructor, Uint8Array);
});

Deno.test("frameMessage: signed header carries signer, version, hash and digest", () => {
  const signer: HmacSigner = { name: "ops", version: 3, key: "secret", hash: "sha1" };
  const m = msg(50);
  const framed = frameMessage(m, signer);
  const h = decodeHeader(framed.subarray(2, 2 + framed[1]));
  assert.equal(h.messageLength, 50);
  assert.equal(h.hmacSigner, "ops");
  assert.equal(h.hmacKeyVersion, 3);
  assert.equal(h.hmacHashFunction, HmacHash.SHA1);
  assert.deepEqual(h.hmac, signMessage(m, signer));
  assert.equal(h.hmac?.length, 20);
  const md5Framed = frameMessage(m, { ...signer, hash: "md5" });
  const md5 = decodeHeader(md5Framed.subarray(2, 2 + md5Framed[1]));
  assert.equal(md5.hmacHashFunction, HmacHash.MD5);
  assert.equal(md5.hmac?.length, 16);
});

Deno.test("frameMessage: a header over 255 bytes is a RangeError", () => {
  const signer: HmacSigner = { name: "x".repeat(250), version: 1, key: "k", hash: "md5" };
  assert.throws(() => frameMessage(msg(1), signer), RangeError);
  const ok: HmacSigner = { ...signer, name: "x".repeat(200) };
  assert.ok(frameMessage(msg(1), ok)[1] <= MAX_HEADER_SIZE);
});

Deno.test("frameMessages: same bytes as concatenated frameMessage", () => {
  const ms = [msg(0), msg(1), msg(200, 0x1e), msg(70000)];
  const signer: HmacSigner = { name: "a", version: 0, key: new Uint8Array([1, 2]), hash: "md5" };
  for (const sg of [undefined, signer]) {
    const one = ms.map((m) => frameMessage(m, sg));
    const all = frameMessages(ms, sg);
    assert.deepEqual(all, bytesOf(...one));
  }
  assert.deepEqual(frameMessages([]), new Uint8Array(0));
});

Deno.test("FrameSplitter: frames inside one chunk are views; spanning frames are copies", () => {
  const a = msg(100, 1);
  const b = msg(100, 2);
  const stream = frameMessages([a, b]);
  const first = stream.slice(0, 150); // a whole, b partly
  const second = stream.slice(150);
  const s = new FrameSplitter();
  s.push(first);
  const [fa] = drain(s);
  assert.deepEqual(fa.message, a);
  assert.equal(fa.message.buffer, first.buffer);
  assert.equal(fa.message.byteOffset, first.byteOffset + 5);
  assert.equal(s.buffered, 150 - 105);
  assert.equal(s.next(), null);
  s.push(second);
  const [fb] = drain(s);
  assert.deepEqual(fb.message, b);
  assert.notEqual(fb.message.buffer, first.buffer);
  assert.notEqual(fb.message.buffer, second.buffer);
  assert.equal(s.buffered, 0);
  assert.equal(s.stats.frames, 2);
});

Deno.test("FrameSplitter: detach lets the caller overwrite its buffer, mid-header and mid-message", () => {
  // A signed stream (headers with an hmac, which a pending header holds a view of),
  // read through ONE reused buffer the way the TCP listener does in packed mode.
  const signer: HmacSigner = { name: "ops", version: 1, hash: "md5", key: "k3y" };
  const messages = [msg(10, 9), msg(3000, 7), msg(0), msg(5, 0x1e), msg(70, 3), msg(1200, 4)];
  const stream = bytesOf(frameMessages(messages, signer), 0x1e, 2, frameMessages(messages, signer));
  const verifier = new SignatureVerifier({ signers: { ops_1: "k3y" }, requireSigned: true });
  for (const size of [1, 2, 7, 64, 1000, 4096]) {
    const s = new FrameSplitter();
    const buf = new Uint8Array(size);
    const got: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += size) {
      const n = Math.min(size, stream.length - at);
      buf.fill(0xee); // the previous read's bytes are gone
      buf.set(stream.subarray(at, at + n));
      s.push(buf.subarray(0, n));
      for (let f = s.next(); f !== null; f = s.next()) {
        assert.equal(verifier.verify(f.header, f.message), "ok", `size ${size}`);
        got.push(f.message.slice()); // what a copying sink does before the buffer is reused
      }
      s.detach();
    }
    assert.deepEqual(got, [...messages, ...messages], `read size ${size}`);
    assert.equal(s.buffered, 0);
    assert.equal(s.stats.frames, 12);
  }
});

Deno.test("FrameSplitter: never writes to pushed chunks", () => {
  const stream = frameMessages([msg(10, 9), msg(3000, 7), msg(0), msg(5, 0x1e)]);
  const garbage = bytesOf(1, 2, 3, 0x1e, 0, 0x1f, 0x1e, 200);
  const all = bytesOf(garbage, stream, garbage, stream);
  const copy = all.slice();
  for (const size of [1, 3, 64, 4096, all.length]) {
    const s = new FrameSplitter();
    const frames = feed(s, all, size);
    assert.equal(frames.length, 8);
    assert.deepEqual(all, copy);
    assert.equal(accounted(s, frames), all.length);
  }
});

Deno.test("FrameSplitter: garbage before, between and after frames is skipped and counted", () => {
  const m1 = msg(20, 3);
  const m2 = msg(30, 4);
  const junk = (n: number) => new Uint8Array(n).fill(0x55);
  const stream = bytesOf(junk(7), frameMessage(m1), junk(13), frameMessage(m2), junk(5));
  for (const size of [1, 2, 9, stream.length]) {
    const s = new FrameSplitter();
    const frames = feed(s, stream, size);
    assert.deepEqual(frames.map((f) => f.message), [m1, m2]);
    assert.equal(s.stats.garbageBytes, 25);
    assert.equal(s.stats.invalidHeaders, 0);
    assert.equal(s.buffered, 0);
  }
});

Deno.test("FrameSplitter: invalid headers are skipped by resyncing on the next 0x1E", () => {
  const good = msg(10, 0x42);
  const frame = frameMessage(good);
  const cases: [string, Uint8Array][] = [
    ["header length 0", bytesOf(0x1e, 0x00, 0x1f)],
    ["no unit separator", bytesOf(0x1e, 0x02, 0x08, 0x01, 0x20)],
    ["undecodable header", bytesOf(0x1e, 0x02, 0xff, 0xff, 0x1f)],
    ["header without message_length", bytesOf(0x1e, 0x02, 0x18, 0x01, 0x1f)],
    ["bad wire type", bytesOf(0x1e, 0x02, 0x0f, 0x01, 0x1f)],
  ];
  for (const [name, bad] of cases) {
    const stream = bytesOf(bad, frame, bad, frame);
    for (const size of [1, 4, stream.length]) {
      const s = new FrameSplitter();
      const frames = feed(s, stream, size);
      assert.deepEqual(frames.map((f) => f.message), [good, good], name);
      assert.equal(s.stats.invalidHeaders, 2, name);
      assert.equal(s.stats.garbageBytes, 2 * bad.length, name);
      assert.equal(s.buffered, 0, name);
    }
  }
});

Deno.test("FrameSplitter: a 0x1E inside garbage that looks like a frame start does not eat the next frame", () => {
  const good = msg(4, 0x43);
  // 0x1E then a header length pointing into the real frame: the byte there is not 0x1F.
  const stream = bytesOf(0x1e, 0x05, frameMessage(good));
  const s = new FrameSplitter();
  s.push(stream);
  assert.deepEqual(drain(s).map((f) => f.message), [good]);
  assert.equal(s.stats.invalidHeaders, 1);
  assert.equal(s.stats.garbageBytes, 2);
});

Deno.test("FrameSplitter: zero-length messages come through as empty frames", () => {
  const s = new FrameSplitter();
  s.push(frameMessages([msg(0), msg(0), msg(1)]));
  const frames = drain(s);
  assert.deepEqual(frames.map((f) => f.message.length), [0, 0, 1]);
});

Deno.test("FrameSplitter: message exactly at maxMessageSize passes, one byte more is skipped", () => {
  const s = new FrameSplitter({ maxMessageSize: 100 });
  const stream = frameMessages([msg(100, 1), msg(101, 2), msg(99, 3)]);
  const frames = feed(s, stream, 7);
  assert.deepEqual(frames.map((f) => f.message[0]), [1, 3]);
  assert.equal(s.stats.oversized, 1);
  assert.equal(s.stats.oversizedBytes, 101 + 3 + 2);
  assert.equal(s.stats.garbageBytes, 0);
});

Deno.test("FrameSplitter: oversized records are discarded as they arrive, not buffered", () => {
  const big = msg(1_000_000, 0x1e); // full of record separators, none may be read as frames
  const small = msg(10, 5);
  const stream = bytesOf(frameMessage(big), frameMessage(small), frameMessage(big));
  const s = new FrameSplitter(); // 64 KiB
  let maxBuffered = 0;
  const frames: HekaFrame[] = [];
  for (let i = 0; i < stream.length; i += 4096) {
    s.push(stream.subarray(i, i + 4096));
    maxBuffered = Math.max(maxBuffered, s.buffered);
    frames.push(...drain(s));
  }
  assert.deepEqual(frames.map((f) => f.message), [small]);
  assert.equal(s.stats.oversized, 2);
  assert.equal(s.stats.garbageBytes, 0);
  assert.ok(maxBuffered <= 4096, `buffered up to ${maxBuffered}`);
  assert.equal(accounted(s, frames), stream.length);
});

Deno.test("FrameSplitter: a header claiming 4 GB skips 4 GB without buffering, then resyncs", () => {
  const header = encodeHeader({ messageLength: 0xffffffff });
  const claim = bytesOf(0x1e, header.length, header, 0x1f);
  const s = new FrameSplitter();
  s.push(claim);
  assert.equal(s.next(), null);
  assert.equal(s.stats.oversized, 1);
  // Push the same 1 MiB chunk 4096 times: 4 GiB, one byte more than claimed.
  const mib = new Uint8Array(1 << 20);
  for (let i = 0; i < 4096; i++) {
    s.push(mib);
    assert.equal(s.next(), null);
    assert.ok(s.buffered <= 1);
  }
  const good = msg(8, 6);
  s.push(frameMessage(good));
  assert.deepEqual(drain(s).map((f) => f.message), [good]);
  assert.equal(s.stats.garbageBytes, 1);
  assert.equal(s.stats.oversizedBytes, claim.length + 0xffffffff);
});

Deno.test("FrameSplitter: 4 MB of random bytes never throw and keep the buffer small", () => {
  const random = new Uint8Array(4 << 20);
  for (let i = 0; i < random.length; i += 65536) {
    crypto.getRandomValues(random.subarray(i, i + 65536));
  }
  for (const max of [DEFAULT_MAX_MESSAGE_SIZE, 1024]) {
    const s = new FrameSplitter({ maxMessageSize: max });
    const frames: HekaFrame[] = [];
    for (let i = 0; i < random.length; i += 65536) {
      s.push(random.subarray(i, i + 65536));
      frames.push(...drain(s));
      // What is left is at most one pending record: header + partial message.
      assert.ok(s.buffered <= max + 3 + MAX_HEADER_SIZE, `buffered ${s.buffered}`);
    }
    assert.equal(accounted(s, frames), random.length);
    assert.ok(s.stats.garbageBytes > random.length / 2);
  }
});

Deno.test("FrameSplitter: thousands of tiny frames, in one chunk and byte by byte", () => {
  const messages = Array.from({ length: 5000 }, (_, i) => msg(i % 7, i & 0xff));
  const stream = frameMessages(messages);
  for (const size of [stream.length, 1, 3]) {
    const s = new FrameSplitter();
    const frames = feed(s, stream, size);
    assert.equal(frames.length, 5000);
    assert.deepEqual(frames.map((f) => f.message), messages);
    assert.equal(s.stats.frames, 5000);
    assert.equal(s.buffered, 0);
  }
});

Deno.test("FrameSplitter: a 60 KB message byte by byte (many pending chunks) is copied once, intact", () => {
  const big = new Uint8Array(60_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const stream = frameMessages([big, msg(3)]);
  const s = new FrameSplitter();
  const frames = feed(s, stream, 1);
  assert.equal(frames.length, 2);
  assert.deepEqual(frames[0].message, big);
});

Deno.test("FrameSplitter: next() returns one record at a time; push() alone never consumes", () => {
  const s = new FrameSplitter();
  s.push(frameMessages([msg(1), msg(2), msg(3)]));
  assert.equal(s.stats.frames, 0);
  assert.equal(s.next()?.message.length, 1);
  assert.equal(s.next()?.message.length, 2);
  s.push(frameMessage(msg(4)));
  assert.equal(s.next()?.message.length, 3);
  assert.equal(s.next()?.message.length, 4);
  assert.equal(s.next(), null);
  s.push(new Uint8Array(0));
  assert.equal(s.next(), null);
  assert.equal(s.buffered, 0);
});

Deno.test("FrameSplitter: signed frames keep their header; verifier accepts them", () => {
  const signer: HmacSigner = { name: "ops", version: 1, key: "k3y", hash: "md5" };
  const messages = [msg(10, 1), msg(20, 2), msg(300, 3)];
  const stream = frameMessages(messages, signer);
  const verifier = new SignatureVerifier({ signers: { ops_1: "k3y" }, requireSigned: true });
  for (const size of [1, 5, stream.length]) {
    const s = new FrameSplitter();
    const frames = feed(s, stream, size);
    assert.deepEqual(frames.map((f) => verifier.verify(f.header, f.message)), ["ok", "ok", "ok"]);
    assert.deepEqual(frames.map((f) => f.header.hmacSigner), ["ops", "ops", "ops"]);
  }
});

Deno.test("FrameSplitter: maxMessageSize must be a non-negative integer", () => {
  assert.throws(() => new FrameSplitter({ maxMessageSize: -1 }), RangeError);
  assert.throws(() => new FrameSplitter({ maxMessageSize: 1.5 }), RangeError);
  assert.equal(new FrameSplitter().maxMessageSize, 65536);
  const zero = new FrameSplitter({ maxMessageSize: 0 });
  zero.push(frameMessages([msg(0), msg(1), msg(0)]));
  assert.equal(drain(zero).length, 2);
  assert.equal(zero.stats.oversized, 1);
});
