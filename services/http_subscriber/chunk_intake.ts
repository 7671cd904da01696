/**
 * Reading chunks (services/heka/chunk.ts) in the subscriber, and acking a
 * chunk only when every line from it is settled.
 *
 * A JetStream message with `Lm-Format: heka-stream` holds many Heka
 * messages. Each becomes a {@link ChunkLine}: it travels through the
 * batcher, the poster and the dead-letter path like a per-message JsMsg
 * does (it has the same `ack`, `working`, `seq`, `info`, `data`, `subject`),
 * so a chunk's lines may span several HTTP batches. `ack()` of a line only
 * counts it; the chunk's JetStream message is acked when its last line is
 * acked — after a 2xx for each, or after a line was stored as a dead letter.
 * A line never acked (shutdown, crash) leaves the chunk unacked: JetStream
 * redelivers it and every line of it is posted again (at least once; each
 * line carries its Uuid).
 *
 * @module
 */
import type { JsMsg } from "nats";
import { releaseFrame } from "../broker/mod.ts";
import { FORMAT_HEADER, isChunk, splitChunk } from "../heka/chunk.ts";

/**
 * What the subscriber needs of anything it batches and acks: a JsMsg (one
 * log message) or a {@link ChunkLine}.
 */
export interface Deliverable {
  /** The Heka message bytes. */
  readonly data: Uint8Array;
  readonly subject: string;
  /** Stream sequence of the JetStream message holding it. */
  readonly seq: number;
  readonly info: { readonly stream: string; readonly timestampNanos: number };
  /** Its line is settled (delivered or dead-lettered). */
  ack(): void;
  /** Extends the ack deadline of the JetStream message holding it. */
  working(): void;
}

/** Whether a JetStream message holds a chunk. */
export function holdsChunk(m: JsMsg): boolean {
  // Per-message records from today's receivers carry only Nats-Msg-Id.
  return m.headers !== undefined && isChunk(m.headers.get(FORMAT_HEADER));
}

/** A chunk's JetStream message and how many of its lines are not settled yet. */
export class ChunkTracker {
  #left: number;
  #lastWorking = 0;
  #info: JsMsg["info"] | undefined;

  /** `onAcked` is called once the JetStream message is acked. */
  constructor(readonly msg: JsMsg, lines: number, readonly onAcked?: () => void) {
    this.#left = lines;
  }

  /** Lines not settled yet. */
  get left(): number {
    return this.#left;
  }

  /** The message's delivery info, parsed once. */
  get info(): JsMsg["info"] {
    return this.#info ??= this.msg.info;
  }

  /**
   * One line settled; acks the chunk after the last and gives its frame
   * buffer back: every line is posted or stored as a dead letter by then,
   * and nothing reads the lines' bytes again.
   */
  lineDone(): void {
    if (this.#left <= 0) return;
    if (--this.#left > 0) return;
    const m = this.msg;
    m.ack();
    this.onAcked?.();
    // nats.js decodes these from the frame on first use: decode them before it is reused.
    void m.subject, m.headers, this.info;
    releaseFrame(m.data);
  }

  /** Extends the chunk's ack deadline; once per 100 ms however many lines ask. */
  working(): void {
    const now = performance.now();
    if (now - this.#lastWorking < 100 || this.#left === 0) return;
    this.#lastWorking = now;
    this.msg.working();
  }
}

/** A JetStream message of one log line, telling `onAcked` when it is acked. */
export class SingleMessage implements Deliverable {
  #acked = false;

  constructor(readonly msg: JsMsg, readonly onAcked: () => void) {}

  get data(): Uint8Array {
    return this.msg.data;
  }

  get subject(): string {
    return this.msg.subject;
  }

  get seq(): number {
    return this.msg.seq;
  }

  get info(): { readonly stream: string; readonly timestampNanos: number } {
    return this.msg.info;
  }

  ack(): void {
    this.msg.ack();
    if (this.#acked) return;
    this.#acked = true;
    this.onAcked();
  }

  working(): void {
    this.msg.working();
  }
}

/** One log message of a chunk. */
export class ChunkLine implements Deliverable {
  constructor(readonly chunk: ChunkTracker, readonly data: Uint8Array, readonly index: number) {}

  get subject(): string {
    return this.chunk.msg.subject;
  }

  get seq(): number {
    return this.chunk.msg.seq;
  }

  get info(): { readonly stream: string; readonly timestampNanos: number } {
    return this.chunk.info;
  }

  ack(): void {
    this.chunk.lineDone();
  }

  working(): void {
    this.chunk.working();
  }
}

/** The lines of a chunk, and the bytes in it that were no frame. */
export interface OpenedChunk {
  lines: ChunkLine[];
  skippedBytes: number;
}

/**
 * Splits a chunk into lines tracked by one {@link ChunkTracker}. The caller
 * decides what to do with a chunk without lines and with damaged bytes
 * (`skippedBytes`).
 */
export function openChunk(m: JsMsg, onAcked?: () => void): OpenedChunk {
  const { messages, skippedBytes } = splitChunk(m.data);
  const tracker = new ChunkTracker(m, messages.length, onAcked);
  const lines = new Array<ChunkLine>(messages.length);
  for (let i = 0; i < messages.length; i++) lines[i] = new ChunkLine(tracker, messages[i], i);
  return { lines, skippedBytes };
}

/**
 * The ack window (`max_ack_pending`) counts JetStream messages; the default
 * (`SUB_BATCH_SIZE` × (`SUB_POSTERS` + 2)) is sized in lines. For a stream
 * of chunks of `linesPerChunk` lines, the window that holds about as many
 * lines: at least 16 chunks.
 */
export function chunkAckWindow(defaultWindow: number, linesPerChunk: number): number {
  return Math.max(16, Math.ceil(defaultWindow / Math.max(1, linesPerChunk)));
}
