/**
 * Test messages: valid Heka messages with unique uuids, and reading back
 * everything a stream holds.
 *
 * @module
 */
import { type JsMsg, type NatsConnection } from "nats";
import { COUNT_HEADER, FORMAT_HEADER, isChunk, splitChunk } from "../../services/heka/chunk.ts";
import { encodeMessage } from "../../services/heka/codec.ts";
import { formatUuid, newField, newMessage, ValueType } from "../../services/heka/message.ts";

/** A valid Heka message with a random uuid and a payload of about `size` bytes. */
export function makeMessage(
  i: number,
  o: { size?: number; type?: string; hostname?: string } = {},
): { bytes: Uint8Array; uuid: string } {
  const m = newMessage();
  m.uuid = crypto.getRandomValues(new Uint8Array(16));
  m.timestamp = BigInt(Date.now()) * 1_000_000n + BigInt(i % 1_000_000);
  m.type = o.type ?? "test.log";
  m.logger = "tests";
  m.severity = 6;
  m.hostname = o.hostname ?? "test-host";
  m.pid = 4242;
  const base = `message ${i} `;
  m.payload = base + "x".repeat(Math.max(0, (o.size ?? 200) - base.length - 80));
  const f = newField("seq", ValueType.INTEGER);
  f.valueInteger.push(i);
  m.fields.push(f);
  return { bytes: encodeMessage(m), uuid: formatUuid(m.uuid) };
}

/**
 * Every log message stored in a stream, in order (fetched with a fresh
 * ordered consumer): a chunk counts as its messages, each with the chunk's
 * sequence and `chunk` set. When the consumer has not read everything
 * within `timeoutMs` (nats.js's ordered consumer stalls now and then on
 * nats-server 2.9.10), the stream is read again message by message, by
 * sequence.
 */
export async function readStream(
  nc: NatsConnection,
  stream: string,
  timeoutMs = 10_000,
): Promise<StoredMessage[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The consumer stops itself at timeoutMs; this is in case stopping hangs too.
  const stalled = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs + 2000);
  });
  try {
    const read = await Promise.race([readAll(nc, stream, timeoutMs), stalled]);
    return read ?? await readBySequence(nc, stream);
  } finally {
    clearTimeout(timer);
  }
}

/** {@link readStream} by direct gets, one sequence at a time (slower, never stalls). */
async function readBySequence(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(stream);
  const out: StoredMessage[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    let m;
    try {
      m = await jsm.streams.getMessage(stream, { seq });
    } catch (err) {
      if (/no message found/i.test(String(err))) continue; // a gap (deleted message)
      throw err;
    }
    unpack(out, m.data, m.subject, m.seq, m.header?.get(FORMAT_HEADER));
  }
  return out;
}

/** One log message read back from a stream. */
export interface StoredMessage {
  data: Uint8Array;
  subject: string;
  seq: number;
  /** Whether it was stored in a chunk. */
  chunk: boolean;
}

/** Appends the log messages of one JetStream message: a chunk's each, or the message itself. */
function unpack(
  out: StoredMessage[],
  data: Uint8Array,
  subject: string,
  seq: number,
  format: string | undefined,
): void {
  if (!isChunk(format)) {
    out.push({ data, subject, seq, chunk: false });
    return;
  }
  for (const m of splitChunk(data).messages) out.push({ data: m, subject, seq, chunk: true });
}

/** {@link readStream} with an ordered consumer; undefined when it stopped before the end. */
async function readAll(
  nc: NatsConnection,
  stream: string,
  timeoutMs: number,
): Promise<StoredMessage[] | undefined> {
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const total = (await jsm.streams.info(stream)).state.messages;
  const out: StoredMessage[] = [];
  if (total === 0) return out;
  let read = 0;
  const consumer = await js.consumers.get(stream);
  // Bounded in bytes: chunks of 256 KiB in pulls of 1,000 messages stall the ordered consumer.
  const iter = await consumer.consume({ max_bytes: 8 * 1024 * 1024 });
  const timer = setTimeout(() => iter.stop(), timeoutMs);
  try {
    for await (const m of iter) {
      read++;
      unpack(out, m.data, m.subject, m.seq, m.headers?.get(FORMAT_HEADER));
      if (read >= total) break;
    }
  } finally {
    clearTimeout(timer);
    iter.stop();
  }
  return read >= total ? out : undefined;
}

/** Every raw JetStream message of a stream (not unpacked). */
export async function rawMessages(nc: NatsConnection, stream: string): Promise<JsMsg[]> {
  const jsm = await nc.jetstreamManager();
  const total = (await jsm.streams.info(stream)).state.messages;
  const out: JsMsg[] = [];
  if (total === 0) return out;
  const iter = await (await nc.jetstream().consumers.get(stream)).consume({ max_messages: 100 });
  const timer = setTimeout(() => iter.stop(), 10_000);
  try {
    for await (const m of iter) {
      out.push(m);
      if (out.length >= total) break;
    }
  } finally {
    clearTimeout(timer);
    iter.stop();
  }
  return out;
}

/**
 * How many log messages a stream holds: a chunk counts `Lm-Count` (read
 * with a headers-only ordered consumer), any other message one.
 */
export async function streamMessages(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await nc.jetstreamManager();
  let total: number;
  try {
    total = (await jsm.streams.info(stream)).state.messages;
  } catch {
    return 0;
  }
  if (total === 0) return 0;
  const consumer = await nc.jetstream().consumers.get(stream, { headers_only: true });
  const iter = await consumer.consume({ max_messages: 1000 });
  const timer = setTimeout(() => iter.stop(), 10_000);
  let read = 0;
  let messages = 0;
  try {
    for await (const m of iter) {
      read++;
      const h = m.headers;
      messages += isChunk(h?.get(FORMAT_HEADER)) ? Number(h!.get(COUNT_HEADER)) : 1;
      if (read >= total) break;
    }
  } finally {
    clearTimeout(timer);
    iter.stop();
  }
  return messages;
}

/** Equality of two byte arrays. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
