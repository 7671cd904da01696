/**
 * A full store loses nothing: when the operator's stream is at its
 * `max_bytes` with `discard: new` ("maximum bytes exceeded"), or
 * JetStream's storage is exhausted ("insufficient resources"), the server
 * refuses publishes until there is room. The receivers then hold what they
 * accepted and resend it — TCP stops reading (backpressure), HTTP answers
 * 503 rather than 200 — and once the operator makes room every message a
 * client was told is accepted is stored, exactly once. Both storage modes.
 */
import assert from "node:assert/strict";
import { connect, DiscardPolicy, type JetStreamClient, type JetStreamManager } from "nats";
import { decodeMessage } from "../../services/heka/codec.ts";
import { frameMessage } from "../../services/heka/framing.ts";
import { formatUuid } from "../../services/heka/message.ts";
import { NatsServer } from "../../testing/mod.ts";
import { makeMessage, readStream } from "../helpers/messages.ts";
import {
  concat,
  postMessage,
  startHttpReceiver,
  startTcpReceiver,
  writeInChunks,
} from "../helpers/receivers.ts";
import { receiverHealth, waitUntil } from "../helpers/wait.ts";

const STREAM = "LAGERMEISTER";
const SUBJECT = "lagermeister-test";
const TCP_MESSAGES = 400;
/** Room for about 100 messages of 3 KB (and one 256 KiB chunk when packed). */
const ROOM = 320 * 1024;

/** How a store gets full, and how the operator makes room again. */
interface Full {
  name: string;
  /** What the server says when it refuses a publish. */
  refusal: RegExp;
  /** nats-server's config file. */
  config?: string;
  /** Sets up the stream (and anything else) before the receivers start. */
  prepare(jsm: JetStreamManager, js: JetStreamClient): Promise<void>;
  /** Makes room for everything. */
  makeRoom(jsm: JetStreamManager): Promise<void>;
}

const FULL: Full[] = [{
  name: "the stream is at max_bytes (discard: new)",
  refusal: /maximum bytes exceeded/,
  async prepare(jsm) {
    await jsm.streams.add({
      name: STREAM,
      subjects: [SUBJECT],
      max_bytes: ROOM,
      discard: DiscardPolicy.New,
    });
  },
  async makeRoom(jsm) {
    await jsm.streams.update(STREAM, {
      subjects: [SUBJECT],
      max_bytes: 64 * 1024 * 1024,
      discard: DiscardPolicy.New,
    });
  },
}, {
  name: "JetStream's storage is exhausted",
  refusal: /insufficient resources/,
  // Another stream holds all but ROOM of it; the receivers create theirs.
  config: `jetstream { max_file_store: ${4 * 1024 * 1024} }`,
  async prepare(jsm, js) {
    await jsm.streams.add({
      name: "OTHER",
      subjects: ["other"],
      max_bytes: 4 * 1024 * 1024 - ROOM,
      discard: DiscardPolicy.New,
    });
    await fillUp(js, "other", 4000, /maximum bytes exceeded/);
  },
  async makeRoom(jsm) {
    await jsm.streams.delete("OTHER");
  },
}];

/** Publishes valid messages of `size` bytes until the server refuses one; returns their uuids. */
async function fillUp(
  js: JetStreamClient,
  subject: string,
  size: number,
  refusal: RegExp,
): Promise<string[]> {
  const uuids: string[] = [];
  for (let i = 0;; i++) {
    const m = makeMessage(20_000 + i, { size });
    try {
      await js.publish(subject, m.bytes, { msgID: m.uuid });
      uuids.push(m.uuid);
    } catch (err) {
      const api = (err as { api_error?: { description?: string } }).api_error;
      assert.match(api?.description ?? String(err), refusal);
      return uuids;
    }
  }
}

