/**
 * Issue #10.2: never accept what cannot be stored. Messages around the NATS
 * server's `max_payload` (1 MiB by default) are either stored or refused —
 * TCP counts them as too large, HTTP answers 413 — within seconds; a publish
 * the server refuses for good is an error that is counted and never resent,
 * and SIGTERM does not wait for it. Both storage modes: packed (default;
 * a message alone in a chunk carries a longer id and the Lm-* headers) and
 * one message per JetStream message (`*_PACK=false`).
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { encodeMessage } from "../../services/heka/codec.ts";
import { frameMessage } from "../../services/heka/framing.ts";
import { formatUuid, newMessage } from "../../services/heka/message.ts";
import { publishHeaderBytes } from "../../services/broker/publisher.ts";
import { NatsServer } from "../../testing/mod.ts";
import { streamMessages } from "../helpers/messages.ts";
import {
  concat,
  postMessage,
  startHttpReceiver,
  startTcpReceiver,
  writeInChunks,
} from "../helpers/receivers.ts";
import { pollUntil, receiverHealth } from "../helpers/wait.ts";

const MAX_PAYLOAD = 1024 * 1024; // nats-server's default
/** The largest storable message: per message, and alone in a chunk (id ≤ 48, Lm-* headers, framing). */
const LIMITS = {
  false: MAX_PAYLOAD - publishHeaderBytes(36),
  true: MAX_PAYLOAD - publishHeaderBytes(48) - 46 - 9,
};

/** A valid Heka message of exactly `total` encoded bytes. */
function messageOfSize(total: number): { bytes: Uint8Array; uuid: string } {
  const m = newMessage();
  m.uuid = crypto.getRandomValues(new Uint8Array(16));
  m.timestamp = BigInt(Date.now()) * 1_000_000n;
  m.type = "test.large";
  m.hostname = "test-host";
  let len = total;
  for (let i = 0; i < 10; i++) {
    m.payload = "x".repeat(len);
    const bytes = encodeMessage(m);
    if (bytes.length === total) return { bytes: new Uint8Array(bytes), uuid: formatUuid(m.uuid) };
    len += total - bytes.length;
  }
  throw new Error(`cannot build a message of ${total} bytes`);
}

for (const pack of [true, false]) {
  const LIMIT = LIMITS[`${pack}`];
  // Sizes on both sides of the limit, including the band (limit, 1 MiB] that
  // used to count as accepted and then be resent forever.
  const SIZES = [
    LIMIT - 1000,
    LIMIT - 1,
    LIMIT,
    LIMIT + 1,
    LIMIT + 7,
    MAX_PAYLOAD - 56,
    MAX_PAYLOAD,
  ];
  const FITTING = SIZES.filter((s) => s <= LIMIT).length;

  Deno.test(`TCP (PACK=${pack}): messages near max_payload are stored or counted too large, never left in flight`, async () => {
    const nats = await NatsServer.start();
    const tcp = await startTcpReceiver(nats, {
      TCPRCVR_PACK: String(pack),
      TCPRCVR_MAX_MESSAGE_SIZE: String(MAX_PAYLOAD),
      TCPRCVR_STATS_ADDRESS: "127.0.0.1:0",
    });
    const nc = await connect({ servers: nats.url });
    try {
      assert.match(
        tcp.proc.stderr,
        new RegExp(
          `level=warn .*MAX_MESSAGE_SIZE is above what the NATS server stores.*max_message_size=${MAX_PAYLOAD} server_limit=${LIMIT} max_payload=${MAX_PAYLOAD}`,
        ),
        "one warn line at start names both numbers and max_payload",
      );
      const frames = SIZES.map((s) => frameMessage(messageOfSize(s).bytes));
      await writeInChunks(tcp.port, concat(frames), 256 * 1024);
      let h: Record<string, unknown> = {};
      assert.ok(
        await pollUntil(async () => {
          h = await receiverHealth(tcp.stats);
          return h.stored_total === FITTING && h.too_large === SIZES.length - FITTING;
        }, 10_000),
        `stored ${FITTING}, ${SIZES.length - FITTING} too large: ${JSON.stringify(h)}`,
      );
      assert.equal(h.accepted, FITTING, "too-large messages never count as accepted");
      assert.equal(h.inflight, 0, "nothing left in flight");
      assert.equal(h.maxMessageBytes, LIMIT);
      assert.equal(h.rejected_total, 0);
      assert.equal(await streamMessages(nc, "LAGERMEISTER"), FITTING);
      const t0 = Date.now();
      const status = await tcp.proc.stop("SIGTERM", 10_000);
      assert.equal(status.code, 0, tcp.proc.stderr);
      assert.ok(Date.now() - t0 < 10_000, "SIGTERM stops the receiver within 10 s");
    } finally {
      await tcp.proc.stop().catch(() => {});
      await nc.close();
      await nats.dispose();
    }
  });

  Deno.test(`HTTP (PACK=${pack}): a message larger than the server stores is answered 413 with a JSON error`, async () => {
    const nats = await NatsServer.start();
    const http = await startHttpReceiver(nats, {
      RCVR_PACK: String(pack),
      RCVR_MAX_MESSAGE_SIZE: String(MAX_PAYLOAD),
    });
    const nc = await connect({ servers: nats.url });
    try {
      const statuses: number[] = [];
      for (const size of SIZES) {
        const r = await postMessage(http.port, messageOfSize(size).bytes);
        statuses.push(r.status);
        if (r.status === 413) {
          assert.equal(r.json.status, "error");
          assert.match(String(r.json.message), /larger than the NATS server stores/);
        }
      }
      assert.deepEqual(statuses, SIZES.map((s) => s <= LIMIT ? 200 : 413));
      assert.equal(await streamMessages(nc, "LAGERMEISTER"), FITTING);
    } finally {
      await http.proc.stop().catch(() => {});
      await nc.close();
      await nats.dispose();
    }
  });
}

