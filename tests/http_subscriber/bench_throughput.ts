/**
 * Throughput of the subscriber (a real child process) draining a stream of
 * 3 KB Heka messages into a local sink that answers 200 at once, for
 * several batch sizes. Not part of `deno test`; run:
 *
 *   deno run --allow-all tests/http_subscriber/bench_throughput.ts [messages] [sizes...]
 *
 * Prints one JSON line per batch size.
 *
 * @module
 */
import { connect } from "nats";
import { JetStreamPublisher } from "../../services/broker/mod.ts";
import { NatsServer } from "../helpers/nats_server.ts";
import { hekaMessages, makeStream, SubscriberProcess, testLog } from "./helpers.ts";

const total = Number(Deno.args[0] ?? 100_000);
const sizes = Deno.args.slice(1).map(Number);
if (sizes.length === 0) sizes.push(100, 250, 500, 1000);

const server = await NatsServer.start();
const nc = await connect({ servers: server.url, noAsyncTraces: true });
try {
  await makeStream(nc, "LAGERMEISTER", "lagermeister-test");
  const distinct = hekaMessages(1000, "bench", 3000);
  const pub = new JetStreamPublisher(nc, { subject: "lagermeister-test", log: testLog });
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    if (pub.full) await pub.waitForCapacity();
    pub.send(distinct[i % distinct.length].bytes, `bench-${i}`);
  }
  await pub.drain(60_000);
  pub.close();
  const pubSecs = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({
    scenario: "publish",
    messages: total,
    msgs_per_s: Math.round(total / pubSecs),
    bytes: distinct[0].bytes.length,
  }));

  for (const size of sizes) {
    let lines = 0;
    let requests = 0;
    let first = 0;
    let last = 0;
    const done = Promise.withResolvers<void>();
    const sink = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
      const body = new Uint8Array(await req.arrayBuffer());
      if (first === 0) first = performance.now();
      for (let at = body.indexOf(10); at !== -1; at = body.indexOf(10, at + 1)) lines++;
      requests++;
      last = performance.now();
      if (lines >= total) done.resolve();
      return new Response("ok");
    });
    const sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: `http://127.0.0.1:${sink.addr.port}/bulk`,
      SUB_DELIVER_ALL: "true",
      SUB_BATCH_SIZE: String(size),
      SUB_BATCH_TIMEOUT: "1s",
      SUB_BATCH_BYTES: String(16 * 1024 * 1024),
    });
    const timer = setTimeout(() => done.reject(new Error(`timeout at ${lines} lines`)), 300_000);
    try {
      await done.promise;
    } finally {
      clearTimeout(timer);
      await sub.stop();
      await sink.shutdown();
    }
    const secs = (last - first) / 1000;
    const rss = sub.stderr.match(/rss_mb=(\d+)/);
    console.log(JSON.stringify({
      scenario: "subscriber",
      batch_size: size,
      messages: lines,
      requests,
      seconds: Number(secs.toFixed(2)),
      msgs_per_s: Math.round(lines / secs),
      mb_per_s: Number((lines * 3000 / secs / 1e6).toFixed(1)),
      rss_mb: rss ? Number(rss[1]) : undefined,
    }));
  }
} finally {
  await nc.close();
  await server.dispose();
}
