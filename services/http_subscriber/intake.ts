/**
 * The subscriber's intake: a JetStream delivery → its Heka message(s) →
 * one record each in the output format (formats/) → the {@link Batcher},
 * which hands full batches on to settlement.
 *
 * A delivery holds one Heka message, or a chunk of many (chunk_intake.ts):
 * a chunk's lines are batched one by one. A message or line that is not
 * Heka is handed back alone ({@link IntakeHooks.undecodable}) to become a
 * dead letter; the rest goes on.
 *
 * This is the per-line hot path: nothing here allocates per line beyond
 * what the encoder and the batcher need.
 *
 * @module
 */
import type { JsMsg } from "nats";
import { errorMessage, type Logger } from "../log/mod.ts";
import type { Counter } from "../metrics/mod.ts";
import { type AckDelivery, readDelivery } from "./ack_subject.ts";
import { type Batch, Batcher, type FlushReason, LineOverrun, type LineWriter } from "./batcher.ts";
import { type Deliverable, holdsChunk, openChunk, SingleMessage } from "./chunk_intake.ts";
import { type InPlaceRecordEncoder, type RecordEncoder, writesInPlace } from "./formats/mod.ts";
import type { SubscriberCounters } from "./subscriber_metrics.ts";

/** An encoder's error, told apart from the batcher's. */
class EncodeFailure {
  constructor(readonly cause: unknown) {}
}

/** What intake hands on besides full batches. */
export interface IntakeHooks {
  /** A full batch (or the open one, flushed). */
  batch(b: Batch<Deliverable>, reason: FlushReason): void;
  /** A message or a chunk's line that is not Heka: to be dead-lettered alone. */
  undecodable(m: Deliverable, reason: string): void;
  /**
   * A JetStream message of `lines` lines arrived: 1 for a single message,
   * a chunk's count (the consumer's ack window follows their size).
   */
  delivered(lines: number): void;
  /** The consumer's ack window now (`max_ack_pending`, in JetStream messages). */
  ackWindow(): number;
  /** Whether batches handed on are still being posted (their acks will open the window). */
  posting(): boolean;
}

/** Options of an {@link Intake}. */
export interface IntakeOptions {
  /** Writes a Heka message as one record of the output format. */
  encoder: RecordEncoder;
  /** SUB_BATCH_SIZE, SUB_BATCH_BYTES, SUB_BATCH_TIMEOUT. */
  maxItems: number;
  maxBytes: number;
  maxWaitMs: number;
  counters: Pick<SubscriberCounters, "received" | "redelivered" | "undecodable">;
  hooks: IntakeHooks;
  log: Logger;
}

