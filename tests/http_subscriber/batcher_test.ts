import assert from "node:assert/strict";
import {
  type Batch,
  Batcher,
  type FlushReason,
  LineOverrun,
} from "../../services/http_subscriber/batcher.ts";
import { sleep } from "./helpers.ts";

interface Sent {
  items: number[];
  body: string;
  bytes: number;
  reason: FlushReason;
  at: number;
}

function collect(o: { maxItems: number; maxBytes: number; maxWaitMs: number }) {
  const out: Sent[] = [];
  const dec = new TextDecoder();
  const b = new Batcher<number>({
    ...o,
    onBatch: (batch: Batch<number>, reason) =>
      out.push({
        items: [...batch.items],
        body: dec.decode(batch.body),
        bytes: batch.body.length,
        reason,
        at: performance.now(),
      }),
  });
  return { b, out };
}

/** A line of `n` bytes with its newline. */
const line = (n: number, c = "x") => c.repeat(n - 1);

Deno.test("batcher hands over a batch when it holds maxItems; the body is the lines + \\n", () => {
  const { b, out } = collect({ maxItems: 3, maxBytes: 1000, maxWaitMs: 60_000 });
  for (let i = 0; i < 7; i++) b.add(i, `{"i":${i}}`);
  assert.deepEqual(out.map((o) => o.items), [[0, 1, 2], [3, 4, 5]]);
  assert.deepEqual(out.map((o) => o.reason), ["size", "size"]);
  assert.equal(out[0].body, '{"i":0}\n{"i":1}\n{"i":2}\n');
  assert.equal(b.openItems.length, 1);
  assert.ok(b.openSince !== undefined);
  b.close();
  assert.deepEqual(out[2].items, [6]);
  assert.equal(out[2].reason, "flush");
  assert.equal(b.openSince, undefined);
  assert.throws(() => b.add(9, "late"));
});

Deno.test("batcher sends before the byte cap would be exceeded; an oversized line goes alone", () => {
  const { b, out } = collect({ maxItems: 100, maxBytes: 100, maxWaitMs: 60_000 });
  b.add(1, line(40, "a"));
  b.add(2, line(40, "b"));
  b.add(3, line(40, "c")); // 120 > 100: [1,2] leaves first
  b.add(4, line(60, "d")); // exactly 100: sent at once
  b.add(5, line(250, "e")); // alone, larger than the cap
  b.add(6, line(1, ""));
  b.close();
  assert.deepEqual(out.map((o) => o.items), [[1, 2], [3, 4], [5], [6]]);
  assert.deepEqual(out.map((o) => o.bytes), [80, 100, 250, 1]);
  assert.deepEqual(out.map((o) => o.reason), ["bytes", "bytes", "bytes", "flush"]);
  assert.equal(out[1].body, line(40, "c") + "\n" + line(60, "d") + "\n");
  assert.equal(out[2].body, line(250, "e") + "\n");
});

Deno.test("batcher counts UTF-8 bytes, not characters, and grows its buffer as needed", () => {
  const { b, out } = collect({ maxItems: 1000, maxBytes: 50_000, maxWaitMs: 60_000 });
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const l = `${i} ` + "ü€😀".repeat(i % 40); // 2, 3 and 4 byte characters
    lines.push(l);
    b.add(i, l);
  }
  b.close();
  const enc = new TextEncoder();
  assert.equal(out.map((o) => o.body).join(""), lines.map((l) => l + "\n").join(""));
  for (const o of out) {
    assert.equal(o.bytes, enc.encode(o.body).length);
    assert.ok(o.bytes <= 50_000, `${o.bytes} bytes`);
  }
  assert.ok(out.length >= 2, "the byte cap split the batches");
});

Deno.test("batcher sends a trickle maxWaitMs after the FIRST item, not the last", async () => {
  const { b, out } = collect({ maxItems: 100, maxBytes: 10_000, maxWaitMs: 200 });
  const t0 = performance.now();
  b.add(1, "a");
  await sleep(120);
  b.add(2, "b"); // a later item must not postpone the batch
  await sleep(120);
  b.add(3, "c");
  await sleep(150);
  assert.ok(out.length >= 1, "first batch sent by time");
  const first = out[0];
  assert.equal(first.reason, "time");
  assert.deepEqual(first.items.slice(0, 2), [1, 2]);
  const age = first.at - t0;
  assert.ok(age >= 190 && age < 320, `sent ${age.toFixed(0)} ms after the first item`);
  await sleep(250);
  assert.deepEqual(out.flatMap((o) => o.items), [1, 2, 3]);
  b.close();
});

