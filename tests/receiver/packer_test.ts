/**
 * ChunkPacker with waiting callers (the HTTP receiver's path), against a
 * real nats-server: callers answered by an ack are waited for, briefly, so
 * that clients posting one message at a time share one chunk instead of
 * taking turns in groups; a lone caller and callers that do not come back
 * are not kept waiting for the linger.
 */
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "nats";
import { ensureStream, JetStreamPublisher } from "../../services/broker/mod.ts";
import { Logger } from "../../services/log/mod.ts";
import { ChunkPacker } from "../../services/receiver/mod.ts";
import { NatsServer } from "../../testing/mod.ts";

const log = new Logger("test", "warn");
const MESSAGE = new Uint8Array(500).fill(0x41);
/** Long, so that only the Nagle-like closing is at work, and a wait for it shows. */
const LINGER_MS = 5000;

/** A packer over a real publisher. */
async function packer(
  nc: NatsConnection,
): Promise<{ packer: ChunkPacker; pub: JetStreamPublisher }> {
  await ensureStream(nc, { name: "T", subjects: ["t.logs"] }, log);
  const pub = new JetStreamPublisher(nc, { subject: "t.logs", window: 64, log });
  const packer = new ChunkPacker(pub, {
    maxBytes: 256 * 1024,
    lingerMs: LINGER_MS,
    maxInflightBytes: 16 * 1024 * 1024,
    serverLimit: () => 1024 * 1024,
  });
  return { packer, pub };
}

/** Resolves after `n` turns of the event loop (`setImmediate`), as a client's next request would arrive. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/**
 * `clients` callers, each storing `rounds` messages one at a time; client
 * `i` comes back `i` turns of the event loop after its answer (the first
 * at once), so they do not all arrive in the same turn. Client `i` stops
 * after `roundsOf(i)` messages.
 */
async function post(
  p: ChunkPacker,
  clients: number,
  roundsOf: (client: number) => number,
): Promise<void> {
  await Promise.all(Array.from({ length: clients }, async (_, i) => {
    for (let r = 0; r < roundsOf(i); r++) {
      const outcome = await p.store(MESSAGE, `m-${i}-${r}`, performance.now() + 10_000);
      assert.equal(outcome, "ok");
      await turns(i);
    }
  }));
}

async function withPacker(fn: (p: ChunkPacker) => Promise<void>): Promise<void> {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  try {
    const { packer: p, pub } = await packer(nc);
    await fn(p);
    pub.close();
  } finally {
    await nc.close();
    await server.dispose();
  }
}

Deno.test("packer: clients posting one message at a time share one chunk a round, not take turns", async () => {
  await withPacker(async (p) => {
    const clients = 8;
    const rounds = 20;
    await post(p, clients, () => rounds);
    assert.equal(p.stats.stored, clients * rounds);
    // Closing a chunk the moment the previous one is acknowledged splits
    // the clients into groups that alternate (about 2 chunks a round here).
    assert.ok(
      p.stats.chunks <= rounds + 3,
      `${p.stats.chunks} chunks for ${rounds} rounds of ${clients} clients`,
    );
  });
});

Deno.test("packer: a lone caller, and callers that do not come back, are not kept for the linger", async () => {
  await withPacker(async (p) => {
    // A lone client: each message its own chunk, none waiting for the linger.
    let t0 = performance.now();
    await post(p, 1, () => 20);
    assert.equal(p.stats.chunks, 20);
    let ms = performance.now() - t0;
    assert.ok(ms < LINGER_MS / 2, `20 messages of one client took ${ms} ms`);
    // 8 clients, 6 of which stop after one message: those are waited for only briefly.
    t0 = performance.now();
    await post(p, 8, (i) => (i < 2 ? 20 : 1));
    assert.equal(p.stats.stored, 20 + 2 * 20 + 6);
    ms = performance.now() - t0;
    assert.ok(ms < LINGER_MS / 2, `20 rounds, 6 clients gone after the first, took ${ms} ms`);
  });
});