/** Deliveries → records → batches; see the module documentation. */
export class Intake {
  readonly #encoder: RecordEncoder;
  /** The encoder, when it writes records straight into the batch body. */
  readonly #inPlace: InPlaceRecordEncoder | undefined;
  readonly #writer: LineWriter<Uint8Array> | undefined;
  readonly #batcher: Batcher<Deliverable>;
  readonly #hooks: IntakeHooks;
  readonly #log: Logger;
  readonly #received: Counter;
  readonly #redelivered: Counter;
  readonly #undecodable: Counter;
  /** Scratch for the delivery count and stream sequence of each delivery. */
  readonly #delivery: AckDelivery = { count: 0, seq: 0 };
  /** JetStream messages received and not acked yet (the server sends no more than its window). */
  #unacked = 0;
  readonly #acked = () => {
    this.#unacked--;
  };
  #lastSeq = 0;
  #refusing = false;

  constructor(o: IntakeOptions) {
    this.#encoder = o.encoder;
    const e = o.encoder;
    if (writesInPlace(e)) {
      this.#inPlace = e;
      this.#writer = {
        write(src, out, view, at) {
          try {
            return e.encodeInto(src, out, view, at);
          } catch (err) {
            throw new EncodeFailure(err);
          }
        },
      };
    }
    this.#hooks = o.hooks;
    this.#log = o.log;
    this.#received = o.counters.received;
    this.#redelivered = o.counters.redelivered;
    this.#undecodable = o.counters.undecodable;
    const hooks = o.hooks;
    this.#batcher = new Batcher<Deliverable>({
      maxItems: o.maxItems,
      maxBytes: o.maxBytes,
      maxWaitMs: o.maxWaitMs,
      onBatch: (b, reason) => hooks.batch(b, reason),
    });
  }

  /** Newest stream sequence received; 0 before the first. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Items of the batch being filled (empty when none). */
  get openItems(): readonly Deliverable[] {
    return this.#batcher.openItems;
  }

  /** `performance.now()` when the open batch's first item arrived; undefined when none. */
  get openSince(): number | undefined {
    return this.#batcher.openSince;
  }

  /** Takes one JetStream delivery (the consume callback). */
  onMessage(m: JsMsg): void {
    if (this.#refusing) {
      // Stopped pulling already: hand it back for another subscriber now.
      m.nak();
      return;
    }
    this.#received.value++;
    const d = this.#delivery;
    readDelivery(m, d);
    if (d.seq > this.#lastSeq) this.#lastSeq = d.seq;
    if (d.count > 1) this.#redelivered.value++;
    this.#unacked++;
    if (holdsChunk(m)) this.#onChunk(m);
    else {
      this.#hooks.delivered(1);
      this.#add(new SingleMessage(m, this.#acked), m.data);
    }
    // The open batch holds the whole window: the server sends nothing more
    // until something is acked, and waiting out SUB_BATCH_TIMEOUT for more
    // lines would only delay these. (While batches are being posted, their
    // acks open the window: the open batch fills as usual.)
    if (this.#unacked >= this.#hooks.ackWindow() && !this.#hooks.posting()) {
      this.#batcher.flush("window");
    }
  }

  /** Encodes a message into the open batch; an undecodable one becomes a dead letter. */
  #add(item: Deliverable, data: Uint8Array): void {
    const e = this.#inPlace;
    if (e !== undefined) {
      try {
        this.#batcher.addWritten(item, data, e.maxRecordBytes(data.length), this.#writer!);
      } catch (err) {
        // A record past its encoder's bound is not sent either: a dead letter saying so.
        if (err instanceof LineOverrun) this.#undecodableMessage(item, err.message);
        else if (err instanceof EncodeFailure) {
          this.#undecodableMessage(item, errorMessage(err.cause));
        } else throw err;
      }
      return;
    }
    let line: Uint8Array;
    try {
      line = this.#encoder.encode(data);
    } catch (err) {
      this.#undecodableMessage(item, errorMessage(err));
      return;
    }
    this.#batcher.addBytes(item, line);
  }

  /** Gives back a posted batch's body for a later batch (see {@link Batcher.recycle}). */
  recycle(body: Uint8Array): void {
    this.#batcher.recycle(body);
  }

  /** From now on hands every delivery back (nak): the subscriber is stopping. */
  refuse(): void {
    this.#refusing = true;
  }

  /** Hands over the open batch and takes no more. */
  close(): void {
    this.#refusing = true;
    this.#batcher.close();
  }

  /** Batches every line of a chunk; undecodable ones become dead letters alone. */
  #onChunk(m: JsMsg): void {
    const { lines, skippedBytes } = openChunk(m, this.#acked);
    if (skippedBytes > 0) {
      this.#undecodable.value++;
      this.#log.warn("chunk holds bytes that are no Heka frame; skipped", {
        seq: m.seq,
        bytes: skippedBytes,
      });
    }
    if (lines.length === 0) {
      const whole = new SingleMessage(m, this.#acked);
      if (skippedBytes > 0) this.#undecodableMessage(whole, "chunk holds no Heka frame");
      else whole.ack();
      return;
    }
    this.#received.value += lines.length - 1;
    this.#hooks.delivered(lines.length);
    for (const l of lines) this.#add(l, l.data);
  }

  #undecodableMessage(m: Deliverable, reason: string): void {
    this.#undecodable.value++;
    this.#hooks.undecodable(m, reason);
  }
}
