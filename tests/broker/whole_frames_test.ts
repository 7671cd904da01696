/**
 * FrameAssembler: reads regrouped into pieces that end where protocol
 * frames end, whatever the read boundaries; and a subscriber over a real
 * nats-server receiving large messages whole through it.
 */
import { concatBytes } from "../../services/net/bytes.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameAssembler, payloadSize, releaseFrame } from "../../services/broker/whole_frames.ts";
import { connectNats } from "../../services/broker/nats_transport.ts";
import { NatsServer } from "../../testing/mod.ts";

const enc = new TextEncoder();

/** One protocol frame as the server writes it. */
function frame(kind: number, size: number, n: number): Uint8Array {
  const payload = new Uint8Array(size).map((_, i) => (i * 7 + n) % 251);
  switch (kind) {
    case 0:
      return enc.encode("PING\r\n");
    case 1:
      return enc.encode(`INFO {"server_id":"x${n}"}\r\n`);
    case 2:
      return concat(enc.encode(`MSG a.b ${n} ${size}\r\n`), payload, enc.encode("\r\n"));
    default: {
      const hdr = enc.encode("NATS/1.0\r\nA: b\r\n\r\n");
      return concat(
        enc.encode(`HMSG a.b ${n} _INBOX.x ${hdr.length} ${hdr.length + size}\r\n`),
        hdr,
        payload,
        enc.encode("\r\n"),
      );
    }
  }
}

const concat = (...parts: Uint8Array[]) => concatBytes(parts);

Deno.test("payloadSize reads the size of MSG and HMSG lines only", () => {
  const size = (s: string) => payloadSize(enc.encode(s), 0, s.length - 1);
  assert.deepEqual(size("MSG a 1 12\r\n"), 12);
  assert.deepEqual(size("MSG a 1 _INBOX.r 0\r\n"), 0);
  assert.deepEqual(size("HMSG a 1 r 10 300000\r\n"), 300000);
  assert.deepEqual(size("msg a 1 5\r\n"), 5);
  assert.deepEqual(size("PING\r\n"), -1);
  assert.deepEqual(size("+OK\r\n"), -1);
  assert.deepEqual(size("MSGX 1\r\n"), -1);
  assert.deepEqual(size("MSG a b\r\n"), -1);
});

/** Streams of up to 12 protocol frames (lines, small and large messages), and where each ends. */
function frameStreams(maxSize: number) {
  return fc.array(
    fc.record({
      kind: fc.integer({ min: 0, max: 3 }),
      size: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1000, max: maxSize })),
    }),
    { minLength: 1, maxLength: 12 },
  ).map((spec) => {
    const parts = spec.map((f, i) => frame(f.kind, f.size, i));
    const ends = new Set<number>();
    let total = 0;
    for (const p of parts) ends.add(total += p.length);
    return { stream: concat(...parts), ends };
  });
}

/** The pieces are the stream's bytes, in order, and each ends where a frame ends. */
function assertWholeFrames(pieces: Uint8Array[], stream: Uint8Array, ends: Set<number>): void {
  assert.deepEqual(concat(...pieces), stream);
  let seen = 0;
  for (const p of pieces) {
    seen += p.length;
    assert.ok(ends.has(seen), `a piece ends at ${seen}, inside a frame`);
  }
}

