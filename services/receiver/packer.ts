/**
 * ChunkPacker: packs the accepted messages of every connection of a
 * receiver into chunks (a Heka stream, see services/heka/chunk.ts) and
 * stores each chunk as one JetStream message with `Nats-Msg-Id` = the
 * chunk's id, so the publisher's resends are stored once.
 *
 * A chunk closes when the next message does not fit in `maxBytes` (clamped
 * to the server's max_payload less room for headers) or `lingerMs` after
 * its first message, whichever comes first. Backpressure is counted in
 * bytes: while closed chunks awaiting their ack hold `maxInflightBytes` or
 * more (or the publisher's window is full), {@link blocked} is true.
 *
 * A chunk holding messages of waiting callers ({@link store}, HTTP) is
 * published with their deadline and tells each of them the outcome; a
 * chunk of {@link send} messages only (TCP) is resent until acknowledged.
 *
 * Waiting callers should not wait for company that is not coming (the
 * linger), so such chunks close like Nagle's algorithm sends: at once
 * (after the current turn of the event loop, which lets concurrent
 * requests join) while no chunk of waiting callers awaits its ack, else
 * when the one in flight is acknowledged — the linger and size remain
 * upper bounds.
 *
 * Except for company that is coming: the callers a chunk's ack just
 * answered. Keep-alive clients posting one message at a time send their
 * next one at once, so after an ack the next chunk waits up to
 * {@link REJOIN_MS} (never past the linger) until it holds as many callers
 * as were just answered plus those already waiting. Without that wait the
 * clients split into groups that take turns, each group a chunk of its
 * own: twice the chunks (and nats-server's work) for the same messages.
 * A lone client is never kept waiting: it is the one caller expected back.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import {
  FRAME_HEAD_ROOM,
  FRAME_TAIL_ROOM,
  type JetStreamPublisher,
  publishHeaderBytes,
  type PublishOutcome,
} from "../broker/mod.ts";
import {
  COUNT_HEADER,
  FORMAT_HEADER,
  framedSize,
  HEKA_STREAM_FORMAT,
  writeFrame,
} from "../heka/chunk.ts";
import type { MessageSink } from "./sink.ts";

/** Room left in a JetStream message for its headers (`Nats-Msg-Id`, `Lm-*`): generous. */
export const HEADER_ROOM = 512;

/** Longest chunk id (`c`, 32 hex digits, `.`, a base-36 counter), with room to spare. */
const CHUNK_ID_LENGTH = 48;
/** `Lm-Format: heka-stream\r\n` and `Lm-Count: <up to 10 digits>\r\n`. */
const LM_HEADER_BYTES = 24 + 22;
/**
 * A buffer of `size` bytes with the room the publisher writes the NATS
 * protocol frame into around it (broker/framed_publish.ts): a chunk goes
 * to the socket as it is, without being copied into a fresh buffer first.
 */
function framable(size: number): Uint8Array {
  return new Uint8Array(FRAME_HEAD_ROOM + size + FRAME_TAIL_ROOM)
    .subarray(FRAME_HEAD_ROOM, FRAME_HEAD_ROOM + size);
}

/**
 * Longest wait, after a chunk of waiting callers was acknowledged, for the
 * callers it answered to come back with their next message (see the module
 * doc). 32 keep-alive HTTP clients on our 2-core machine came back within
 * it; the chunks of http-32 held 28 requests instead of 11.
 */
export const REJOIN_MS = 1;

/** Chunk buffers kept for reuse at most. */
const POOL_MAX = 256;
/** Framing of one message in a chunk at most: 0x1E, length, tag, 5-byte varint, 0x1F. */
const MAX_FRAMING = 9;

/** Options of a {@link ChunkPacker}. */
export interface PackerOptions {
  /** Bytes of a chunk at most (before clamping). */
  maxBytes: number;
  /** Age of a chunk's first message at which it closes. */
  lingerMs: number;
  /** Bytes of closed, unacknowledged chunks at which callers are slowed. */
  maxInflightBytes: number;
  /** Largest JetStream message the server accepts now (headers included). */
  serverLimit: () => number;
}

/** Counters of a packer. */
export interface PackerStats {
  /** Chunks closed and handed to the publisher. */
  chunks: number;
  /** Log messages acknowledged by JetStream. */
  stored: number;
  /** Chunks acknowledged by JetStream. */
  storedChunks: number;
  /** Log messages in chunks the server refused for good (see the publisher's `rejected`). */
  rejected: number;
}

interface OpenChunk {
  id: string;
  buf: Uint8Array;
  bytes: number;
  count: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Earliest deadline of a waiting caller; Infinity when nobody waits. */
  deadline: number;
  done: PromiseWithResolvers<PublishOutcome> | undefined;
  /** Callers this chunk's ack answers: `store` calls, and `storeAll` calls whose last message it holds. */
  callers: number;
  /** A close after this turn of the event loop is scheduled. */
  nudged: boolean;
}

