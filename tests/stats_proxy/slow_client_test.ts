// A browser that stops reading (a raw WebSocket whose TCP socket is never
// read again) must not hold up the other clients nor grow the proxy's
// memory: its events queue up to a bound, then its oldest are dropped.
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { NatsServer } from "../../testing/mod.ts";
import { ProxyProcess } from "./proxy_process.ts";
import { metricEvent, rawUpgrade, RecordingClient } from "./ws_client.ts";

const ROUNDS = 8;
const PER_ROUND = 15_000;
const MiB = 1024 * 1024;

Deno.test("a client that never reads does not slow the others, and memory stays bounded", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const proxy = await ProxyProcess.start({
    natsUrl: server.url,
    env: {
      PROXY_CLIENT_BUFFER: String(MiB),
      PROXY_CLIENT_QUEUE: "2000",
      // a JS heap far smaller than the volume sent: anything kept per event would run out of it
      DENO_V8_FLAGS: "--max-old-space-size=48",
    },
  });
  const stuck = await rawUpgrade(proxy.port);
  const fast = new RecordingClient(`ws://127.0.0.1:${proxy.port}/messages`);
  try {
    assert.equal(stuck.status, 101);
    await fast.opened;
    const enc = new TextEncoder();
    // the largest events the schema lets through (~600 bytes each)
    const big = metricEvent({ Sender: "s".repeat(200), SourceIP: "h".repeat(200) });
    const rssStart = await proxy.rss();
    const rss: number[] = [];
    const roundMs: number[] = [];
    let seq = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      for (let i = 0; i < PER_ROUND; i++) {
        nc.publish("stats-events", enc.encode(JSON.stringify({ ...big, Value: seq++ })));
        // ~20k events/s: hundreds of times what a real deployment sends, yet a rate a
        // reading client (in this same busy test process) can follow without drops
        if (i % 500 === 499) {
          await nc.flush();
          await sleep(20);
        }
      }
      await nc.flush();
      const last = seq - 1;
      await fast.waitFor((ev) => ev.length > 0 && ev[ev.length - 1].Value === last, 15_000);
      roundMs.push(performance.now() - t0);
      rss.push(await proxy.rss());
    }
    const total = ROUNDS * PER_ROUND;
    const mb = (total * JSON.stringify(big).length) / MiB;

    // the reading client got every event, in order
    assert.equal(fast.events.length, total);
    assert.ok(fast.events.every((e, i) => e.Value === i));

    // and a new event still reaches it at once
    const t0 = performance.now();
    nc.publish("stats-events", enc.encode(JSON.stringify(metricEvent({ Value: -1 }))));
    await fast.waitFor((ev) => ev[ev.length - 1].Value === -1, 2000);
    const latencyMs = performance.now() - t0;
    assert.ok(latencyMs < 500, `fast client latency ${latencyMs} ms`);

    // the stuck client holds a bounded queue and lost its oldest events
    const h = await proxy.health();
    const slow = h.clients.list.find((c) => c.dropped > 0);
    const quick = h.clients.list.find((c) => c.dropped === 0);
    assert.ok(slow, `a client dropped events: ${JSON.stringify(h.clients)}`);
    assert.ok(quick, "the reading client dropped nothing");
    assert.ok(slow.queued <= 2000);
    assert.ok(slow.bufferedBytes <= MiB + 4096, `buffered ${slow.bufferedBytes}`);
    assert.ok(slow.dropped + slow.sent + slow.queued >= total);
    assert.equal(h.clients.dropped, slow.dropped);

    // memory does not follow the volume sent: it levels off after the first rounds (the
    // allocator and V8's young generation warming up) and stays flat while tens of MiB more
    // go by, within a JS heap capped far below that volume
    const lateGrowth = rss[ROUNDS - 1] - rss[ROUNDS / 2 - 1];
    console.log(
      `${total} events (${mb.toFixed(1)} MiB) in ${
        roundMs.map((m) => Math.round(m)).join("/")
      } ms ` +
        `per round; fast-client latency ${latencyMs.toFixed(1)} ms; stuck client dropped ` +
        `${slow.dropped}, queued ${slow.queued}, buffered ${slow.bufferedBytes} B; proxy RSS ` +
        `${(rssStart / MiB).toFixed(0)} → ${rss.map((r) => (r / MiB).toFixed(0)).join("/")} MiB`,
    );
    assert.ok(lateGrowth < 16 * MiB, `RSS kept growing: ${(lateGrowth / MiB).toFixed(1)} MiB`);
    assert.ok(
      Math.max(...rss) < 200 * MiB,
      `RSS peaked at ${(Math.max(...rss) / MiB).toFixed(0)} MiB`,
    );
  } catch (err) {
    console.error(proxy.log);
    throw err;
  } finally {
    await fast.close().catch(() => {});
    stuck.conn.close();
    await proxy.stop();
    await nc.close();
    await server.dispose();
  }
});
