// The subscriber's ack-subject parser, against hand-made subjects and
// against what nats.js's own `m.info` says of real deliveries.
import assert from "node:assert/strict";
import { AckPolicy, connect } from "nats";
import { NatsServer } from "../../testing/mod.ts";
import {
  type AckDelivery,
  parseAckSubject,
  readDelivery,
} from "../../services/http_subscriber/ack_subject.ts";

Deno.test("parseAckSubject reads both ack subject forms and refuses anything else", () => {
  const d: AckDelivery = { count: -1, seq: -1 };
  assert.ok(parseAckSubject("$JS.ACK.LOGS.sub.3.1234.99.1700000000000000000.5", d));
  assert.deepEqual(d, { count: 3, seq: 1234 });
  assert.ok(parseAckSubject("$JS.ACK.hub.ACCHASH.LOGS.sub.1.77.2.1700000000000000000.0.xyz", d));
  assert.deepEqual(d, { count: 1, seq: 77 });
  assert.ok(parseAckSubject("$JS.ACK._.ACCHASH.LOGS.sub.2.8.2.1700000000000000000.0", d));
  assert.deepEqual(d, { count: 2, seq: 8 });
  for (
    const bad of [
      "",
      "_INBOX.abc.def",
      "$JS.ACK.LOGS.sub.x.1234.99.1.5",
      "$JS.ACK.LOGS.sub.3..99.1.5",
      "$JS.ACK.LOGS.sub.3.1234",
      "$JS.NAK.LOGS.sub.3.1234.99.1.5",
    ]
  ) {
    const before = { ...d };
    assert.equal(parseAckSubject(bad, d), false, bad);
    assert.deepEqual(d, before, "untouched");
  }
});

Deno.test("readDelivery agrees with nats.js's m.info on real (re)deliveries", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "ACKS", subjects: ["acks"] });
    const js = nc.jetstream();
    for (let i = 0; i < 5; i++) await js.publish("acks", new Uint8Array([i]));
    await jsm.consumers.add("ACKS", { durable_name: "d", ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get("ACKS", "d");
    const seen: string[] = [];
    const d: AckDelivery = { count: 0, seq: 0 };
    for (let round = 0; round < 2; round++) {
      const batch = await c.fetch({ max_messages: 5, expires: 2000 });
      for await (const m of batch) {
        readDelivery(m, d);
        assert.deepEqual(d, { count: m.info.deliveryCount, seq: m.info.streamSequence });
        seen.push(`${d.seq}/${d.count}`);
        if (round === 0) m.nak();
        else m.ack();
      }
    }
    assert.ok(seen.includes("1/1") && seen.includes("1/2"), seen.join(" "));
  } finally {
    await nc.close();
    await server.dispose();
  }
});
