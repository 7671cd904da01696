/**
 * Issue #7: a 3-node JetStream cluster on loopback, stream with 3
 * replicas, programs given all three URLs; under load the stream leader's
 * server is killed: nothing accepted is lost, storing continues.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { Sink, startCluster } from "../../testing/mod.ts";
import { startHttpReceiver, startTcpReceiver } from "../helpers/receivers.ts";
import { expectDelivered, expectStored, httpClients, startSubscriber, tcpStream } from "./load.ts";

Deno.test("3-node cluster, R3 stream: killing the stream leader loses nothing", async () => {
  const servers = await startCluster(3);
  const urls = servers.map((s) => s.url).join(",");
  const common = { STREAM_REPLICAS: "3" };
  const tcp = await startTcpReceiver(urls, { TCPRCVR_STREAM_REPLICAS: common.STREAM_REPLICAS });
  const http = await startHttpReceiver(urls, { RCVR_STREAM_REPLICAS: common.STREAM_REPLICAS });
  const sink = Sink.start();
  const sub = startSubscriber(urls, sink, "cluster");
  let done = false;
  const nc = await connect({ servers: servers.map((s) => s.url), maxReconnectAttempts: -1 });
  try {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info("LAGERMEISTER");
    assert.equal(info.config.num_replicas, 3);
    const leaderName = info.cluster?.leader;
    const leader = servers.find((_, i) => `lm-n${i + 1}` === leaderName);
    assert.ok(leader, `leader ${leaderName} is one of ours`);

    const tcpLoad = tcpStream(tcp.port, 10_000, { perWrite: 50, pauseMs: 20 });
    const httpLoad = httpClients(http.port, 4, () => done, { pauseMs: 5 });
    await sleep(1500);
    await leader.kill();
    const tcpUuids = await tcpLoad;
    // Storing continues after the leader is gone.
    await sleep(1000);
    done = true;
    const h = await httpLoad;
    console.log(`HTTP answers: ${JSON.stringify(h.statuses)}`);
    // The stream may still be electing its new leader: ask until one answers.
    let newLeader: string | undefined;
    for (const t = Date.now(); !newLeader && Date.now() - t < 15_000;) {
      newLeader = await jsm.streams.info("LAGERMEISTER")
        .then((i) => i.cluster?.leader, () => undefined);
      if (!newLeader) await sleep(250);
    }
    console.log(`stream leader ${leaderName} killed; new leader ${newLeader}`);
    assert.notEqual(newLeader, leaderName);
    // Reading back right after a leader change can hang a while on older servers (2.9).
    const r = await expectStored(nc, "LAGERMEISTER", [...tcpUuids, ...h.accepted], 120_000);
    console.log(`stored ${r.stored}, duplicates ${r.duplicates}`);
    assert.equal(tcp.proc.exited, undefined);
    assert.equal(http.proc.exited, undefined);

    const lines = await expectDelivered(sink, [...tcpUuids, ...h.accepted], 90_000);
    console.log(`sink got ${lines} lines for ${tcpUuids.length + h.accepted.length} messages`);
    assert.equal(sub.exited, undefined, "the subscriber is still running");
  } finally {
    done = true;
    await sub.stop();
    await sink.close();
    await nc.close();
    await tcp.proc.stop();
    await http.proc.stop();
    await Promise.all(servers.map((s) => s.dispose()));
  }
});