/** Packs messages into chunks; see the module documentation. */
export class ChunkPacker implements MessageSink {
  readonly stats: PackerStats = { chunks: 0, stored: 0, storedChunks: 0, rejected: 0 };
  /** Messages are copied into the chunk at once. */
  readonly copiesMessages = true;
  readonly #publisher: JetStreamPublisher;
  readonly #o: PackerOptions;
  readonly #idPrefix = `c${crypto.randomUUID().replaceAll("-", "")}.`;
  #seq = 0;
  #open: OpenChunk | undefined;
  /**
   * Chunk buffers free for reuse: those of small chunks whose bytes were
   * copied out, and those of chunks JetStream acknowledged. A fresh 256 KiB
   * buffer costs page faults on every first write (about 1 s of CPU per GB
   * here), a reused one does not.
   */
  #pool: Uint8Array[] = [];
  #inflightBytes = 0;
  /** Chunks of waiting callers published and not yet settled. */
  #waitedInflight = 0;
  /** Callers expected in the open chunk before it closes (see {@link REJOIN_MS}), and until when. */
  #rejoin = { callers: 0, until: 0 };
  #rejoinTimer: ReturnType<typeof setTimeout> | undefined;
  #waiters: (() => void)[] = [];

  constructor(publisher: JetStreamPublisher, o: PackerOptions) {
    this.#publisher = publisher;
    this.#o = o;
  }