Deno.test("FrameAssembler: pieces are the reads' bytes, in order, cut at frame ends", () => {
  fc.assert(
    fc.property(
      frameStreams(70_000),
      fc.array(fc.integer({ min: 1, max: 90_000 }), { maxLength: 30 }),
      ({ stream, ends }, cuts) => {
        const a = new FrameAssembler();
        const pieces: Uint8Array[] = [];
        let at = 0;
        for (const c of cuts) {
          if (at >= stream.length) break;
          const end = Math.min(stream.length, at + c);
          a.push(stream.subarray(at, end), (p) => pieces.push(p.slice()));
          at = end;
        }
        if (at < stream.length) a.push(stream.subarray(at), (p) => pieces.push(p.slice()));
        assertWholeFrames(pieces, stream, ends);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("FrameAssembler: reads into readTarget give the same whole frames, and pieces are never written over", () => {
  fc.assert(
    fc.property(
      frameStreams(200_000),
      fc.array(fc.integer({ min: 1, max: 90_000 }), { maxLength: 40 }),
      ({ stream, ends }, sizes) => {
        const a = new FrameAssembler();
        // Kept as handed out (no copy): a later read writing over one would show.
        const pieces: Uint8Array[] = [];
        let at = 0;
        for (let k = 0; at < stream.length; k++) {
          const target = a.readTarget();
          assert.ok(target.length > 0);
          // As a socket does: as much as the target holds, or less (what has arrived).
          const n = Math.min(target.length, stream.length - at, sizes[k] ?? Infinity);
          target.set(stream.subarray(at, at + n));
          a.read(n, (p) => pieces.push(p));
          at += n;
        }
        assertWholeFrames(pieces, stream, ends);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("FrameAssembler: a large message split over many reads comes out in one piece", () => {
  const f = frame(3, 256 * 1024, 1);
  const a = new FrameAssembler();
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < f.length; at += 65536) {
    a.push(f.subarray(at, Math.min(f.length, at + 65536)), (p) => pieces.push(p));
  }
  assert.deepEqual(pieces.length, 1);
  assert.deepEqual(pieces[0], f);
});

Deno.test("FrameAssembler: a stream that is not NATS passes through unchanged", () => {
  const junk = new Uint8Array(200_000).fill(0x41); // no newline at all
  const a = new FrameAssembler();
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < junk.length; at += 50_000) {
    a.push(junk.subarray(at, at + 50_000), (p) => pieces.push(p.slice()));
  }
  assert.deepEqual(concat(...pieces), junk);
});

Deno.test({
  name: "connectNats: large messages arrive whole and intact over a real server",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await NatsServer.start();
    try {
      const nc = await connectNats({ servers: server.url, noAsyncTraces: true });
      const pub = await connectNats({ servers: server.url, noAsyncTraces: true });
      try {
        const sizes = [0, 5, 70_000, 300_000, 1_000_000, 12, 200_000];
        const got: Uint8Array[] = [];
        const done = Promise.withResolvers<void>();
        nc.subscribe("big", {
          callback: (_err, m) => {
            got.push(new Uint8Array(m.data));
            if (got.length === sizes.length) done.resolve();
          },
        });
        await nc.flush();
        const sent = sizes.map((s, i) => new Uint8Array(s).map((_, k) => (k + i) % 253));
        for (const d of sent) pub.publish("big", d);
        await pub.flush();
        await done.promise;
        assert.deepEqual(got, sent);
      } finally {
        await nc.close();
        await pub.close();
      }
    } finally {
      await server.dispose();
    }
  },
});

Deno.test("FrameAssembler: large frames come from a pool, reused only once given back", () => {
  const a = new FrameAssembler();
  /** Pushes one 100 KB MSG in two reads; returns the whole frame. */
  const assemble = (n: number): Uint8Array => {
    const f = frame(2, 100_000, n);
    const pieces: Uint8Array[] = [];
    a.push(f.subarray(0, 1000), (p) => pieces.push(p));
    a.push(f.subarray(1000), (p) => pieces.push(p));
    assert.equal(pieces.length, 1);
    assert.deepEqual(pieces[0], f);
    return pieces[0];
  };
  const first = assemble(1);
  const second = assemble(2);
  assert.notEqual(second.buffer, first.buffer, "not given back: not reused");
  releaseFrame(first.subarray(40)); // any view of the frame, as a message's data
  releaseFrame(first); // a second release is ignored
  const third = assemble(3);
  assert.equal(third.buffer, first.buffer, "given back: reused");
  assert.deepEqual(third, frame(2, 100_000, 3), "every byte of the reused buffer rewritten");
  const fourth = assemble(4);
  assert.notEqual(fourth.buffer, first.buffer, "released twice, lent once");
  releaseFrame(new Uint8Array(200_000)); // not from the pool: ignored
  assert.notEqual(assemble(5).buffer.byteLength, 200_000);
  // Small frames are not pooled.
  const small = frame(2, 1000, 6);
  const pieces: Uint8Array[] = [];
  a.push(small.subarray(0, 10), (p) => pieces.push(p));
  a.push(small.subarray(10), (p) => pieces.push(p));
  releaseFrame(pieces[0]);
  assert.equal(pieces[0].buffer.byteLength, small.length);
});
