/**
 * Issue #3 acceptance: signed streams — good signatures stored, bad ones
 * dropped, unsigned ones dropped only with TCPRCVR_REQUIRE_SIGNED.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { frameMessage } from "../../services/heka/framing.ts";
import type { HmacSigner } from "../../services/heka/hmac.ts";
import { NatsServer } from "../../testing/mod.ts";
import { makeMessage, readStream, streamMessages } from "../helpers/messages.ts";
import { concat, startTcpReceiver, writeInChunks } from "../helpers/receivers.ts";

const good: HmacSigner = { name: "ops", version: 1, key: "s3cret", hash: "sha1" };
const goodMd5: HmacSigner = { name: "ops", version: 1, key: "s3cret", hash: "md5" };
const wrongKey: HmacSigner = { name: "ops", version: 1, key: "guess", hash: "sha1" };
const unknown: HmacSigner = { name: "eve", version: 1, key: "s3cret", hash: "sha1" };

async function run(
  requireSigned: boolean,
): Promise<{ stored: number; health: Record<string, unknown> }> {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats, {
    TCPRCVR_SIGNERS: JSON.stringify({ ops_1: "s3cret" }),
    TCPRCVR_REQUIRE_SIGNED: String(requireSigned),
    TCPRCVR_STATS_ADDRESS: "127.0.0.1:0",
  });
  const nc = await connect({ servers: nats.url });
  try {
    const frames = [
      frameMessage(makeMessage(1).bytes, good),
      frameMessage(makeMessage(2).bytes, goodMd5),
      frameMessage(makeMessage(3).bytes, wrongKey),
      frameMessage(makeMessage(4).bytes, unknown),
      frameMessage(makeMessage(5).bytes),
    ];
    await writeInChunks(tcp.port, concat(frames));
    const expected = requireSigned ? 2 : 3;
    const deadline = Date.now() + 5000;
    while (await streamMessages(nc, "LAGERMEISTER") < expected && Date.now() < deadline) {
      await sleep(50);
    }
    await sleep(300);
    const stored = (await readStream(nc, "LAGERMEISTER")).length;
    const m = ["", tcp.stats];
    assert.ok(tcp.stats, "stats address in the readiness line");
    const health = await (await fetch(`http://${m[1]}/health`)).json();
    const prom = await (await fetch(`http://${m[1]}/metrics`)).text();
    assert.match(prom, /^# TYPE lagermeister_tcp_receiver_refused_total counter$/m);
    assert.match(prom, /^lagermeister_tcp_receiver_received_total 5$/m);
    const vars = await (await fetch(`http://${m[1]}/debug/vars`)).json();
    assert.equal(vars.received, 5);
    return { stored, health };
  } finally {
    await nc.close();
    await tcp.proc.stop();
    await nats.dispose();
  }
}

Deno.test("signed stream: good MD5/SHA1 stored, wrong key and unknown signer dropped, unsigned passes", async () => {
  const { stored, health } = await run(false);
  assert.equal(stored, 3);
  assert.equal(health.refused, 2);
  assert.deepEqual(health.refusedBy, { "bad-digest": 1, "unknown-signer": 1 });
});

Deno.test("TCPRCVR_REQUIRE_SIGNED=true drops unsigned messages too", async () => {
  const { stored, health } = await run(true);
  assert.equal(stored, 2);
  assert.equal(health.refused, 3);
});
