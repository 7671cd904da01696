/**
 * FrameHandler and MessageGate alone (issue #11.3): real frames from the
 * real splitter, a recording sink and a stand-in publisher for the
 * counters — no sockets, no NATS. What they decide is what both receivers
 * store.
 */
import assert from "node:assert/strict";
import type { JetStreamPublisher, PublishOutcome } from "../../services/broker/mod.ts";
import { frameMessage, FrameSplitter, type HekaFrame } from "../../services/heka/framing.ts";
import { type HmacSigner, SignatureVerifier } from "../../services/heka/hmac.ts";
import { MatcherSyntaxError } from "../../services/heka/matcher/mod.ts";
import { Logger } from "../../services/log/mod.ts";
import { MessageGate, ReceiverMetrics } from "../../services/receiver/mod.ts";
import type { MessageSink } from "../../services/receiver/sink.ts";
import { FrameHandler } from "../../services/tcp_receiver/frame_handler.ts";
import { makeMessage } from "../helpers/messages.ts";

/** Records what it is handed; `limit` plays the server's max message size. */
class RecordingSink implements MessageSink {
  readonly sent: { message: Uint8Array; msgId: string; release?: () => void }[] = [];
  blocked = false;
  stored = 0;
  readonly copiesMessages = false;
  constructor(readonly limit = 1 << 20) {}
  ready(): Promise<void> {
    return Promise.resolve();
  }
  send(message: Uint8Array, msgId: string, release?: () => void): void {
    this.sent.push({ message, msgId, release });
  }
  store(): Promise<PublishOutcome> {
    return Promise.resolve("ok");
  }
  storeAll(): Promise<PublishOutcome> {
    return Promise.resolve("ok");
  }
  flush(): void {}
  maxMessageBytes(): number {
    return this.limit;
  }
}

/** Just what ReceiverMetrics reads of a publisher. */
const publisher = {
  stats: {
    published: 0,
    acked: 0,
    duplicates: 0,
    resent: 0,
    errorAcks: 0,
    cancelled: 0,
    rejected: 0,
  },
  inflight: 0,
  available: true,
  lastRejection: undefined,
  maxDataBytes: () => 1 << 20,
} as unknown as JetStreamPublisher;

const SIGNER: HmacSigner = { name: "ops", version: 1, key: "s3cret", hash: "sha1" };

function frames(bytes: Uint8Array): HekaFrame[] {
  const s = new FrameSplitter({ maxMessageSize: 1 << 20 });
  s.push(bytes);
  const out: HekaFrame[] = [];
  for (let f = s.next(); f; f = s.next()) out.push(f);
  return out;
}

function handler(o: { spec?: string; requireSigned?: boolean; limit?: number } = {}) {
  const sink = new RecordingSink(o.limit);
  const metrics = new ReceiverMetrics("tcp_receiver", publisher, sink);
  const h = new FrameHandler(
    new MessageGate(o.spec ?? ""),
    new SignatureVerifier({
      signers: { ops_1: "s3cret" },
      requireSigned: o.requireSigned ?? false,
    }),
    sink,
    metrics,
    new Logger("test", "error"),
  );
  return { h, sink, metrics };
}

Deno.test("FrameHandler hands accepted message bytes to the sink with the uuid as id", () => {
  const { h, sink, metrics } = handler();
  const m = makeMessage(1);
  for (const f of frames(frameMessage(m.bytes))) h.handle(f, "peer");
  assert.equal(sink.sent.length, 1);
  assert.equal(sink.sent[0].msgId, m.uuid);
  assert.deepEqual(
    new Uint8Array(sink.sent[0].message),
    new Uint8Array(m.bytes),
    "the bytes as sent, never re-encoded",
  );
  assert.equal(metrics.received.value, 1);
  assert.equal(metrics.accepted.value, 1);
});

Deno.test("FrameHandler refuses bad or missing signatures when signing is required", () => {
  const { h, sink, metrics } = handler({ requireSigned: true });
  const good = makeMessage(1);
  const wrongKey = { ...SIGNER, key: "other" };
  let released = 0;
  for (
    const f of frames(
      new Uint8Array([
        ...frameMessage(good.bytes, SIGNER),
        ...frameMessage(makeMessage(2).bytes, wrongKey),
        ...frameMessage(makeMessage(3).bytes),
      ]),
    )
  ) h.handle(f, "peer", () => released++);
  assert.deepEqual(sink.sent.map((s) => s.msgId), [good.uuid]);
  assert.equal(released, 2, "refused frames are released at once");
  assert.equal(metrics.refused.value, 2);
  assert.equal(Object.values(h.refusedBy).reduce((a, b) => a + (b ?? 0), 0), 2);
});

Deno.test("FrameHandler counts invalid, filtered and too-large messages, stores and keeps none of them", () => {
  const { h, sink, metrics } = handler({ spec: "Type == 'keep'", limit: 2000 });
  const keep = makeMessage(1, { type: "keep" });
  const drop = makeMessage(2, { type: "drop" });
  const big = makeMessage(3, { type: "keep", size: 5000 });
  const bytes = new Uint8Array([
    ...frameMessage(keep.bytes),
    ...frameMessage(drop.bytes),
    ...frameMessage(new Uint8Array([0x0a, 0x03, 1, 2, 3])), // uuid of 3 bytes
    ...frameMessage(big.bytes),
  ]);
  const released: number[] = [];
  frames(bytes).forEach((f, i) => h.handle(f, "peer", () => released.push(i)));
  assert.deepEqual(sink.sent.map((s) => s.msgId), [keep.uuid]);
  assert.deepEqual(released, [1, 2, 3], "frames not stored are released at once");
  sink.sent[0].release!();
  assert.deepEqual(released, [1, 2, 3, 0], "the stored one by the sink, when it is done");
  assert.equal(metrics.filtered.value, 1);
  assert.equal(metrics.invalid.value, 1);
  assert.equal(metrics.tooLarge.value, 1);
  assert.equal(metrics.accepted.value, 1, "refused messages never count as accepted");
});

Deno.test("FrameHandler passes the sink's backpressure through", async () => {
  const { h, sink } = handler();
  assert.equal(h.blocked, false);
  sink.blocked = true;
  assert.equal(h.blocked, true);
  await h.ready();
});

Deno.test("MessageGate: accept with the uuid, invalid with a reason, filtered; bad specs throw", () => {
  const gate = new MessageGate("Severity <= 4");
  const ok = makeMessage(1);
  assert.deepEqual(new MessageGate("").inspect(ok.bytes), { kind: "accept", msgId: ok.uuid });
  assert.equal(gate.inspect(ok.bytes).kind, "filtered", "makeMessage logs at severity 6");
  const bad = new MessageGate("").inspect(new Uint8Array([0xff, 0xff]));
  assert.equal(bad.kind, "invalid");
  assert.ok(bad.kind === "invalid" && bad.reason.length > 0);
  assert.throws(() => new MessageGate("Type =="), MatcherSyntaxError);
});
