/**
 * The subscriber's consumer over time: opening it (retrying while
 * JetStream is not available), consuming, recovering a consumer that
 * disappeared, and the watchdog that re-opens a stalled consume. What the
 * consumer is (durable, group, ephemeral; its config) is consumer.ts.
 *
 * Every delivery goes to {@link MessageHandler.onMessage}; the lifecycle
 * reads what this process still holds through {@link HeldMessages} to
 * recover without gaps and to tell a stall from a busy subscriber.
 *
 * @module
 */
import type { ConsumerInfo, ConsumerMessages, ConsumerStatus, JsMsg, NatsConnection } from "nats";
import { ensureStream } from "../broker/mod.ts";
import { errorMessage, type Logger } from "../log/mod.ts";
import type { Counter } from "../metrics/mod.ts";
import { backoff, sleep } from "../runtime/async.ts";
import { chunkAckWindow } from "./chunk_intake.ts";
import type { SubscriberSettings } from "./settings.ts";
import {
  ConsumerMismatchError,
  deleteConsumer,
  openConsumer,
  type OpenedConsumer,
  type StartPolicy,
} from "./consumer.ts";
import type { SubscriberCounters } from "./subscriber_metrics.ts";

/** Messages asked for per pull request. */
export const PULL_BATCH = 1000;

/** Weight of the newest message in the moving average of lines per message. */
const WINDOW_SMOOTHING = 0.2;
/** The ack window changes at most this often (ms). */
const WINDOW_UPDATE_MS = 1000;

/** How often the consumer's pending count is read (and the watchdog looks). */
export const PENDING_POLL_MS = 5000;

/**
 * Lifetime of one pull request. nats.js sends idle heartbeats every half of
 * it and, when it cannot check the consumer after a reconnect, waits this
 * long before trying again — with its 30 s default a subscriber could sit
 * idle for a minute after a broker crash.
 */
export const PULL_EXPIRES_MS = 5000;

/**
 * The watchdog re-opens the consume when the consumer has messages for us
 * and none arrived over this many pending polls in a row (10 s: four
 * heartbeat intervals) while connected.
 */
export const STALL_POLLS = 2;

/** Takes every delivery of the consume. */
export interface MessageHandler {
  onMessage(m: JsMsg): void;
}

/** What the lifecycle reads of the messages this process received and has not acked. */
export interface HeldMessages {
  /** How many. */
  count(): number;
  /** Stream sequence of the oldest; Infinity when none. */
  oldestSeq(): number;
  /** Newest stream sequence received so far; 0 before the first. */
  lastSeq(): number;
}

/** Options of a {@link ConsumerLifecycle}. */
export interface ConsumerLifecycleOptions {
  settings: SubscriberSettings;
  handler: MessageHandler;
  held: HeldMessages;
  counters: Pick<SubscriberCounters, "received" | "stalls">;
  log: Logger;
}

/** Open, consume, recover, watchdog; see the module documentation. */
export class ConsumerLifecycle {
  readonly #s: SubscriberSettings;
  readonly #handler: MessageHandler;
  readonly #held: HeldMessages;
  readonly #received: Counter;
  readonly #stalls: Counter;
  readonly #log: Logger;
  #nc: NatsConnection | undefined;
  #opened: OpenedConsumer | undefined;
  #messages: ConsumerMessages | undefined;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #pending = 0;
  #pendingPolling = false;
  /** The consumer's ack window now (JetStream messages): the settings' until fitted. */
  #ackWindow: number;
  /** Lines per JetStream message lately (a moving average; 0 before the first). */
  #linesPerMessage = 0;
  #windowUpdating = false;
  #windowUpdatedAt = -Infinity;
  #consuming = false;
  /** Watchdog: `received` at its last look, and how many looks it has not moved. */
  #watchReceived = 0;
  #stuckPolls = 0;
  #connected = false;
  #stopping = false;
  #recovering = false;

  constructor(o: ConsumerLifecycleOptions) {
    this.#s = o.settings;
    this.#ackWindow = o.settings.consumer.maxAckPending;
    this.#handler = o.handler;
    this.#held = o.held;
    this.#received = o.counters.received;
    this.#stalls = o.counters.stalls;
    this.#log = o.log;
  }

  /** The consumer's name once opened. */
  get consumerName(): string | undefined {
    return this.#opened?.info.name;
  }

  /** The consumer's `max_ack_pending` as this process last set or fitted it. */
  get ackWindow(): number {
    return this.#ackWindow;
  }

  /** Messages in the stream not yet delivered to the consumer (at the last poll). */
  get pending(): number {
    return this.#pending;
  }

  /** Whether the connection to the broker is up. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Whether deliveries are being pulled. */
  get consuming(): boolean {
    return this.#consuming;
  }

