/**
 * The bench's ceiling: a bare JetStream publisher in its own process, the
 * fastest pattern with npm:nats — core `publish` with a per-message reply
 * subject, one wildcard subscription counting the acks, a bounded window
 * of publishes in flight, `Nats-Msg-Id` on each — publishing the same
 * pre-encoded 3 KB messages the receivers get.
 *
 * `deno run -A tools/bench/baseline_publisher.ts --file F --nats URL --count C [--subject S] [--window W] [--pack N]`
 *
 * `--core` publishes plain core NATS messages (no reply, no headers, no
 * stream) and is done when a flush returns: the wire's ceiling.
 *
 * `--framed` (with `--pack`) builds chunks in reused buffers and sends them
 * framed in place, without nats.js's copy, as the receivers do.
 *
 * `--pack N` stores chunks of N messages each, as the receivers do
 * (Heka stream, `Lm-Format`, `Lm-Count`, a chunk id): how the bench fills
 * a packed stream for the subscriber. The window then counts chunks.
 *
 * Prints `{"event":"start","t":…,"cpu_s":…}` before the first publish and
 * `{"event":"done","t":…,"acked":…,"errors":…,"cpu_s":…,"hwm_kb":…}` after the last ack.
 *
 * @module
 */
import { connect, createInbox, headers, type Msg } from "nats";
import { parseArgs } from "node:util";
import { formatUuid } from "../../services/heka/message.ts";
import {
  COUNT_HEADER,
  FORMAT_HEADER,
  framedSize,
  HEKA_STREAM_FORMAT,
  writeFrame,
} from "../../services/heka/chunk.ts";
import { UUID_OFFSET } from "../../services/log_generator/stamp.ts";
import { indexFrames, UuidSequence } from "./frames.ts";
import { readProc } from "./proc_stats.ts";
import {
  FRAME_HEAD_ROOM,
  FRAME_TAIL_ROOM,
  framedPublisher,
} from "../../services/broker/framed_publish.ts";

/** Where `--core` publishes: no stream's subject, so nothing is stored. */
const CORE_SUBJECT = "lagermeister-bench.core";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      file: { type: "string" },
      nats: { type: "string" },
      count: { type: "string" },
      subject: { type: "string", default: "lagermeister-test" },
      window: { type: "string", default: "1024" },
      pack: { type: "string", default: "0" },
      core: { type: "boolean", default: false },
      framed: { type: "boolean", default: false },
    },
  });
  const data = await Deno.readFile(values.file!);
  const { frameStart, messageStart } = indexFrames(data);
  const messages = messageStart.map((m, i) => data.subarray(m, frameStart[i + 1]));
  const count = Number(values.count);
  const window = Number(values.window);
  const subject = values.subject!;
  const pack = Number(values.pack);

  const nc = await connect({ servers: values.nats!, noAsyncTraces: true, name: "bench-baseline" });
  const prefix = createInbox() + ".";
  let inflight = 0;
  let acked = 0;
  let errors = 0;
  let room: (() => void) | undefined;
  let allAcked: (() => void) | undefined;
  nc.subscribe(prefix + "*", {
    callback: (err: Error | null, msg: Msg) => {
      if (err) return;
      // `{"error":…}` or an empty 503 status: not stored.
      if (msg.data.length === 0 || msg.data[2] === 0x65) errors++;
      else acked++;
      inflight--;
      if (room && inflight < window) {
        room();
        room = undefined;
      }
      if (allAcked && inflight === 0) allAcked();
    },
  });
  await nc.flush();

  const uuids = new UuidSequence(0xbeef);
  // --framed: chunks built in reused buffers with room for the protocol frame
  // and sent without a copy, as the receivers send theirs (framed_publish.ts).
  const framed = values.framed;
  const framedPublish = framed ? framedPublisher(nc) : undefined;
  const ring: Uint8Array[] = [];
  /** The `k`th chunk's buffer: a ring twice the window, so a reused one was written out long ago. */
  const ringChunk = (k: number, size: number): Uint8Array => {
    const slot = k % (2 * window + 4);
    let b = ring[slot];
    if (b === undefined || b.length < FRAME_HEAD_ROOM + size + FRAME_TAIL_ROOM) {
      b = ring[slot] = new Uint8Array(FRAME_HEAD_ROOM + size + FRAME_TAIL_ROOM);
    }
    return b.subarray(FRAME_HEAD_ROOM, FRAME_HEAD_ROOM + size);
  };
  console.log(
    JSON.stringify({ event: "start", t: Date.now(), cpu_s: readProc(Deno.pid)?.cpuSeconds ?? 0 }),
  );
  if (values.core) {
    // Core NATS: no reply, no headers, a subject no stream stores; done once the server has it all.
    for (let i = 0; i < count; i++) {
      const body = messages[i % messages.length];
      nc.publish(CORE_SUBJECT, body);
      if (i % 1024 === 1023) await nc.flush();
    }
    await nc.flush();
  }
  for (let i = 0; !values.core && pack > 0 && i < count; i += pack) {
    if (inflight >= window) await new Promise<void>((r) => room = r);
    const n = Math.min(pack, count - i);
    let size = 0;
    for (let k = 0; k < n; k++) size += framedSize(messages[(i + k) % messages.length].length);
    const chunk = framed ? ringChunk(i / pack, size) : new Uint8Array(size);
    let at = 0;
    for (let k = 0; k < n; k++) {
      const m = messages[(i + k) % messages.length];
      const start = at + framedSize(m.length) - m.length;
      at = writeFrame(chunk, at, m);
      uuids.patch(chunk.subarray(start, at), 0);
    }
    const h = headers();
    h.set("Nats-Msg-Id", `bench-${i}`);
    h.set(FORMAT_HEADER, HEKA_STREAM_FORMAT);
    h.set(COUNT_HEADER, String(n));
    const reply = prefix + i.toString(36);
    const hdrBytes = framed ? (h as typeof h & { encode(): Uint8Array }).encode() : undefined;
    if (!(framedPublish && hdrBytes && framedPublish(subject, reply, hdrBytes, chunk))) {
      nc.publish(subject, chunk, { reply, headers: h });
    }
    inflight++;
  }
  for (let i = 0; !values.core && pack === 0 && i < count; i++) {
    if (inflight >= window) await new Promise<void>((r) => room = r);
    const body = messages[i % messages.length].slice();
    uuids.patch(body, 0);
    const h = headers();
    h.set("Nats-Msg-Id", formatUuid(body.subarray(UUID_OFFSET, UUID_OFFSET + 16)));
    nc.publish(subject, body, { reply: prefix + i.toString(36), headers: h });
    inflight++;
  }
  if (inflight > 0) await new Promise<void>((r) => allAcked = r);
  const t = Date.now();
  const self = readProc(Deno.pid);
  console.log(JSON.stringify({
    event: "done",
    t,
    acked,
    errors,
    cpu_s: self?.cpuSeconds ?? 0,
    hwm_kb: self?.hwmKb ?? 0,
  }));
  await nc.close();
}
