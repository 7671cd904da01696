/**
 * Metrics (MetricEvents, /metrics, /debug/vars, /health) with the stub
 * remote, and graceful shutdown: the open batch is sent and acked on
 * SIGTERM; what outlasts SUB_SHUTDOWN_TIMEOUT stays unacked and is
 * redelivered.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "nats";
import { type MetricEvent, metricEventSchema } from "../../services/metrics/mod.ts";
import { parseEnv } from "../../services/config/mod.ts";
import { subscriberSpec } from "../../services/http_subscriber/config.ts";
import { resolveSettings } from "../../services/http_subscriber/settings.ts";
import { startSubscriber } from "../../services/http_subscriber/subscriber.ts";
import { Logger } from "../../services/log/mod.ts";
import { freePort, NatsServer } from "../../testing/mod.ts";
import {
  hekaMessage,
  hekaMessages,
  makeStream,
  parseLines,
  pollUntil,
  publishAll,
  Sink,
  SubscriberProcess,
} from "./helpers.ts";

const STREAM = "LAGERMEISTER";
const SUBJECT = "lagermeister-test";

async function debugVars(port: number): Promise<Record<string, number>> {
  return await (await fetch(`http://127.0.0.1:${port}/debug/vars`)).json();
}

async function varsReach(port: number, key: string, n: number, ms = 10_000): Promise<boolean> {
  let value = 0;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    value = (await debugVars(port))[key];
    if (value >= n) return true;
    await sleep(100);
  }
  return false;
}

async function withBroker(fn: (server: NatsServer, nc: NatsConnection) => Promise<void>) {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  try {
    await makeStream(nc, STREAM, SUBJECT);
    await fn(server, nc);
  } finally {
    await nc.close();
    await server.dispose();
  }
}

Deno.test("with the stub remote: MetricEvents, /metrics, /debug/vars and /health", async () => {
  await withBroker(async (server, nc) => {
    const events: MetricEvent[] = [];
    const dec = new TextDecoder();
    nc.subscribe("stats-events", {
      callback: (_err, m) => events.push(metricEventSchema.parse(JSON.parse(dec.decode(m.data)))),
    });
    const port = freePort();
    const sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_STUB_HTTP: "true",
      SUB_DURABLE: "stub",
      SUB_CLIENT_ID: "stub-client",
      SUB_CLUSTER_ID: "old-stan-cluster",
      SUB_BATCH_SIZE: "50",
      SUB_BATCH_TIMEOUT: "100ms",
      SUB_STATS_ADDRESS: `127.0.0.1:${port}`,
    });
    try {
      assert.equal((await sub.waitReady()).remote, "stub");
      await publishAll(nc.jetstream(), SUBJECT, hekaMessages(200, "stub"));
      assert.ok(await varsReach(port, "delivered", 200), sub.stderr);
      // one more report interval so the last deliveries are in the events
      await sleep(1500);
      const vars = await debugVars(port);
      assert.equal(vars.delivered, 200);
      assert.equal(vars.batches, 4);
      assert.equal(vars.failures, 0);
      assert.equal(vars.held_messages, 0);

      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /^lagermeister_http_subscriber_delivered_total 200$/m);
      assert.match(metrics, /^# TYPE lagermeister_http_subscriber_pending gauge$/m);
      // SUB_CLIENT_ID is the connection name (and the durable's suffix); SUB_CLUSTER_ID is ignored.
      const connz = await server.monitor("/connz") as { connections: { name?: string }[] };
      assert.ok(connz.connections.some((c) => c.name === "stub-client"));
      assert.match(sub.stderr, /SUB_CLUSTER_ID is ignored/);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).status, "ok");

      const mine = events.filter((e) => e.Sender === "http-output");
      const types = new Set(mine.map((e) => e.MetricType));
      for (
        const t of [
          "Throughput",
          "BatchCount",
          "BatchSize",
          "Lag",
          "Pending",
          "Retries",
          "Failures",
          "DeadLettered",
        ]
      ) assert.ok(types.has(t), `${t} reported`);
      const sum = (t: string) =>
        mine.filter((e) => e.MetricType === t).reduce((a, e) => a + e.Value, 0);
      assert.equal(sum("Throughput"), 200);
      assert.equal(sum("BatchCount"), 4);
      const sizes = mine.filter((e) => e.MetricType === "BatchSize" && e.Value > 0);
      assert.ok(sizes.every((e) => e.Value === 50 && e.Aggregate === "Average"));
      const lag = mine.find((e) => e.MetricType === "Lag")!;
      assert.deepEqual(lag.Threshold, { Warn: 30, Error: 60 });
      assert.equal(lag.Aggregate, "Average");
      assert.equal(mine.find((e) => e.MetricType === "Throughput")!.Aggregate, "Total");
    } finally {
      assert.equal((await sub.stop()).code, 0, sub.stderr);
    }
    const info = await (await nc.jetstreamManager()).consumers.info(STREAM, "stub-stub-client");
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.ack_floor.stream_seq, 200);
  });
});

Deno.test("SIGTERM sends the open batch, waits for it and acks it", async () => {
  await withBroker(async (server, nc) => {
    const sink = Sink.start(async () => {
      await sleep(1000);
      return new Response("ok");
    });
    const port = freePort();
    const sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url(),
      SUB_DURABLE: "term",
      SUB_FIELDS: "payload,Fields,Uuid",
      SUB_DYNAMIC_FIELDS: "app,region",
      SUB_BATCH_SIZE: "1000",
      SUB_BATCH_TIMEOUT: "1m",
      SUB_STATS_ADDRESS: `127.0.0.1:${port}`,
    });
    try {
      await sub.waitReady();
      const msgs = Array.from(
        { length: 10 },
        (_, i) => hekaMessage(`term-${i}`, { app: "web", secret: "x", region: `r${i}` }),
      );
      await publishAll(nc.jetstream(), SUBJECT, msgs);
      assert.ok(await varsReach(port, "received", 10), sub.stderr);
      assert.equal(sink.requests.length, 0, "the batch is still open");
      const t0 = performance.now();
      const status = await sub.stop();
      const took = performance.now() - t0;
      assert.equal(status.code, 0, sub.stderr);
      assert.ok(took >= 900 && took < 5000, `shutdown took ${took.toFixed(0)} ms`);
      assert.equal(sink.accepted.length, 10);
      // SUB_FIELDS picks and orders the keys; SUB_DYNAMIC_FIELDS whitelists dynamic fields.
      assert.deepEqual(
        parseLines(sink.accepted),
        msgs.map((m, i) => ({ Payload: m.payload, app: "web", region: `r${i}`, Uuid: m.uuid })),
      );
      assert.deepEqual(Object.keys(parseLines(sink.accepted)[0]), [
        "Payload",
        "app",
        "region",
        "Uuid",
      ]);
      const info = await (await nc.jetstreamManager()).consumers.info(STREAM, "term");
      assert.equal(info.num_ack_pending, 0);
      assert.equal(info.ack_floor.stream_seq, 10);
    } finally {
      sub.kill("SIGKILL");
      await sub.exited();
      await sink.close();
    }
  });
});

Deno.test("what outlasts SUB_SHUTDOWN_TIMEOUT stays unacked and is redelivered to the next run", async () => {
  await withBroker(async (server, nc) => {
    const release = Promise.withResolvers<void>();
    const stuck = Sink.start(async () => {
      await release.promise;
      return new Response("too late", { status: 503 });
    });
    const good = Sink.start();
    const port = freePort();
    const env = {
      SUB_NATS_URL: server.url,
      SUB_DURABLE: "stuck",
      SUB_BATCH_SIZE: "5",
      SUB_BATCH_TIMEOUT: "100ms",
      SUB_ACK_WAIT: "1s",
      SUB_SHUTDOWN_TIMEOUT: "500ms",
    };
    const first = SubscriberProcess.spawn({
      ...env,
      SUB_REMOTE_URL: stuck.url(),
      SUB_STATS_ADDRESS: `127.0.0.1:${port}`,
    });
    let second: SubscriberProcess | undefined;
    try {
      await first.waitReady();
      await publishAll(nc.jetstream(), SUBJECT, hekaMessages(10, "stuck"));
      assert.ok(await pollUntil(() => stuck.requests.length >= 2, 10_000), first.stderr);
      const t0 = performance.now();
      assert.equal((await first.stop()).code, 0);
      const took = performance.now() - t0;
      assert.ok(took < 3000, `shutdown took ${took.toFixed(0)} ms`);
      assert.match(first.stderr, /shutdown timeout: messages left unacked.* messages=10/);
      const jsm = await nc.jetstreamManager();
      assert.equal((await jsm.consumers.info(STREAM, "stuck")).num_ack_pending, 10);

      second = SubscriberProcess.spawn({ ...env, SUB_REMOTE_URL: good.url() });
      assert.ok(await pollUntil(() => good.accepted.length >= 10, 10_000), second.stderr);
      assert.equal((await second.stop()).code, 0);
      assert.equal((await jsm.consumers.info(STREAM, "stuck")).num_ack_pending, 0);
    } finally {
      release.resolve();
      first.kill("SIGKILL");
      await first.exited();
      if (second) {
        second.kill("SIGKILL");
        await second.exited();
      }
      await stuck.close();
      await good.close();
    }
  });
});

Deno.test("startSubscriber runs in-process and stops cleanly", async () => {
  await withBroker(async (server, nc) => {
    const sink = Sink.start();
    const lines: string[] = [];
    const log = new Logger("http_subscriber", "info", {}, (l) => lines.push(l));
    const settings = resolveSettings(parseEnv(subscriberSpec, {
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url("/in"),
      SUB_BATCH_TIMEOUT: "50ms",
      SUB_STATS_ADDRESS: "off",
      SUB_GZIP: "true",
    }));
    const sub = await startSubscriber(settings, log);
    try {
      assert.ok(sub.consumerName);
      const msgs = hekaMessages(120, "inproc");
      await publishAll(nc.jetstream(), SUBJECT, msgs);
      assert.ok(await pollUntil(() => sink.accepted.length >= 120, 10_000), lines.join("\n"));
      assert.deepEqual(parseLines(sink.accepted).map((o) => o.Payload), msgs.map((m) => m.payload));
      assert.equal(sink.requests[0].headers.get("content-encoding"), "gzip");
      // The sink counts a batch when it answers; the subscriber when the answer arrives.
      assert.ok(await pollUntil(() => sub.counters.delivered.value === 120, 5_000));
      assert.equal(sub.counters.delivered.value, 120);
      assert.equal(sub.heldMessages, 0);
    } finally {
      assert.equal(await sub.stop(), 0);
      await sink.close();
    }
    assert.ok(lines.some((l) => l.includes("msg=stopped delivered=120")));
  });
});