  /** Whether {@link close} was called. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Uses `nc` (connected) from now on, and follows its disconnects and reconnects. */
  attach(nc: NatsConnection): void {
    this.#nc = nc;
    this.#connected = true;
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") this.#connected = false;
        else if (s.type === "reconnect") this.#connected = true;
      }
    })().catch(() => {});
  }

  /**
   * Makes sure the stream and the consumer exist (retrying while JetStream
   * is not available) and starts consuming, unless closed meanwhile. Throws
   * {@link ConsumerMismatchError} when the named consumer cannot be used.
   */
  async open(): Promise<void> {
    await this.#openWithRetry(this.#s.consumer.start);
    if (this.#stopping) return;
    await this.#consume();
  }

  /** Polls the consumer's pending count every {@link PENDING_POLL_MS}, feeding the watchdog. */
  startPolling(): void {
    this.#pollTimer = setInterval(() => this.#pollPending(), PENDING_POLL_MS);
    this.#pollPending();
  }

  /** Stops the polls. */
  stopPolling(): void {
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  /**
   * Takes the line count of each JetStream message delivered (1 for a
   * single message, `Lm-Count` for a chunk). When SUB_MAX_ACK_PENDING was
   * left at its default (sized in lines), keeps the consumer's ack window
   * at about as many lines as messages of the recent size hold: a stream
   * of big chunks would else make it hold tens of times more lines in
   * memory, and a window fitted to big chunks would starve the batches
   * when small ones follow (each batch then waits out SUB_BATCH_TIMEOUT for
   * lines the server may not send). The window follows a moving average,
   * when it is off by 2× or more, at most once a second.
   */
  observeLines(lines: number): void {
    if (this.#s.config.maxAckPending !== undefined) return; // the operator's window stays
    const avg = this.#linesPerMessage;
    this.#linesPerMessage = avg === 0 ? lines : avg + WINDOW_SMOOTHING * (lines - avg);
    const byDefault = this.#s.consumer.maxAckPending;
    const want = Math.min(byDefault, chunkAckWindow(byDefault, this.#linesPerMessage));
    if (want < 2 * this.#ackWindow && 2 * want > this.#ackWindow) return; // the usual case
    const now = performance.now();
    if (this.#windowUpdating || now - this.#windowUpdatedAt < WINDOW_UPDATE_MS) return;
    const opened = this.#opened;
    const nc = this.#nc;
    if (opened === undefined || !nc) return;
    this.#windowUpdating = true;
    this.#windowUpdatedAt = now;
    const stream = this.#s.consumer.stream;
    nc.jetstreamManager({ checkAPI: false })
      .then((jsm) => jsm.consumers.update(stream, opened.info.name, { max_ack_pending: want }))
      .then(() => {
        // (A consumer re-created meanwhile starts from the settings' window again.)
        if (this.#opened !== opened) return;
        this.#log.info("ack window fitted to the messages' size", {
          max_ack_pending: want,
          lines_per_message: Math.round(this.#linesPerMessage * 10) / 10,
        });
        this.#ackWindow = want;
      })
      .catch((err) => this.#log.warn("could not fit the ack window", { error: errorMessage(err) }))
      .finally(() => this.#windowUpdating = false);
  }

  /** Stops pulling: no recovery, no watchdog from now on. */
  async close(): Promise<void> {
    this.#stopping = true;
    try {
      await this.#messages?.close();
    } catch (err) {
      this.#log.debug("closing the pull subscription failed", { error: errorMessage(err) });
    }
    this.#consuming = false;
  }

  /**
   * Deletes the consumer when this process owns it: an ephemeral one, or a
   * durable with SUB_UNSUBSCRIBE. After {@link close}, before the
   * connection closes.
   */
  async deleteIfOwned(): Promise<void> {
    const nc = this.#nc;
    const name = this.consumerName;
    if (nc === undefined || name === undefined) return;
    const plan = this.#s.consumer;
    if (plan.name !== undefined && !this.#s.config.unsubscribe) return;
    if (plan.shared) await sleep(200); // let the server notice our pulls are gone
    await deleteConsumer(nc, plan.stream, name, plan.shared, this.#log);
  }

  /**
   * Makes sure the stream covers the subject and the dead-letter subject,
   * then opens the consumer; retries while JetStream is not available.
   */
  async #openWithRetry(start: StartPolicy): Promise<void> {
    const nc = this.#nc!;
    const plan = this.#s.consumer;
    const log = this.#log;
    for (let attempt = 1; !this.#stopping; attempt++) {
      try {
        // Dead letters go to the stream that already takes their subject, else to ours.
        const jsm = await nc.jetstreamManager({ checkAPI: false });
        const dead = this.#s.deadLetterSubject;
        const owner = await jsm.streams.find(dead).catch(() => undefined);
        const subjects = owner === undefined ? [plan.filterSubject, dead] : [plan.filterSubject];
        if (owner !== undefined && owner !== plan.stream) {
          log.info("dead letters go to another stream", { stream: owner, subject: dead });
        }
        await ensureStream(nc, { name: plan.stream, subjects }, log);
        this.#opened = await openConsumer(nc, plan, log, start);
        return;
      } catch (err) {
        if (err instanceof ConsumerMismatchError) throw err;
        const wait = backoff(attempt, 250, 5000);
        log.warn("JetStream not ready; retrying", {
          stream: plan.stream,
          error: errorMessage(err),
          retry_in_ms: wait,
        });
        await sleep(wait);
      }
    }
  }

  async #consume(): Promise<void> {
    const handler = this.#handler;
    const messages = await this.#opened!.consumer.consume({
      max_messages: PULL_BATCH,
      expires: PULL_EXPIRES_MS,
      callback: (m) => handler.onMessage(m),
    });
    this.#messages = messages;
    this.#consuming = true;
    (async () => {
      for await (const s of await messages.status()) this.#onConsumerStatus(s);
    })().catch(() => {});
  }

  #onConsumerStatus(s: ConsumerStatus): void {
    switch (s.type) {
      case "heartbeats_missed":
        this.#log.warn("consumer heartbeats missed", { count: String(s.data) });
        break;
      case "consumer_not_found":
      case "consumer_deleted":
      case "stream_not_found":
        this.#log.warn("consumer lost", { event: s.type, data: String(s.data) });
        this.#recover();
        break;
      case "no_responders":
        this.#log.warn("JetStream not answering", { data: String(s.data) });
        break;
      default:
        break;
    }
  }

  /**
   * Re-creates a consumer that disappeared (deleted, or an ephemeral lost in
   * a server restart) where this process left off: at the oldest message
   * still held, else after the newest one seen — duplicates rather than
   * gaps.
   */
  #recover(reset?: { ackFloor: number }): void {
    if (this.#recovering || this.#stopping) return;
    this.#recovering = true;
    (async () => {
      try {
        await this.#messages?.close().catch(() => {});
        this.#consuming = false;
        const name = this.#opened?.info.name;
        if (reset && name) {
          await deleteConsumer(this.#nc!, this.#s.consumer.stream, name, false, this.#log);
        }
        const oldest = Math.min(reset ? reset.ackFloor + 1 : Infinity, this.#held.oldestSeq());
        const lastSeq = this.#held.lastSeq();
        const start: StartPolicy = oldest !== Infinity
          ? { kind: "seq", seq: oldest }
          : lastSeq > 0
          ? { kind: "seq", seq: lastSeq + 1 }
          : this.#s.consumer.start;
        await this.#openWithRetry(start);
        if (this.#stopping) return;
        this.#ackWindow = this.#s.consumer.maxAckPending;
        await this.#consume();
        this.#log.info("consuming again", { consumer: this.consumerName });
        this.#recovering = false;
      } catch (err) {
        // Never give up while running: a consumer that is not consuming is a stall.
        this.#log.error("could not re-create the consumer; retrying", {
          error: errorMessage(err),
          retry_in_ms: 1000,
        });
        await sleep(1000);
        this.#recovering = false;
        this.#recover();
      }
    })();
  }

  /**
   * The watchdog, fed by every pending poll. While connected and nothing
   * arrived over {@link STALL_POLLS} polls: if the server counts deliveries
   * as unacknowledged while we hold none, re-create the consumer after its
   * ack floor (not for a shared group consumer, whose other members may
   * hold them); else, if it has messages it could deliver (pending, and
   * room under max_ack_pending), re-open the consume.
   */
  #watch(info: ConsumerInfo): void {
    const { num_pending: pending, num_ack_pending: ackPending } = info;
    const received = this.#received.value;
    const held = this.#held.count();
    // Deliveries the server counts as out that we do not hold: lost on the
    // way, or acked but the ack lost (a broker crash restores consumer
    // state from before them). The server waits the whole ack wait for them.
    const unheld = ackPending > 0 && held === 0;
    if (received !== this.#watchReceived || (pending === 0 && !unheld) || !this.#consuming) {
      this.#watchReceived = received;
      this.#stuckPolls = 0;
      return;
    }
    if (!this.#connected || this.#recovering || this.#stopping) return;
    const canReset = unheld && !this.#s.consumer.shared;
    // Every delivery we could take is out, and we hold them: busy, not stalled.
    if (!canReset && (pending === 0 || ackPending >= this.#ackWindow)) return;
    if (++this.#stuckPolls < STALL_POLLS) return;
    this.#stuckPolls = 0;
    this.#stalls.value++;
    const fields = {
      pending,
      ack_pending: ackPending,
      held,
      idle_s: STALL_POLLS * PENDING_POLL_MS / 1000,
    };
    if (canReset) {
      // We hold nothing: restart the consumer after its ack floor, so the
      // server hands those messages out again now. Duplicates, never gaps.
      this.#log.warn(
        "consumer stalled: the server waits for acks of deliveries we do not hold; " +
          "re-creating it after its ack floor",
        { ...fields, ack_floor: info.ack_floor.stream_seq },
      );
      this.#recover({ ackFloor: info.ack_floor.stream_seq });
      return;
    }
    this.#log.warn("consumer stalled: messages pending but none received; re-opening", fields);
    this.#recover();
  }

  #pollPending(): void {
    const opened = this.#opened;
    if (!opened || this.#pendingPolling || !this.#connected || this.#stopping) return;
    this.#pendingPolling = true;
    opened.consumer.info(false)
      .then((info) => {
        this.#pending = info.num_pending;
        this.#watch(info);
      })
      .catch((err) => this.#log.debug("consumer info failed", { error: errorMessage(err) }))
      .finally(() => this.#pendingPolling = false);
  }
}
