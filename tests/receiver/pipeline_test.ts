/**
 * Issue #3 acceptance: both receivers into one stream — every message stored
 * exactly once, byte-identical; rejections; filtering.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { frameMessage } from "../../services/heka/framing.ts";
import { NatsServer } from "../../testing/mod.ts";
import { makeMessage, readStream, sameBytes, streamMessages } from "../helpers/messages.ts";
import {
  concat,
  garbage,
  postMessage,
  startHttpReceiver,
  startTcpReceiver,
  writeInChunks,
} from "../helpers/receivers.ts";

Deno.test("4 TCP streams with garbage and 600 HTTP POSTs are stored exactly once, byte-identical", async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats);
  const http = await startHttpReceiver(nats);
  const nc = await connect({ servers: nats.url });
  try {
    const sent = new Map<string, Uint8Array>();
    const streams: Uint8Array[] = [];
    for (let c = 0; c < 4; c++) {
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 1500; i++) {
        const m = makeMessage(c * 10_000 + i, { size: 100 + Math.floor(Math.random() * 4000) });
        sent.set(m.uuid, m.bytes);
        if (Math.random() < 0.3) parts.push(garbage(1 + Math.floor(Math.random() * 50)));
        parts.push(frameMessage(m.bytes));
      }
      streams.push(concat(parts));
    }
    const posts: Uint8Array[] = [];
    for (let i = 0; i < 600; i++) {
      const m = makeMessage(100_000 + i, { size: 500 });
      sent.set(m.uuid, m.bytes);
      posts.push(m.bytes);
    }
    const statuses: number[] = [];
    const httpClient = async (k: number) => {
      for (let i = k; i < posts.length; i += 8) {
        statuses.push((await postMessage(http.port, posts[i])).status);
      }
    };
    await Promise.all([
      ...streams.map((s) => writeInChunks(tcp.port, s)),
      ...Array.from({ length: 8 }, (_, k) => httpClient(k)),
    ]);
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
    const deadline = Date.now() + 20_000;
    while (await streamMessages(nc, "LAGERMEISTER") < sent.size && Date.now() < deadline) {
      await sleep(100);
    }
    const stored = await readStream(nc, "LAGERMEISTER");
    assert.equal(stored.length, sent.size, "stream holds every message exactly once");
    const seen = new Set<string>();
    for (const s of stored) {
      const uuidHex = [...s.data.subarray(2, 18)].map((b) => b.toString(16).padStart(2, "0")).join(
        "",
      );
      const uuid = `${uuidHex.slice(0, 8)}-${uuidHex.slice(8, 12)}-${uuidHex.slice(12, 16)}-${
        uuidHex.slice(16, 20)
      }-${uuidHex.slice(20)}`;
      assert.ok(!seen.has(uuid), `duplicate ${uuid}`);
      seen.add(uuid);
      const original = sent.get(uuid);
      assert.ok(original, `unexpected message ${uuid}`);
      assert.ok(sameBytes(s.data, original), `bytes differ for ${uuid}`);
      assert.equal(s.subject, "lagermeister-test");
    }
  } finally {
    await nc.close();
    await tcp.proc.stop();
    await http.proc.stop();
    await nats.dispose();
  }
});

Deno.test("bad requests get 400/400/413/405 and non-matching messages are not stored", async () => {
  const nats = await NatsServer.start();
  const spec = 'Type == "keep"';
  const tcp = await startTcpReceiver(nats, { TCPRCVR_MATCH_SPEC: spec });
  const http = await startHttpReceiver(nats, {
    RCVR_MATCH_SPEC: spec,
    RCVR_MAX_MESSAGE_SIZE: "4096",
  });
  const nc = await connect({ servers: nats.url });
  try {
    const garbageRes = await postMessage(http.port, garbage(300));
    assert.equal(garbageRes.status, 400);
    assert.equal(garbageRes.json.status, "error");
    assert.match(String(garbageRes.json.message), /undecodable|missing/);
    const empty = await postMessage(http.port, new Uint8Array(0));
    assert.equal(empty.status, 400);
    const big = await postMessage(http.port, makeMessage(1, { size: 8000, type: "keep" }).bytes);
    assert.equal(big.status, 413);
    const get = await fetch(`http://127.0.0.1:${http.port}/`);
    assert.equal(get.status, 405);
    assert.equal((await get.json()).status, "error");
    // Valid, but missing hostname: 400 naming it.
    const noHost = makeMessage(2, { hostname: "", type: "keep" });
    const r = await postMessage(http.port, noHost.bytes);
    assert.equal(r.status, 400);
    assert.match(String(r.json.message), /hostname/);
    // Filtered: 200, not stored.
    const drop = await postMessage(http.port, makeMessage(3, { type: "drop" }).bytes);
    assert.equal(drop.status, 200);
    assert.equal(drop.json.status, "filtered");
    const keep = await postMessage(http.port, makeMessage(4, { type: "keep" }).bytes);
    assert.equal(keep.status, 200);
    await writeInChunks(
      tcp.port,
      concat([
        frameMessage(makeMessage(5, { type: "drop" }).bytes),
        frameMessage(makeMessage(6, { type: "keep" }).bytes),
        frameMessage(garbage(100)),
      ]),
    );
    const deadline = Date.now() + 5000;
    while (await streamMessages(nc, "LAGERMEISTER") < 2 && Date.now() < deadline) {
      await sleep(50);
    }
    await sleep(300);
    const stored = await readStream(nc, "LAGERMEISTER");
    assert.equal(stored.length, 2, "only the two matching messages are stored");
    const health = await (await fetch(`http://127.0.0.1:${http.port}/health`)).json();
    assert.equal(health.status, "ok");
    assert.equal(health.filtered, 1);
  } finally {
    await nc.close();
    await tcp.proc.stop();
    await http.proc.stop();
    await nats.dispose();
  }
});
