/**
 * Publishing a large message without a copy: the caller leaves room in its
 * buffer before and after the data, the NATS protocol frame
 * (`HPUB <subject> <reply> <header bytes> <total bytes>\r\n`, the headers,
 * the data, `\r\n`) is written around the data in place, and nats.js gets
 * that one buffer.
 *
 * Why: `nc.publish` hands nats.js four pieces (line, headers, data, CRLF),
 * which it concatenates into a fresh buffer before every socket write. For
 * a 256 KiB chunk that copy into new memory was the receiver's largest
 * cost (about a quarter of its CPU in `deno task bench --profile`). With
 * one piece nats.js writes the caller's buffer as it is.
 *
 * This reaches into nats.js's protocol handler (`sendCommand`,
 * `flushPending`), pinned
 * with npm:nats 2.29; {@link framedPublisher} checks that it is there and
 * callers fall back to `nc.publish` otherwise. The checks `nc.publish`
 * makes are made here too (closed, draining, max_payload), with the same
 * error codes.
 *
 * @module
 */
import type { NatsConnection } from "nats";

/** Bytes a framed publish needs before its data, at most: the HPUB line and the headers. */
export const FRAME_HEAD_ROOM = 1024;
/** Bytes a framed publish needs after its data: `\r\n`. */
export const FRAME_TAIL_ROOM = 2;

/** What of nats.js's connection a framed (or batched, batched_publish.ts) publish uses. */
export interface ConnectionInternals {
  isClosed(): boolean;
  info?: { max_payload: number; headers?: boolean };
  protocol: {
    sendCommand(cmd: Uint8Array): void;
    flushPending(): void;
    noMorePublishing: boolean;
  };
}

const encoder = new TextEncoder();

/** An error shaped like nats.js's (`code`), so callers handle both alike. */
function natsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** `nc`'s protocol handler, or undefined when nats.js does not expose what we use of it. */
export function connectionInternals(nc: NatsConnection): ConnectionInternals | undefined {
  const c = nc as unknown as Partial<ConnectionInternals>;
  if (
    typeof c.protocol?.sendCommand !== "function" ||
    typeof c.protocol?.flushPending !== "function" || typeof c.isClosed !== "function"
  ) {
    return undefined;
  }
  return c as ConnectionInternals;
}

/** Throws as `nc.publish` would for a message of `payload` bytes (headers and data). */
export function checkPublishable(conn: ConnectionInternals, payload: number): void {
  if (conn.isClosed()) throw natsError("CONNECTION_CLOSED", "connection closed");
  if (conn.protocol.noMorePublishing) throw natsError("CONNECTION_DRAINING", "draining");
  const maxPayload = conn.info?.max_payload;
  if (maxPayload !== undefined && payload > maxPayload) {
    throw natsError("MAX_PAYLOAD_EXCEEDED", "maximum payload exceeded");
  }
}

/**
 * Publishes `data` with `headers` (already encoded, `NATS/1.0\r\n…\r\n\r\n`)
 * and a reply subject, writing the protocol frame into the room around
 * `data` (which the caller gives up to this: `data.buffer` must have
 * {@link FRAME_HEAD_ROOM}-worth before `data` for the line and headers, and
 * {@link FRAME_TAIL_ROOM} after it). Returns false, sending nothing, when
 * there is not enough room; throws like `nc.publish`.
 */
export type FramedPublish = (
  subject: string,
  reply: string,
  headers: Uint8Array,
  data: Uint8Array,
) => boolean;

/** A {@link FramedPublish} for `nc`, or undefined when nats.js does not expose what it needs. */
export function framedPublisher(nc: NatsConnection): FramedPublish | undefined {
  const conn = connectionInternals(nc);
  if (conn === undefined) return undefined;
  return (subject, reply, headers, data) => {
    const line = encoder.encode(
      `HPUB ${subject} ${reply} ${headers.length} ${headers.length + data.length}\r\n`,
    );
    const head = line.length + headers.length;
    const start = data.byteOffset - head;
    const end = data.byteOffset + data.length + FRAME_TAIL_ROOM;
    if (start < 0 || end > data.buffer.byteLength) return false;
    checkPublishable(conn, headers.length + data.length);
    const frame = new Uint8Array(data.buffer, start, end - start);
    frame.set(line, 0);
    frame.set(headers, line.length);
    frame[end - start - 2] = 0x0d;
    frame[end - start - 1] = 0x0a;
    // Alone in nats.js's outbound buffer, a frame is written as it is; with
    // company (another chunk of this tick, an ack) all would be copied into
    // one fresh buffer. So what waits goes first, then the frame on its own.
    const protocol = conn.protocol;
    protocol.flushPending();
    protocol.sendCommand(frame);
    protocol.flushPending();
    return true;
  };
}