Deno.test("batcher with nothing open sends nothing on flush; bad options throw", () => {
  const { b, out } = collect({ maxItems: 2, maxBytes: 10, maxWaitMs: 10 });
  b.flush();
  b.close();
  assert.equal(out.length, 0);
  assert.throws(() => new Batcher({ maxItems: 0, maxBytes: 1, maxWaitMs: 1, onBatch: () => {} }));
});

Deno.test("batcher addBytes copies the line (the caller may reuse its buffer); mixes with add", () => {
  const { b, out } = collect({ maxItems: 4, maxBytes: 1000, maxWaitMs: 60_000 });
  const enc = new TextEncoder();
  const scratch = new Uint8Array(64);
  for (let i = 0; i < 3; i++) {
    const n = enc.encodeInto(`{"i":${i},"ü":"€"}`, scratch).written;
    b.addBytes(i, scratch.subarray(0, n));
    scratch.fill(0x21); // overwritten before the batch leaves
  }
  b.add(3, "last");
  assert.deepEqual(out.map((o) => o.items), [[0, 1, 2, 3]]);
  assert.equal(
    out[0].body,
    '{"i":0,"ü":"€"}\n{"i":1,"ü":"€"}\n{"i":2,"ü":"€"}\nlast\n',
  );
  b.close();
  assert.throws(() => b.addBytes(9, new Uint8Array(1)), /closed/);
});

Deno.test("batcher addBytes: byte cap, oversized lines alone, growth past the size hint", () => {
  const { b, out } = collect({ maxItems: 100, maxBytes: 100, maxWaitMs: 60_000 });
  const bytes = (n: number, c: string) => new TextEncoder().encode(line(n, c));
  b.addBytes(1, bytes(40, "a"));
  b.addBytes(2, bytes(40, "b"));
  b.addBytes(3, bytes(40, "c")); // 120 > 100: [1,2] leaves first
  b.addBytes(4, bytes(60, "d")); // exactly 100: sent at once
  b.addBytes(5, bytes(250, "e")); // alone, larger than the cap
  b.addBytes(6, bytes(1, ""));
  b.close();
  assert.deepEqual(out.map((o) => o.items), [[1, 2], [3, 4], [5], [6]]);
  assert.deepEqual(out.map((o) => o.bytes), [80, 100, 250, 1]);
  assert.deepEqual(out.map((o) => o.reason), ["bytes", "bytes", "bytes", "flush"]);
  assert.equal(out[1].body, line(40, "c") + "\n" + line(60, "d") + "\n");

  // Many lines in one batch: the body buffer grows well past its first guess.
  const big = collect({ maxItems: 1000, maxBytes: 10_000_000, maxWaitMs: 60_000 });
  const l = bytes(3000, "z");
  for (let i = 0; i < 1000; i++) big.b.addBytes(i, l);
  assert.equal(big.out.length, 1);
  assert.equal(big.out[0].bytes, 3_000_000);
  assert.equal(big.out[0].body, (line(3000, "z") + "\n").repeat(1000));
});

Deno.test("batcher writes the next batch into a recycled body's buffer; only its own bytes are sent", () => {
  const bodies: Uint8Array[] = [];
  const b = new Batcher<number>({
    maxItems: 2,
    maxBytes: 1 << 20,
    maxWaitMs: 60_000,
    onBatch: (batch) => bodies.push(batch.body),
  });
  b.add(1, "a".repeat(5000));
  b.add(2, "b".repeat(5000));
  const first = bodies[0];
  const firstText = new TextDecoder().decode(first);
  b.recycle(first);
  b.add(3, "short");
  b.add(4, "lines");
  assert.equal(bodies.length, 2);
  assert.ok(bodies[1].buffer === first.buffer, "the recycled buffer is reused");
  assert.equal(new TextDecoder().decode(bodies[1]), "short\nlines\n");
  // Without recycling, a fresh buffer: the first body is left as it was.
  b.add(5, "c".repeat(10));
  b.add(6, "d".repeat(10));
  assert.ok(bodies[2].buffer !== first.buffer, "not recycled: a fresh buffer");
  assert.equal(firstText.length, 10_002);
  b.close();
});