Deno.test("a publish JetStream refuses for good is counted, shown in /health, never resent", async () => {
  const nats = await NatsServer.start();
  const nc = await connect({ servers: nats.url });
  // The operator's stream takes messages of 2,000 bytes at most.
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({
    name: "LAGERMEISTER",
    subjects: ["lagermeister-test"],
    max_msg_size: 2000,
  });
  // Per message: packed receivers learn the stream's limit (next test).
  const tcp = await startTcpReceiver(nats, {
    TCPRCVR_STATS_ADDRESS: "127.0.0.1:0",
    TCPRCVR_PACK: "false",
  });
  const http = await startHttpReceiver(nats, { RCVR_PACK: "false" });
  try {
    await writeInChunks(
      tcp.port,
      concat([frameMessage(messageOfSize(1500).bytes), frameMessage(messageOfSize(3000).bytes)]),
    );
    let h: Record<string, unknown> = {};
    assert.ok(
      await pollUntil(async () => {
        h = await receiverHealth(tcp.stats);
        return h.stored_total === 1 && h.rejected_total === 1;
      }, 10_000),
      JSON.stringify(h),
    );
    assert.equal(h.inflight, 0);
    assert.match(
      String((h.lastRejection as { reason: string }).reason),
      /maximum|exceeds/i,
    );
    assert.match(tcp.proc.stderr, /level=error .*publish refused by the server; not resending/);
    const resentBefore = h.resent_total;
    await sleep(1500);
    assert.equal((await receiverHealth(tcp.stats)).resent_total, resentBefore, "not resent");

    const r = await postMessage(http.port, messageOfSize(3000).bytes);
    assert.equal(r.status, 413, JSON.stringify(r.json));
    assert.match(String(r.json.message), /refused the message/);

    const t0 = Date.now();
    assert.equal((await tcp.proc.stop("SIGTERM", 10_000)).code, 0, tcp.proc.stderr);
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(await streamMessages(nc, "LAGERMEISTER"), 1);
  } finally {
    await tcp.proc.stop().catch(() => {});
    await http.proc.stop().catch(() => {});
    await nc.close();
    await nats.dispose();
  }
});

Deno.test("packed: chunks fit the stream's max_msg_size; larger messages are counted too large", async () => {
  const nats = await NatsServer.start();
  const nc = await connect({ servers: nats.url });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({
    name: "LAGERMEISTER",
    subjects: ["lagermeister-test"],
    max_msg_size: 2000,
  });
  const tcp = await startTcpReceiver(nats, {
    TCPRCVR_STATS_ADDRESS: "127.0.0.1:0",
    TCPRCVR_PACK: "true",
  });
  const http = await startHttpReceiver(nats, { RCVR_PACK: "true" });
  try {
    const small = Array.from({ length: 20 }, () => frameMessage(messageOfSize(300).bytes));
    await writeInChunks(
      tcp.port,
      concat([
        frameMessage(messageOfSize(1500).bytes),
        ...small,
        frameMessage(messageOfSize(3000).bytes),
      ]),
    );
    let h: Record<string, unknown> = {};
    assert.ok(
      await pollUntil(async () => {
        h = await receiverHealth(tcp.stats);
        return h.stored_total === 21 && h.too_large === 1;
      }, 10_000),
      JSON.stringify(h),
    );
    assert.equal(h.rejected_total, 0, "no chunk is refused by the stream");
    assert.equal(h.inflight, 0);
    const r = await postMessage(http.port, messageOfSize(3000).bytes);
    assert.equal(r.status, 413, JSON.stringify(r.json));
    assert.equal(await streamMessages(nc, "LAGERMEISTER"), 21);
  } finally {
    await tcp.proc.stop().catch(() => {});
    await http.proc.stop().catch(() => {});
    await nc.close();
    await nats.dispose();
  }
});
