/**
 * Issue #7: floods and abuse over TCP. Idle connections, a slowloris, 4 MB
 * of random bytes, a header claiming a 4 GB message and thousands of tiny
 * frames, all at once: a well-behaved client's messages still all get
 * stored, memory stays bounded, stuck connections are closed.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { encodeHeader } from "../../services/heka/codec.ts";
import { frameMessage } from "../../services/heka/framing.ts";
import { NatsServer } from "../../testing/mod.ts";
import { makeMessage, streamMessages } from "../helpers/messages.ts";
import { rssBytes } from "../helpers/proc_stats.ts";
import { concat, startTcpReceiver, writeInChunks } from "../helpers/receivers.ts";

const IDLE = Number(Deno.env.get("LM_ABUSE_IDLE_CONNECTIONS") ?? 10_000);

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let w = 0;
  while (w < data.length) w += await conn.write(data.subarray(w));
}

async function health(addr: string): Promise<Record<string, number>> {
  return await (await fetch(`http://${addr}/debug/vars`)).json();
}

Deno.test(`TCP abuse: ${IDLE} idle conns, slowloris, random bytes, 4 GB header, tiny frames`, async () => {
  const nats = await NatsServer.start();
  const tcp = await startTcpReceiver(nats, {
    TCPRCVR_IDLE_TIMEOUT: "4s",
    TCPRCVR_STATS_ADDRESS: "127.0.0.1:0",
  });
  const statsAddr = tcp.stats!;
  const nc = await connect({ servers: nats.url });
  const idle: Deno.Conn[] = [];
  try {
    // 1. Idle connections.
    for (let i = 0; i < IDLE; i += 500) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(500, IDLE - i) },
          () => Deno.connect({ hostname: "127.0.0.1", port: tcp.port }),
        ),
      );
      idle.push(...batch);
    }
    const deadlineConns = Date.now() + 10_000;
    while ((await health(statsAddr)).connections < IDLE && Date.now() < deadlineConns) {
      await sleep(100);
    }
    const idleRss = rssBytes(tcp.proc.pid);
    console.log(`receiver RSS with ${IDLE} idle connections: ${(idleRss / 2 ** 20).toFixed(1)} MB`);
    assert.ok(idleRss < 300 * 2 ** 20, `RSS ${idleRss} with idle connections`);

    // 2. Abusers, all at once, while a good client sends 2,000 messages.
    const slowloris = (async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
      const frame = frameMessage(makeMessage(1).bytes);
      try {
        for (let i = 0; i < frame.length - 1; i++) {
          await c.write(frame.subarray(i, i + 1));
          await sleep(300);
        }
        return "not closed";
      } catch {
        return "closed";
      } finally {
        try {
          c.close();
        } catch {
          // closed by the receiver
        }
      }
    })();
    const random = (async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
      for (let i = 0; i < 64; i++) await writeAll(c, crypto.getRandomValues(new Uint8Array(65536)));
      c.close();
    })();
    const huge = (async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
      const header = encodeHeader({ messageLength: 0xffffffff });
      await writeAll(
        c,
        concat([new Uint8Array([0x1e, header.length]), header, new Uint8Array([0x1f])]),
      );
      // Stream 8 MB of "message" that must be discarded as it arrives.
      const chunk = new Uint8Array(65536).fill(0x41);
      for (let i = 0; i < 128; i++) await writeAll(c, chunk);
      c.close();
    })();
    const tiny = (async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
      const frames = Array.from(
        { length: 20_000 },
        (_, i) => frameMessage(new Uint8Array([8, i & 0x7f])),
      );
      await writeAll(c, concat(frames));
      c.close();
    })();
    const good = Array.from({ length: 2000 }, (_, i) => makeMessage(i, { size: 2000 }));
    const t0 = performance.now();
    await writeInChunks(tcp.port, concat(good.map((m) => frameMessage(m.bytes))));
    const deadline = Date.now() + 20_000;
    while (await streamMessages(nc, "LAGERMEISTER") < 2000 && Date.now() < deadline) {
      await sleep(50);
    }
    const took = performance.now() - t0;
    assert.equal(await streamMessages(nc, "LAGERMEISTER"), 2000, "every good message stored");
    console.log(`good client's 2,000 messages stored in ${took.toFixed(0)} ms during the abuse`);
    await Promise.all([random, huge, tiny]);
    assert.equal(await slowloris, "closed", "the slowloris is cut off");

    const vars = await health(statsAddr);
    assert.ok(vars.garbage_bytes > 1_000_000, "random bytes counted as garbage");
    assert.ok(vars.oversized >= 1, "the 4 GB record counted oversized");
    assert.ok(vars.invalid >= 20_000, "tiny frames counted invalid");
    assert.ok(vars.idle_closed >= 1, "stuck connections closed");
    const peak = rssBytes(tcp.proc.pid);
    console.log(`receiver RSS after the abuse: ${(peak / 2 ** 20).toFixed(1)} MB`);
    assert.ok(peak < 400 * 2 ** 20, `RSS ${peak} bounded`);

    // 3. Idle connections are closed after the idle timeout.
    const idleDeadline = Date.now() + 15_000;
    while ((await health(statsAddr)).connections > 0 && Date.now() < idleDeadline) {
      await sleep(250);
    }
    assert.equal((await health(statsAddr)).connections, 0, "idle connections timed out");
    assert.equal(tcp.proc.exited, undefined, "the receiver is still running");
  } finally {
    for (const c of idle) {
      try {
        c.close();
      } catch {
        // closed by the receiver
      }
    }
    await nc.close();
    await tcp.proc.stop();
    await nats.dispose();
  }
});
