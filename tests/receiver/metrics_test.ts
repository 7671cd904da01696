/**
 * Issue #3: both receivers publish MetricEvents on `stats-events` every
 * second, in the MetricEvent shape of services/metrics/event.ts.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { frameMessage } from "../../services/heka/framing.ts";
import { metricEventSchema } from "../../services/metrics/mod.ts";
import { NatsServer } from "../../testing/mod.ts";
import { makeMessage } from "../helpers/messages.ts";
import {
  postMessage,
  startHttpReceiver,
  startTcpReceiver,
  writeInChunks,
} from "../helpers/receivers.ts";

Deno.test("receivers publish valid MetricEvents: Throughput counts what was stored", async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats);
  const http = await startHttpReceiver(nats);
  const nc = await connect({ servers: nats.url });
  try {
    const seen = new Map<string, number>(); // "sender/type" → summed value
    const sub = nc.subscribe("stats-events", {
      callback: (_err, msg) => {
        const e = metricEventSchema.parse(JSON.parse(new TextDecoder().decode(msg.data)));
        const key = `${e.Sender}/${e.MetricType}`;
        seen.set(key, (seen.get(key) ?? 0) + e.Value);
      },
    });
    await writeInChunks(tcp.port, frameMessage(makeMessage(1).bytes));
    await writeInChunks(tcp.port, frameMessage(makeMessage(2).bytes));
    assert.equal((await postMessage(http.port, makeMessage(3).bytes)).status, 200);
    // Stream size is polled every 5 s: allow two polls.
    const deadline = Date.now() + 12_000;
    while (
      Date.now() < deadline &&
      !((seen.get("tcp-receiver/Throughput") ?? 0) >= 2 &&
        (seen.get("http-receiver/Throughput") ?? 0) >= 1 &&
        (seen.get("tcp-receiver/StreamMessages") ?? 0) > 0)
    ) await sleep(100);
    sub.unsubscribe();
    assert.equal(seen.get("tcp-receiver/Throughput"), 2);
    assert.equal(seen.get("http-receiver/Throughput"), 1);
    for (const t of ["Invalid", "Refused", "Filtered", "Connections", "StreamBytes"]) {
      assert.ok(seen.has(`tcp-receiver/${t}`), `tcp-receiver reports ${t}`);
    }
    assert.ok((seen.get("tcp-receiver/StreamMessages") ?? 0) > 0);
  } finally {
    await nc.close();
    await tcp.proc.stop();
    await http.proc.stop();
    await nats.dispose();
  }
});
