/**
 * Load for chaos tests: a TCP client streaming framed messages, HTTP
 * clients posting, and a check that everything accepted got stored.
 *
 * @module
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import type { NatsConnection } from "nats";
import { frameMessage } from "../../services/heka/framing.ts";
import { makeMessage, readStream } from "../helpers/messages.ts";
import { ProgramProcess, type Sink } from "../../testing/mod.ts";
import { postMessage } from "../helpers/receivers.ts";

/** Streams `count` messages over one TCP connection, `perWrite` frames per write, pausing between writes. */
export async function tcpStream(
  port: number,
  count: number,
  o: { perWrite?: number; pauseMs?: number; size?: number; stop?: () => boolean } = {},
): Promise<string[]> {
  const uuids: string[] = [];
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const perWrite = o.perWrite ?? 100;
  try {
    for (let i = 0; i < count && !o.stop?.(); i += perWrite) {
      const frames: Uint8Array[] = [];
      for (let j = i; j < Math.min(count, i + perWrite); j++) {
        const m = makeMessage(j, { size: o.size ?? 1000 });
        frames.push(frameMessage(m.bytes));
        uuids.push(m.uuid);
      }
      const data = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const f of frames) {
        data.set(f, at);
        at += f.length;
      }
      let w = 0;
      while (w < data.length) w += await conn.write(data.subarray(w));
      if (o.pauseMs) await sleep(o.pauseMs);
    }
  } finally {
    conn.close();
  }
  return uuids;
}

/** Result of {@link httpClients}. */
export interface HttpLoad {
  /** Uuids answered 200. */
  accepted: string[];
  statuses: Record<number, number>;
  /** Slowest answer, ms. */
  slowestMs: number;
}

/** `clients` concurrent posters until `stop()` says so; 503s are counted and retried later with new messages. */
export async function httpClients(
  port: number,
  clients: number,
  stop: () => boolean,
  o: { pauseMs?: number } = {},
): Promise<HttpLoad> {
  const load: HttpLoad = { accepted: [], statuses: {}, slowestMs: 0 };
  let n = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (!stop()) {
      const m = makeMessage(1_000_000 + n++, { size: 500 });
      const t0 = performance.now();
      let status = 0;
      try {
        status = (await postMessage(port, m.bytes, { signal: AbortSignal.timeout(15_000) })).status;
      } catch {
        status = 0; // connection refused / reset: not accepted
      }
      load.slowestMs = Math.max(load.slowestMs, performance.now() - t0);
      load.statuses[status] = (load.statuses[status] ?? 0) + 1;
      if (status === 200) load.accepted.push(m.uuid);
      else await sleep(200);
      if (o.pauseMs) await sleep(o.pauseMs);
    }
  }));
  return load;
}

function uuidOf(bytes: Uint8Array): string {
  const h = [...bytes.subarray(2, 18)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Waits until the stream holds every expected uuid; returns stored count and duplicates. */
export async function expectStored(
  nc: NatsConnection,
  stream: string,
  expected: string[],
  timeoutMs = 60_000,
): Promise<{ stored: number; duplicates: number }> {
  const want = new Set(expected);
  const deadline = Date.now() + timeoutMs;
  let missing = want.size;
  let stored = 0;
  let duplicates = 0;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      // Packed receivers take in more under overload: reading it all back takes longer.
      const msgs = await readStream(nc, stream, Math.max(20_000, expected.length / 4));
      const seen = new Set<string>();
      duplicates = 0;
      for (const m of msgs) {
        const u = uuidOf(m.data);
        if (seen.has(u)) duplicates++;
        seen.add(u);
      }
      stored = msgs.length;
      missing = [...want].filter((u) => !seen.has(u)).length;
      if (missing === 0) break;
    } catch (err) {
      lastError = err; // the broker may still be electing a leader
    }
    await sleep(1000);
  }
  const why = stored === 0 && lastError !== undefined ? ` (reading it failed: ${lastError})` : "";
  assert.equal(
    missing,
    0,
    `${missing} of ${want.size} accepted messages missing from the stream${why}`,
  );
  return { stored, duplicates };
}

/** Waits until the sink accepted a line for every uuid; returns how many lines it got. */
export async function expectDelivered(
  sink: Sink,
  expected: string[],
  timeoutMs = 60_000,
): Promise<number> {
  const want = new Set(expected);
  const deadline = Date.now() + timeoutMs;
  let missing = want.size;
  while (Date.now() < deadline) {
    const got = new Set(sink.accepted.map((l) => JSON.parse(l).Uuid as string));
    missing = [...want].filter((u) => !got.has(u)).length;
    if (missing === 0) break;
    await sleep(250);
  }
  assert.equal(missing, 0, `${missing} accepted messages never reached the sink`);
  return sink.accepted.length;
}

/** The subscriber as a child process posting to `sink`, durable, from the first message. */
export function startSubscriber(natsUrl: string, sink: Sink, name: string): ProgramProcess {
  return ProgramProcess.start("services/http_subscriber/main.ts", {
    SUB_NATS_URL: natsUrl,
    SUB_CLIENT_ID: name,
    SUB_DURABLE: name,
    SUB_DELIVER_ALL: "true",
    SUB_REMOTE_URL: sink.url(),
    SUB_BATCH_TIMEOUT: "300ms",
    SUB_STATS_ADDRESS: "127.0.0.1:0",
    SUB_NATS_RECONNECT_WAIT: "100ms",
  });
}
