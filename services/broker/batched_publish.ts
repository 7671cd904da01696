/**
 * PublishBatcher: publishing many small messages through one reused
 * buffer. The NATS protocol frames (`HPUB <subject> <reply> <header bytes>
 * <total bytes>\r\n`, the headers, the data, `\r\n`) of every message
 * published in one turn of the event loop are written one after another
 * into a buffer, and nats.js gets that one buffer.
 *
 * Why: `nc.publish` encodes each message's headers through a `MsgHdrs`
 * (strings, a TextEncoder call) and hands nats.js four pieces, which it
 * concatenates into fresh memory before each socket write: page faults on
 * every first write, and garbage. For one JetStream message per log line
 * (`*_PACK=false`) that was a third of the receiver's CPU in
 * `deno task bench --profile`.
 *
 * A buffer is reused once the server answered the last message in it: the
 * server reads a connection in order, so by then nats.js has written all
 * of it. A buffer whose answer never comes (connection lost) is left to
 * the garbage collector.
 *
 * Reaches into nats.js's protocol handler like framed_publish.ts, with the
 * same checks (closed, draining, max_payload) and error codes.
 *
 * @module
 */
import type { NatsConnection } from "nats";
import {
  checkPublishable,
  type ConnectionInternals,
  connectionInternals,
} from "./framed_publish.ts";

/** Size of a batch buffer; a message frame larger than this gets a buffer of its own. */
const BATCH_BYTES = 512 * 1024;
/** Free batch buffers kept at most. */
const KEEP_FREE = 8;
/** Batches awaiting their last answer that are remembered at most (the rest are not reused). */
const MAX_AWAITED = 64;

/** Writes the ASCII string `s` at `at`; returns the end. */
function writeAscii(buf: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
  return at + s.length;
}

/** Batches publishes into reused buffers; see the module documentation. */
export class PublishBatcher {
  readonly #conn: ConnectionInternals;
  #buf: Uint8Array | undefined;
  #at = 0;
  /** Reply subject of the last message written into {@link #buf}. */
  #lastReply = "";
  #scheduled = false;
  readonly #free: Uint8Array[] = [];
  /** Sent batches by the reply subject of their last message. */
  readonly #awaited = new Map<string, Uint8Array>();

  private constructor(conn: ConnectionInternals) {
    this.#conn = conn;
  }

  /** A batcher for `nc`, or undefined when nats.js does not expose what it needs. */
  static for(nc: NatsConnection): PublishBatcher | undefined {
    const conn = connectionInternals(nc);
    return conn && new PublishBatcher(conn);
  }

  /**
   * Publishes `data` with a reply subject and `head`, the header block
   * (`NATS/1.0\r\n…\r\n\r\n`, ASCII, as are the subjects); it is sent at
   * the end of this turn of the event loop. Throws like `nc.publish`
   * (closed, draining, too large).
   */
  publish(subject: string, reply: string, head: string, data: Uint8Array): void {
    const headBytes = head.length;
    checkPublishable(this.#conn, headBytes + data.length);
    const line = `HPUB ${subject} ${reply} ${headBytes} ${headBytes + data.length}\r\n`;
    const size = line.length + headBytes + data.length + 2;
    if (this.#buf !== undefined && this.#at + size > this.#buf.length) this.flush();
    if (this.#buf === undefined) {
      this.#buf = size > BATCH_BYTES
        ? new Uint8Array(size)
        : this.#free.pop() ?? new Uint8Array(BATCH_BYTES);
      this.#at = 0;
    }
    const buf = this.#buf;
    let at = writeAscii(buf, writeAscii(buf, this.#at, line), head);
    buf.set(data, at);
    at += data.length;
    buf[at++] = 0x0d;
    buf[at++] = 0x0a;
    this.#at = at;
    this.#lastReply = reply;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Sends what was written so far (at the end of the turn, or before a full buffer). */
  flush(): void {
    this.#scheduled = false;
    const buf = this.#buf;
    if (buf === undefined || this.#at === 0) return;
    const frame = buf.subarray(0, this.#at);
    this.#buf = undefined;
    this.#at = 0;
    if (buf.length === BATCH_BYTES) {
      if (this.#awaited.size >= MAX_AWAITED) {
        this.#awaited.delete(this.#awaited.keys().next().value!); // not reused: answer lost
      }
      this.#awaited.set(this.#lastReply, buf);
    }
    // Anything nats.js holds goes first, then the batch alone: written as it is.
    const protocol = this.#conn.protocol;
    protocol.flushPending();
    protocol.sendCommand(frame);
    protocol.flushPending();
  }

  /** The server answered the message with this reply subject: its batch, if last, is free. */
  answered(reply: string): void {
    const buf = this.#awaited.get(reply);
    if (buf === undefined) return;
    this.#awaited.delete(reply);
    if (this.#free.length < KEEP_FREE) this.#free.push(buf);
  }
}