for (const full of FULL) {
  for (const pack of [true, false]) {
    Deno.test({
      name:
        `${full.name} (PACK=${pack}): TCP waits, HTTP answers 503, and once there is room everything accepted is stored`,
      sanitizeResources: false,
      async fn() {
        const nats = await NatsServer.start({ config: full.config });
        const nc = await connect({ servers: nats.url });
        const jsm = await nc.jetstreamManager();
        const js = nc.jetstream();
        await full.prepare(jsm, js);
        const tcp = await startTcpReceiver(nats, {
          TCPRCVR_STATS_ADDRESS: "127.0.0.1:0",
          TCPRCVR_PACK: String(pack),
          TCPRCVR_ACK_TIMEOUT: "1s",
        });
        const http = await startHttpReceiver(nats, {
          RCVR_STATS_ADDRESS: "127.0.0.1:0",
          RCVR_PACK: String(pack),
          RCVR_ACK_TIMEOUT: "1s",
        });
        try {
          const sent = Array.from(
            { length: TCP_MESSAGES },
            (_, i) => makeMessage(i, { size: 3000 }),
          );
          // The client's writes block once the receiver stops reading: not awaited yet.
          const writing = writeInChunks(tcp.port, concat(sent.map((m) => frameMessage(m.bytes))));

          // The store fills up and the server refuses the rest: TCP holds it, unacknowledged.
          await waitUntil("the TCP receiver to be resending", async () => {
            const h = await receiverHealth(tcp.stats);
            return Number(h.inflight) > 0 && Number(h.resent_total) > 0;
          }, 20_000);
          assert.match(tcp.proc.stderr, /JetStream refused a publish; resending/);
          assert.match(tcp.proc.stderr, full.refusal);
          const before = await receiverHealth(tcp.stats);
          assert.ok(Number(before.stored_total) < TCP_MESSAGES, JSON.stringify(before));
          assert.equal(before.rejected_total, 0, "a full store is not a permanent refusal");
          // /health says why nothing is stored.
          assert.equal(before.ok, false);
          assert.match(String(before.trouble), /^JetStream refuses publishes: /);
          assert.match(String(before.trouble), full.refusal);

          // Fill what room is left (a packed chunk may not fit where a small message does).
          const fillers = await fillUp(js, SUBJECT, 500, full.refusal);

          // HTTP: never 200 for a message that is not stored.
          const refused = makeMessage(10_000, { size: 3000 });
          const r = await postMessage(http.port, refused.bytes);
          assert.equal(r.status, 503, JSON.stringify(r.json));
          assert.ok(r.headers.get("retry-after"), "503 says when to retry");
          assert.match(String(r.json.message), full.refusal, "503 says why");

          // The operator makes room; everything accepted is stored, each message once.
          await full.makeRoom(jsm);
          await writing;
          // An HTTP client retries after Retry-After until it gets its 200.
          const accepted = makeMessage(10_001, { size: 3000 });
          await waitUntil("an HTTP POST to be stored again", async () => {
            const status = (await postMessage(http.port, accepted.bytes)).status;
            if (status !== 200) await new Promise((res) => setTimeout(res, 500));
            return status === 200;
          }, 20_000);
          await waitUntil("every TCP message to be stored", async () => {
            const h = await receiverHealth(tcp.stats);
            return Number(h.stored_total) === TCP_MESSAGES && Number(h.inflight) === 0;
          }, 30_000);

          const stored = await readStream(nc, STREAM);
          const uuids = stored.map((m) => formatUuid(decodeMessage(m.data).uuid));
          assert.equal(new Set(uuids).size, uuids.length, "no message stored twice");
          const want = new Set([...sent.map((m) => m.uuid), accepted.uuid, ...fillers]);
          assert.deepEqual(new Set(uuids.filter((u) => want.has(u))), want);
          // The 503'd message may or may not have been stored later; it was never promised.
          assert.ok(uuids.length <= want.size + 1, `${uuids.length} stored`);

          assert.equal((await tcp.proc.stop("SIGTERM", 10_000)).code, 0, tcp.proc.stderr);
          assert.equal((await http.proc.stop("SIGTERM", 10_000)).code, 0, http.proc.stderr);
        } finally {
          await tcp.proc.stop().catch(() => {});
          await http.proc.stop().catch(() => {});
          await nc.close();
          await nats.dispose();
        }
      },
    });
  }
}
