/**
 * Issue #10.3: the subscriber's watchdog. While connected, a consumer that
 * has messages for us but delivers none for a while is re-opened, and the
 * subscriber says why. A paused consumer (nats-server ≥ 2.11) is the
 * reproducible stand-in for a consume that stopped pulling.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { AckPolicy, connect, DeliverPolicy, nanos } from "nats";
import { freePort, NatsServer } from "../../testing/mod.ts";
import { compareVersions } from "../../services/runtime/nats_server_bin.ts";
import {
  hekaMessages,
  makeStream,
  pollUntil,
  publishAll,
  Sink,
  SubscriberProcess,
} from "./helpers.ts";

const STREAM = "LAGERMEISTER";
const SUBJECT = "lagermeister-test";

Deno.test("watchdog: pending messages but nothing received → the consume is re-opened and says why", async (t) => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const sink = Sink.start();
  let sub: SubscriberProcess | undefined;
  try {
    if (compareVersions(nc.info?.version ?? "0", "2.11.0") < 0) {
      console.log(`skipped: nats-server ${nc.info?.version} cannot pause consumers (2.11+)`);
      await t.step({
        name: "needs consumer pause (nats-server 2.11+)",
        ignore: true,
        fn: () => {},
      });
      return;
    }
    await makeStream(nc, STREAM, SUBJECT);
    const jsm = await nc.jetstreamManager();
    await publishAll(nc.jetstream(), SUBJECT, hekaMessages(100, "before"));
    const statsPort = freePort();
    sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url("/bulk"),
      SUB_DURABLE: "watched",
      SUB_CLIENT_ID: "w1",
      SUB_DELIVER_ALL: "true",
      SUB_BATCH_TIMEOUT: "100ms",
      SUB_STATS_ADDRESS: `127.0.0.1:${statsPort}`,
    });
    const ready = await sub.waitReady();
    assert.ok(await pollUntil(() => sink.accepted.length >= 100, 15_000), "first 100 delivered");

    // The consumer stops delivering while messages wait for it — longer than the watchdog
    // may take (up to three 5 s polls, more on a loaded machine), then it is resumed below.
    await jsm.consumers.pause(STREAM, ready.consumer!, new Date(Date.now() + 120_000));
    await publishAll(nc.jetstream(), SUBJECT, hekaMessages(100, "after"));
    await sub.waitForLog(
      /level=warn .*msg="consumer stalled: messages pending but none received; re-opening" pending=100/,
      30_000,
    );
    const vars = await (await fetch(`http://127.0.0.1:${statsPort}/debug/vars`)).json();
    assert.ok(vars.stalls >= 1, `stalls counted: ${JSON.stringify(vars)}`);
    await sub.waitForLog(/msg="consuming again"/, 10_000);
    await jsm.consumers.resume(STREAM, ready.consumer!);
    assert.ok(await pollUntil(() => sink.accepted.length >= 200, 30_000), "the rest delivered");
    let exited = false;
    sub.status.then(() => exited = true);
    await sleep(0);
    assert.equal(exited, false, "still running");
  } finally {
    sub?.kill();
    await sub?.status;
    await sink.close();
    await nc.close();
    await server.dispose();
  }
});

Deno.test("watchdog: deliveries the server waits on but we never got (as after a broker crash) → consumer re-created after its ack floor", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const sink = Sink.start();
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, STREAM, SUBJECT);
    const jsm = await nc.jetstreamManager();
    const msgs = hekaMessages(300, "ghost");
    await publishAll(nc.jetstream(), SUBJECT, msgs);
    // The subscriber's durable already exists, and 50 deliveries — its whole
    // ack window — went to a connection that is gone (what a broker restored
    // from before its crash believes): the server waits 5 minutes for them.
    const name = "ghosted-g1";
    await jsm.consumers.add(STREAM, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(300_000),
      max_ack_pending: 50,
      filter_subject: SUBJECT,
    });
    const ghost = await connect({ servers: server.url, noAsyncTraces: true });
    const c = await ghost.jetstream().consumers.get(STREAM, name);
    const taken = await c.fetch({ max_messages: 50, expires: 2000 });
    for await (const _ of taken) { /* received, never acked */ }
    await ghost.close();
    assert.equal((await jsm.consumers.info(STREAM, name)).num_ack_pending, 50);

    const statsPort = freePort();
    sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: sink.url("/bulk"),
      SUB_DURABLE: "ghosted",
      SUB_CLIENT_ID: "g1",
      SUB_BATCH_TIMEOUT: "100ms",
      SUB_ACK_WAIT: "5m",
      SUB_MAX_ACK_PENDING: "50",
      SUB_STATS_ADDRESS: `127.0.0.1:${statsPort}`,
    });
    await sub.waitReady();
    await sub.waitForLog(
      /level=warn .*the server waits for acks of deliveries we do not hold; re-creating it after its ack floor" pending=250 ack_pending=50 held=0 .*ack_floor=0/,
      30_000,
    );
    assert.ok(
      await pollUntil(() => new Set(sink.accepted).size >= 300, 30_000),
      `all 300 delivered, got ${new Set(sink.accepted).size}`,
    );
    const got = new Set(sink.accepted.map((l) => JSON.parse(l).Uuid));
    for (const m of msgs) assert.ok(got.has(m.uuid), `missing ${m.uuid}`);
    const vars = await (await fetch(`http://127.0.0.1:${statsPort}/debug/vars`)).json();
    assert.ok(vars.stalls >= 1);
  } finally {
    sub?.kill();
    await sub?.status;
    await sink.close();
    await nc.close();
    await server.dispose();
  }
});