/** A line writer that writes `source` (a string of ASCII) and claims `slack` bytes more than it needs. */
const asciiWriter = {
  write(source: string, out: Uint8Array, _view: DataView, at: number): number {
    if (source === "bad") throw new Error("undecodable");
    for (let i = 0; i < source.length; i++) out[at + i] = source.charCodeAt(i);
    return at + source.length;
  },
};

Deno.test("batcher addWritten: lines written in place obey the same caps as addBytes", () => {
  const { b, out } = collect({ maxItems: 100, maxBytes: 100, maxWaitMs: 60_000 });
  // Each writer claims 500 bytes of room: more than the cap, as the JSON writer's worst case does.
  b.addWritten(1, line(40, "a"), 500, asciiWriter);
  b.addWritten(2, line(40, "b"), 500, asciiWriter);
  b.addWritten(3, line(40, "c"), 500, asciiWriter); // 120 > 100: moved to the next batch
  b.addWritten(4, line(60, "d"), 500, asciiWriter); // exactly 100: sent at once
  b.addWritten(5, line(250, "e"), 500, asciiWriter); // alone, larger than the cap
  assert.throws(() => b.addWritten(99, "bad", 500, asciiWriter), /undecodable/);
  b.addBytes(6, new TextEncoder().encode(line(1, "")));
  b.close();
  assert.deepEqual(out.map((o) => o.items), [[1, 2], [3, 4], [5], [6]]);
  assert.deepEqual(out.map((o) => o.bytes), [80, 100, 250, 1]);
  assert.equal(out[0].body, line(40, "a") + "\n" + line(40, "b") + "\n");
  assert.equal(out[1].body, line(40, "c") + "\n" + line(60, "d") + "\n");
  assert.equal(out[2].body, line(250, "e") + "\n");
  assert.throws(() => b.addWritten(7, "x", 10, asciiWriter), /closed/);

  // Many lines: the buffer grows for the room each write claims, the body holds only the lines.
  const big = collect({ maxItems: 1000, maxBytes: 10_000_000, maxWaitMs: 60_000 });
  for (let i = 0; i < 1000; i++) big.b.addWritten(i, line(3000, "z"), 20_000, asciiWriter);
  assert.equal(big.out.length, 1);
  assert.equal(big.out[0].bytes, 3_000_000);
  assert.equal(big.out[0].body, (line(3000, "z") + "\n").repeat(1000));
});

Deno.test("batcher addWritten: a write that throws in a fresh batch leaves no empty batch behind", async () => {
  const { b, out } = collect({ maxItems: 100, maxBytes: 1000, maxWaitMs: 30 });
  assert.throws(() => b.addWritten(1, "bad", 10, asciiWriter), /undecodable/);
  assert.equal(b.openItems.length, 0);
  assert.equal(b.openSince, undefined);
  await sleep(80);
  b.flush();
  assert.equal(out.length, 0, "nothing handed over, not even on the timer");
  b.addWritten(2, "ok", 10, asciiWriter);
  b.flush();
  assert.deepEqual(out.map((o) => [o.items, o.body]), [[[2], "ok\n"]]);
});

Deno.test("batcher addWritten: a line longer than its room is refused, never sent", () => {
  const { b, out } = collect({ maxItems: 100, maxBytes: 1000, maxWaitMs: 60_000 });
  b.addWritten(1, "fits", 10, asciiWriter);
  // The writer claims 5 bytes of room and writes 20: it may have been cut, so it is refused.
  assert.throws(() => b.addWritten(2, "x".repeat(20), 5, asciiWriter), LineOverrun);
  assert.throws(() => b.addWritten(3, "y".repeat(20), 5, asciiWriter), /room for 5/);
  b.addWritten(4, "next", 10, asciiWriter);
  b.flush();
  assert.deepEqual(out.map((o) => [o.items, o.body]), [[[1, 4], "fits\nnext\n"]]);
});
