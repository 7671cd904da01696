/**
 * The subscriber's settlement: what becomes of the messages it received.
 * A message is acked only after the batch holding it got a 2xx, or after
 * it was stored on the dead-letter subject (dead_letter.ts):
 *
 * - a batch the store took (2xx) → every message acked; items it refused
 *   one by one (ES bulk) are dead-lettered first, and the poster reports
 *   the batch delivered once every item is settled;
 * - a batch the store keeps rejecting → dead letters, then acks;
 * - a message that is not Heka → a dead letter alone, then its ack;
 * - aborted at shutdown → left unacked (JetStream redelivers it).
 *
 * Until then the messages are held: while a batch waits (filling, queued,
 * posting, backing off) their ack deadlines are extended with in-progress
 * acks (keep-alive), so a slow remote does not cause redeliveries.
 *
 * @module
 */
import { errorMessage, type Logger } from "../log/mod.ts";
import type { Batch, FlushReason } from "./batcher.ts";
import { ChunkLine, type Deliverable } from "./chunk_intake.ts";
import { type DeadLetter, type DeadLetterPublisher, UNDECODABLE } from "./dead_letter.ts";
import type { BatchPoster, PostOutcome, RefusedItems } from "./poster.ts";
import type { SubscriberCounters } from "./subscriber_metrics.ts";

/** The batch being filled, as the keep-alive sees it (the intake's batcher). */
export interface OpenBatchView {
  /** Its items (empty when none). */
  readonly openItems: readonly Deliverable[];
  /** `performance.now()` when its first item arrived; undefined when none. */
  readonly openSince: number | undefined;
}

/** Options of a {@link Settlement}. */
export interface SettlementOptions {
  poster: BatchPoster;
  /** Whether the store answers item by item (SUB_FORMAT's response reader). */
  itemized: boolean;
  /** The consumer's ack wait: held messages are kept alive every third of it. */
  ackWaitMs: number;
  counters: Pick<SubscriberCounters, "delivered" | "batches" | "deadLettered" | "itemsRefused">;
  log: Logger;
  /** Takes back a batch's body once its post is over (the intake reuses the buffer). */
  recycle?: (body: Uint8Array) => void;
}

/** Messages handed to the poster or the dead-letter publisher, not yet acked. */
interface Held {
  id: number;
  msgs: Deliverable[];
  /** `performance.now()` when their ack deadlines were last extended (or the first arrived). */
  touchedAt: number;
}

function toDeadLetter(m: Deliverable): DeadLetter {
  const index = m instanceof ChunkLine ? m.index : undefined;
  return { data: m.data, subject: m.subject, stream: m.info.stream, seq: m.seq, index };
}

/** Held batches, acks, keep-alive and dead letters; see the module documentation. */
export class Settlement {
  readonly #o: SettlementOptions;
  readonly #poster: BatchPoster;
  readonly #log: Logger;
  readonly #held = new Set<Held>();
  readonly #idleWaiters: (() => void)[] = [];
  readonly #deadAbort = new AbortController();
  #dead: DeadLetterPublisher | undefined;
  #batchSeq = 0;
  /** `firstAt` of the open batch the keep-alive last saw, and when it extended it. */
  #openSince: number | undefined;
  #openTouchedAt = 0;
  #newestDeliveredNs = 0;
  #keepAliveTimer: ReturnType<typeof setInterval> | undefined;

  constructor(o: SettlementOptions) {
    this.#o = o;
    this.#poster = o.poster;
    this.#log = o.log;
  }

  /** Where dead letters go (set once connected, before the first message). */
  useDeadLetters(dead: DeadLetterPublisher): void {
    this.#dead = dead;
  }

  /** Whether any batch (or dead letter) handed on is still being posted or stored. */
  get busy(): boolean {
    return this.#held.size > 0;
  }