  /** The size at which a chunk closes now: the configured one, clamped to the server's limit. */
  get chunkLimit(): number {
    return Math.max(1024, Math.min(this.#o.maxBytes, this.#o.serverLimit() - HEADER_ROOM));
  }

  /** The largest message a chunk of its own can carry to the server now. */
  maxMessageBytes(): number {
    return this.#o.serverLimit() - publishHeaderBytes(CHUNK_ID_LENGTH) - LM_HEADER_BYTES -
      MAX_FRAMING;
  }

  /** Bytes of closed chunks not yet acknowledged. */
  get inflightBytes(): number {
    return this.#inflightBytes;
  }

  get blocked(): boolean {
    return this.#inflightBytes >= this.#o.maxInflightBytes || this.#publisher.full;
  }

  async ready(): Promise<void> {
    while (this.blocked) {
      if (this.#publisher.full) await this.#publisher.waitForCapacity();
      else await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  get stored(): number {
    return this.stats.stored;
  }

  send(message: Uint8Array, _msgId: string, release?: () => void): void {
    this.#closeIfFull(this.#add(message));
    release?.(); // copied into the chunk
  }

  store(message: Uint8Array, _msgId: string, deadline: number): Promise<PublishOutcome> {
    const c = this.#add(message);
    if (deadline < c.deadline) c.deadline = deadline;
    c.done ??= Promise.withResolvers<PublishOutcome>();
    c.callers++;
    const promise = c.done.promise;
    this.#closeIfFull(c);
    this.#nudge();
    return promise;
  }

  /**
   * Stores many messages (one HTTP request's) and resolves with the worst
   * outcome of the chunks holding them: "ok" only when all are stored.
   */
  async storeAll(
    messages: readonly Uint8Array[],
    _msgIds: readonly string[],
    deadline: number,
  ): Promise<PublishOutcome> {
    const waits = new Set<Promise<PublishOutcome>>();
    let last: OpenChunk | undefined;
    for (const m of messages) {
      const c = this.#add(m);
      if (deadline < c.deadline) c.deadline = deadline;
      c.done ??= Promise.withResolvers<PublishOutcome>();
      waits.add(c.done.promise);
      last = c;
    }
    // The caller is answered with its last chunk: that one counts it (see REJOIN_MS).
    if (last !== undefined) last.callers++;
    if (this.#open !== undefined) this.#closeIfFull(this.#open);
    this.#nudge();
    const outcomes = await Promise.all(waits);
    return outcomes.find((o) => o !== "ok") ?? "ok";
  }

  flush(): void {
    if (this.#open !== undefined) this.#close(this.#open);
  }

  /** Appends a message to the open chunk, closing it first when it would not fit. */
  #add(message: Uint8Array): OpenChunk {
    const size = framedSize(message.length);
    let c = this.#open;
    if (c !== undefined && c.bytes + size > c.buf.length) {
      this.#close(c);
      c = undefined;
    }
    c ??= this.#start(size);
    c.bytes = writeFrame(c.buf, c.bytes, message);
    c.count++;
    return c;
  }

  /** Closes a chunk with no room left for even a tiny message: no reason to wait for more. */
  #closeIfFull(c: OpenChunk): void {
    if (c.buf.length - c.bytes < 64) this.#close(c);
  }

  #start(atLeast: number): OpenChunk {
    const limit = this.chunkLimit;
    let buf: Uint8Array;
    if (atLeast > limit) buf = framable(atLeast); // one message larger than a chunk
    else {
      let pooled = this.#pool.pop();
      // After a clamp change the pool holds buffers of the old size: let them go.
      while (pooled !== undefined && pooled.length !== limit) pooled = this.#pool.pop();
      buf = pooled ?? framable(limit);
    }
    const c: OpenChunk = {
      id: this.#idPrefix + (this.#seq++).toString(36),
      buf,
      bytes: 0,
      count: 0,
      timer: undefined,
      deadline: Infinity,
      done: undefined,
      callers: 0,
      nudged: false,
    };
    c.timer = setTimeout(() => {
      c.timer = undefined;
      if (this.#open === c) this.#close(c);
    }, this.#o.lingerMs);
    this.#open = c;
    return c;
  }

  #close(c: OpenChunk): void {
    if (this.#open !== c) return;
    this.#open = undefined;
    if (c.timer !== undefined) clearTimeout(c.timer);
    let data: Uint8Array;
    /** The buffer to reuse once JetStream acknowledged the chunk (nats.js has sent it then). */
    let reusable: Uint8Array | undefined;
    if (c.bytes * 2 < c.buf.length) {
      // A small chunk (lingered out): copy it, keep the big buffer for the next one.
      data = framable(c.bytes);
      data.set(c.buf.subarray(0, c.bytes));
      this.#recycle(c.buf);
    } else {
      data = c.buf.subarray(0, c.bytes);
      reusable = c.buf;
    }
    const size = data.length;
    const count = c.count;
    this.stats.chunks++;
    this.#inflightBytes += size;
    const headers: [string, string][] = [
      [FORMAT_HEADER, HEKA_STREAM_FORMAT],
      [COUNT_HEADER, String(count)],
    ];
    const onSettled = (outcome: "ok" | "rejected") => {
      // Settled by the server's answer: nats.js no longer holds the bytes.
      if (reusable !== undefined) this.#recycle(reusable);
      if (outcome === "ok") {
        this.stats.stored += count;
        this.stats.storedChunks++;
      } else this.stats.rejected += count;
    };
    const done = c.done;
    if (done === undefined) {
      this.#publisher.send(data, c.id, {
        headers,
        framed: true,
        onSettled: (outcome) => {
          onSettled(outcome);
          this.#release(size);
        },
      });
      return;
    }
    const left = Math.max(1, c.deadline - performance.now());
    const callers = c.callers;
    this.#waitedInflight++;
    const settled = (outcome: PublishOutcome) => {
      this.#release(size);
      this.#waitedInflight--;
      if (this.#waitedInflight === 0) this.#expectBack(callers);
      done.resolve(outcome);
      this.#nudge();
    };
    this.#publisher.publish(data, c.id, left, { headers, onSettled, framed: true }).then(
      settled,
      () => settled("unavailable"),
    );
  }

  /**
   * Closes the open chunk of waiting callers after this turn of the event
   * loop when no chunk of waiting callers is in flight (see the module doc).
   */
  #nudge(): void {
    const c = this.#open;
    if (c === undefined || c.done === undefined || c.nudged || this.#waitedInflight > 0) return;
    if (c.callers < this.#rejoin.callers && this.#waitForRejoin()) return;
    this.#rejoin.callers = 0;
    c.nudged = true;
    setImmediate(() => {
      if (this.#open === c) this.#close(c);
    });
  }

  /**
   * Expects the `answered` callers of the chunk just acknowledged back in
   * the open chunk, with those already in it, for up to {@link REJOIN_MS}.
   */
  #expectBack(answered: number): void {
    const open = this.#open?.done !== undefined ? this.#open.callers : 0;
    this.#rejoin = {
      callers: answered + open,
      until: performance.now() + Math.min(REJOIN_MS, this.#o.lingerMs),
    };
  }

  /** Whether there is time left to wait for callers to come back; if so, nudges again then. */
  #waitForRejoin(): boolean {
    const left = this.#rejoin.until - performance.now();
    if (left <= 0) return false;
    this.#rejoinTimer ??= setTimeout(() => {
      this.#rejoinTimer = undefined;
      // A later ack may have moved the wait on: then this nudge waits again.
      if (performance.now() >= this.#rejoin.until) this.#rejoin.callers = 0;
      this.#nudge();
    }, left);
    return true;
  }

  /** Keeps a chunk buffer for a later chunk, up to what the in-flight limit can use. */
  #recycle(buf: Uint8Array): void {
    const limit = this.chunkLimit;
    const keep = Math.min(POOL_MAX, Math.ceil(this.#o.maxInflightBytes / limit) + 2);
    if (buf.length === limit && this.#pool.length < keep) this.#pool.push(buf);
  }

  #release(size: number): void {
    this.#inflightBytes -= size;
    if (this.#waiters.length > 0 && this.#inflightBytes < this.#o.maxInflightBytes) {
      for (const w of this.#waiters.splice(0)) w();
    }
  }
}
