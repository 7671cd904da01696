/**
 * A short pipeline for compiled binaries: a real nats-server, the TCP
 * receiver started from a given command line, a few Heka messages, and the
 * stream checked. The command is a parameter so the same check runs on
 * `bin/tcp_receiver` and on `deno run services/tcp_receiver/main.ts`.
 *
 * @module
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { frameMessage } from "../../services/heka/framing.ts";
import { makeMessage, readStream, streamMessages } from "../helpers/messages.ts";
import { freePort, NatsServer, ProgramProcess, waitForPort } from "../../testing/mod.ts";
import { concat } from "../helpers/receivers.ts";

/**
 * Runs the TCP receiver from `command` against a fresh nats-server, sends
 * `count` framed messages and checks the stream holds exactly them.
 */
export async function tcpReceiverPipeline(command: string[], count = 5): Promise<void> {
  const nats = await NatsServer.start();
  const port = freePort();
  const receiver = ProgramProcess.spawn(command, {
    TCPRCVR_NATS_URL: nats.url,
    TCPRCVR_CLIENT_ID: "compiled-tcp",
    TCPRCVR_BIND_ADDRESS: `127.0.0.1:${port}`,
    TCPRCVR_STATS_ADDRESS: "off",
  });
  const nc = await connect({ servers: nats.url });
  try {
    await receiver.waitReady();
    await waitForPort(port);
    const sent = Array.from({ length: count }, (_, i) => makeMessage(i));
    const bytes = concat(sent.map((m) => frameMessage(m.bytes)));
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    for (let w = 0; w < bytes.length;) w += await conn.write(bytes.subarray(w));
    conn.close();
    const deadline = Date.now() + 10_000;
    while (await streamMessages(nc, "LAGERMEISTER") < count && Date.now() < deadline) {
      await sleep(100);
    }
    const stored = await readStream(nc, "LAGERMEISTER");
    assert.equal(stored.length, count);
    for (let i = 0; i < count; i++) assert.deepEqual(stored[i].data, sent[i].bytes);
  } finally {
    await nc.close();
    const status = await receiver.stop("SIGTERM", 15_000);
    await nats.dispose();
    assert.equal(status.code, 0, `the receiver exited with ${status.code}:\n${receiver.stderr}`);
  }
}