  /** Messages handed on (posting or dead-lettering) and not yet acked. */
  get heldMessages(): number {
    let n = 0;
    for (const h of this.#held) n += h.msgs.length;
    return n;
  }

  /** Stream sequence of the oldest message held, or in the `open` batch; Infinity when none. */
  oldestSeq(open: OpenBatchView): number {
    let oldest = Infinity;
    for (const h of this.#held) for (const m of h.msgs) oldest = Math.min(oldest, m.seq);
    for (const m of open.openItems) oldest = Math.min(oldest, m.seq);
    return oldest;
  }

  /** Stored time (ns since the epoch) of the newest message delivered; 0 before the first. */
  get newestDeliveredNs(): number {
    return this.#newestDeliveredNs;
  }

  /** Posts a full batch from the intake and settles it when the poster is done. */
  post(b: Batch<Deliverable>, reason: FlushReason): void {
    const held: Held = { id: ++this.#batchSeq, msgs: b.items, touchedAt: b.firstAt };
    if (this.#openSince === b.firstAt) held.touchedAt = this.#openTouchedAt;
    this.#held.add(held);
    const body = b.body;
    if (this.#log.enabled("debug")) {
      this.#log.debug("batch ready", {
        batch: held.id,
        messages: b.items.length,
        bytes: body.length,
        reason,
      });
    }
    const items = this.#o.itemized
      ? {
        count: b.items.length,
        onRefused: (r: RefusedItems) => this.#deadLetterItems(held, r),
      }
      : undefined;
    this.#poster.submit(body, `${held.id} (${b.items.length} messages)`, items)
      .then((outcome) => {
        // An aborted post may still be in fetch's hands: only a finished one gives its body back.
        if (outcome.kind !== "aborted") this.#o.recycle?.(body);
        return this.#settle(held, outcome);
      })
      .catch((err) => {
        this.#log.error("settling a batch failed", { batch: held.id, error: errorMessage(err) });
        this.#release(held);
      });
  }

  /** Stores a message that is not Heka as a dead letter alone, then acks it. */
  deadLetterUndecodable(m: Deliverable, reason: string): void {
    const held: Held = { id: ++this.#batchSeq, msgs: [m], touchedAt: performance.now() };
    this.#held.add(held);
    this.#log.warn("message is not Heka protobuf; storing it as a dead letter", {
      seq: m.seq,
      error: reason,
    });
    this.#dead!.publish(
      [toDeadLetter(m)],
      { status: UNDECODABLE, reason, attempts: 0 },
      this.#deadAbort.signal,
    )
      .then((stored) => {
        if (stored) {
          m.ack();
          this.#o.counters.deadLettered.value++;
        }
      })
      .catch((err) => this.#log.error("dead letter failed", { error: errorMessage(err) }))
      .finally(() => this.#release(held));
  }

  /** Resolves once nothing is held (every batch settled or aborted). */
  whenIdle(): Promise<void> {
    if (this.#held.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Gives up on what is held (shutdown timeout): posts and dead letters stop, nothing more is acked. */
  abort(reason: string): void {
    this.#poster.abort(reason);
    this.#deadAbort.abort();
  }

  /**
   * Extends the ack deadlines of held messages, and of the `open` batch's,
   * every third of the ack wait, until {@link stopKeepAlive}.
   */
  startKeepAlive(open: OpenBatchView): void {
    const every = Math.max(100, Math.min(5000, this.#o.ackWaitMs / 4));
    this.#keepAliveTimer = setInterval(() => this.#keepAlive(open), every);
  }

  /** Stops the keep-alive (once nothing is held any more, or given up). */
  stopKeepAlive(): void {
    clearInterval(this.#keepAliveTimer);
    this.#keepAliveTimer = undefined;
  }

  async #settle(held: Held, outcome: PostOutcome): Promise<void> {
    const msgs = held.msgs;
    const counters = this.#o.counters;
    switch (outcome.kind) {
      case "delivered": {
        for (let i = 0; i < msgs.length; i++) msgs[i].ack();
        const ts = msgs[msgs.length - 1].info.timestampNanos;
        if (ts > this.#newestDeliveredNs) this.#newestDeliveredNs = ts;
        counters.delivered.value += msgs.length - (outcome.refused ?? 0);
        counters.batches.value++;
        break;
      }
      case "rejected": {
        const stored = await this.#dead!.publish(msgs.map(toDeadLetter), {
          status: String(outcome.status),
          reason: outcome.reason,
          attempts: outcome.attempts,
        }, this.#deadAbort.signal);
        if (stored) {
          for (const m of msgs) m.ack();
          counters.deadLettered.value += msgs.length;
          this.#log.warn("batch stored on the dead-letter subject", {
            batch: held.id,
            messages: msgs.length,
            subject: this.#dead!.subject,
            status: outcome.status,
          });
        }
        break;
      }
      case "aborted":
        break;
    }
    this.#release(held);
  }

  /** Stores items a store refused one by one; their batch is acked when all are settled. */
  async #deadLetterItems(held: Held, r: RefusedItems): Promise<boolean> {
    const msgs = r.indexes.map((i) => held.msgs[i]);
    const stored = await this.#dead!.publish(msgs.map(toDeadLetter), {
      status: String(r.status),
      reason: r.reason,
      attempts: r.attempts,
    }, this.#deadAbort.signal);
    if (stored) {
      this.#o.counters.deadLettered.value += msgs.length;
      this.#o.counters.itemsRefused.value += msgs.length;
      this.#log.warn("refused items stored on the dead-letter subject", {
        batch: held.id,
        messages: msgs.length,
        subject: this.#dead!.subject,
        status: r.status,
      });
    }
    return stored;
  }

  #release(held: Held): void {
    this.#held.delete(held);
    if (this.#held.size === 0 && this.#idleWaiters.length > 0) {
      for (const r of this.#idleWaiters.splice(0)) r();
    }
  }

  /** Extends the ack deadline of messages held for a third of the ack wait. */
  #keepAlive(open: OpenBatchView): void {
    const now = performance.now();
    const limit = this.#o.ackWaitMs / 3;
    let touched = 0;
    for (const h of this.#held) {
      if (now - h.touchedAt < limit) continue;
      for (const m of h.msgs) m.working();
      h.touchedAt = now;
      touched += h.msgs.length;
    }
    const since = open.openSince;
    if (since !== undefined) {
      if (since !== this.#openSince) {
        this.#openSince = since;
        this.#openTouchedAt = since;
      }
      if (now - this.#openTouchedAt >= limit) {
        const items = open.openItems;
        for (const m of items) m.working();
        this.#openTouchedAt = now;
        touched += items.length;
      }
    }
    if (touched > 0) this.#log.debug("extended ack deadlines", { messages: touched });
  }
}
