/**
 * JetStreamPublisher: stores messages in a JetStream stream as fast as the
 * client allows, and never forgets one it was given.
 *
 * The fast pattern: core `publish` with a per-message reply subject under
 * one inbox prefix, one wildcard subscription counting the JetStream acks,
 * a bounded window of publishes in flight, and `Nats-Msg-Id` on each so a
 * resend is stored once. Publishes not acknowledged in time, answered with
 * an error, or sent on a connection that was lost are resent until
 * acknowledged; callers that cannot wait that long (HTTP) may give up on
 * theirs and tell their client to retry.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { createInbox, headers, type Msg, type NatsConnection } from "nats";
import type { Subscription } from "nats";
import { errorMessage, type Logger } from "../log/mod.ts";
import { withTimeout } from "../runtime/async.ts";
import { serverMaxPayload } from "./max_payload.ts";
import { type FramedPublish, framedPublisher } from "./framed_publish.ts";
import { PublishBatcher } from "./batched_publish.ts";

/**
 * How a waiting publish ended: stored, broker unavailable or too slow (the
 * client may retry), or refused for good by the server ("rejected": it will
 * never be stored; the reason is in {@link JetStreamPublisher.lastRejection}).
 */
export type PublishOutcome = "ok" | "unavailable" | "timeout" | "rejected";

/** More of a publish: headers besides `Nats-Msg-Id`, and who to tell when it is settled. */
export interface PublishExtras {
  /** Headers stored with the message. */
  headers?: readonly (readonly [string, string])[];
  /**
   * Called once: "ok" when JetStream acknowledged the message, "rejected"
   * when the server refused it for good. Not called when a waiting caller
   * gave it up (see {@link JetStreamPublisher.publish}).
   */
  onSettled?: (outcome: "ok" | "rejected") => void;
  /**
   * `data` lies in a buffer whose `FRAME_HEAD_ROOM` bytes before it and
   * `FRAME_TAIL_ROOM` after it (framed_publish.ts) are the publisher's to overwrite:
   * the protocol frame is written around the data and sent without a copy
   * (framed_publish.ts). For large messages (the receivers' chunks).
   */
  framed?: boolean;
}

/** Options of a {@link JetStreamPublisher}. */
export interface PublisherOptions {
  /** The subject messages are published to. */
  subject: string;
  /** Publishes in flight at most (default 1024). */
  window?: number;
  /** Resend a publish not acknowledged within this (default 5000 ms). */
  ackTimeoutMs?: number;
  log: Logger;
  /**
   * Called (at most every 2 s) when JetStream does not answer for the
   * subject — e.g. the stream was deleted or the server lost its store — so
   * the owner can re-create the stream.
   */
  onNoStream?: () => Promise<void>;
}

/** Counters of a publisher, for metrics. */
export interface PublisherStats {
  /** Messages handed to the publisher. */
  published: number;
  /** Messages acknowledged by JetStream (including duplicates). */
  acked: number;
  /** Acks that said the message was a duplicate (already stored). */
  duplicates: number;
  /** Publishes sent again (timeout, error ack, lost connection). */
  resent: number;
  /** Error answers from JetStream. */
  errorAcks: number;
  /** Waiting publishes given up by their caller. */
  cancelled: number;
  /** Publishes the server refused for good (e.g. larger than max_payload); never resent. */
  rejected: number;
}

/**
 * Bytes the headers of one publish take on the wire:
 * `NATS/1.0\r\nNats-Msg-Id: <id>\r\n\r\n`. The server's `max_payload`
 * counts headers and data together.
 */
export function publishHeaderBytes(msgIdLength: number): number {
  return "NATS/1.0\r\n".length + "Nats-Msg-Id: ".length + msgIdLength + 4;
}

/** Between a publish's token and its attempt in a batched publish's reply subject. */
const ATTEMPT_MARK = "-";

const encoder = new TextEncoder();
/** What a header name must not hold (nats.js refuses the same). */
const BAD_NAME = /[^!-9;-~]/;
/** A subject the batched path can write as it is. */
const ASCII_SUBJECT = /^[!-~]+$/;
/** Header values are printable ASCII (ours all are: ids, formats, counts): one byte a character. */
const BAD_VALUE = /[^\t -~]/;

/**
 * The header block of a publish: `Nats-Msg-Id` and `extra`, as nats.js's
 * `MsgHdrs` encodes them. Throws TypeError on a name or value that would
 * break the protocol or is not printable ASCII.
 */
function headerBlock(msgId: string, extra: PublishExtras["headers"]): string {
  let head = "NATS/1.0\r\nNats-Msg-Id: " + msgId + "\r\n";
  if (BAD_VALUE.test(msgId)) throw new TypeError(`invalid message id ${JSON.stringify(msgId)}`);
  for (const [k, v] of extra ?? []) {
    if (k.length === 0 || BAD_NAME.test(k) || BAD_VALUE.test(v)) {
      throw new TypeError(`invalid header ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
    }
    head += k + ": " + v + "\r\n";
  }
  return head + "\r\n";
}

/** The message id length of a Heka message (its UUID, formatted). */
const UUID_ID_LENGTH = 36;

/** JetStream API error codes that no resend can fix (the message itself is refused). */
const PERMANENT_ERROR_CODES = new Set([
  10054, // message size exceeds maximum allowed (stream max_msg_size)
]);

interface InFlight {
  token: string;
  data: Uint8Array;
  msgId: string;
  extraHeaders: PublishExtras["headers"];
  /** The header block, `NATS/1.0\r\nNats-Msg-Id: …\r\n…\r\n`. */
  head: string;
  sentAt: number;
  attempts: number;
  /** When to resend after an error answer; 0 = on ack timeout only. */
  retryAt: number;
  /** When a waiting caller gives up (answered "timeout"); 0 = never. */
  giveUpAt: number;
  settle: ((o: PublishOutcome) => void) | undefined;
  onSettled: PublishExtras["onSettled"];
  /** Sent as one frame written around `data` (see {@link PublishExtras.framed}). */
  framed: boolean;
  /** The encoded headers of a framed publish, made on its first send. */
  hdrBytes: Uint8Array | undefined;
}

const ERROR_PREFIX = [0x7b, 0x22, 0x65]; // `{"e` of `{"error":…}`
const DUP_MARK = new TextEncoder().encode(`"duplicate"`);

function hasDuplicateMark(data: Uint8Array): boolean {
  outer: for (let i = data.length - DUP_MARK.length; i >= 0; i--) {
    for (let j = 0; j < DUP_MARK.length; j++) {
      if (data[i + j] !== DUP_MARK[j]) continue outer;
    }
    return true;
  }
  return false;
}

/** Publishes to JetStream with a bounded window of unacknowledged messages. */
export class JetStreamPublisher {
  readonly stats: PublisherStats = {
    published: 0,
    acked: 0,
    duplicates: 0,
    resent: 0,
    errorAcks: 0,
    cancelled: 0,
    rejected: 0,
  };
  /** Why the last publish was refused for good, and when (ms since epoch); undefined if never. */
  lastRejection: { reason: string; at: number } | undefined;
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #window: number;
  readonly #ackTimeout: number;
  readonly #log: Logger;
  readonly #onNoStream: (() => Promise<void>) | undefined;
  readonly #framedPublish: FramedPublish | undefined;
  readonly #batcher: PublishBatcher | undefined;
  readonly #prefix: string;
  readonly #inflight = new Map<string, InFlight>();
  #queued: InFlight[] = [];
  readonly #sub: Subscription;
  readonly #timer: ReturnType<typeof setInterval>;
  #seq = 0;
  #connected = true;
  #failing = false;
  /** Why {@link #failing}: what JetStream said, or that its acks are overdue. */
  #failReason = "";
  #lastNoStreamCall = 0;
  #capacity: PromiseWithResolvers<void> | undefined;
  #drained: PromiseWithResolvers<void> | undefined;
  #closed = false;

  constructor(nc: NatsConnection, o: PublisherOptions) {
    this.#nc = nc;
    this.#subject = o.subject;
    this.#window = o.window ?? 1024;
    this.#ackTimeout = o.ackTimeoutMs ?? 5000;
    this.#log = o.log;
    this.#onNoStream = o.onNoStream;
    this.#framedPublish = framedPublisher(nc);
    // The batcher writes the protocol line as ASCII; NATS subjects may be UTF-8.
    this.#batcher = ASCII_SUBJECT.test(o.subject) ? PublishBatcher.for(nc) : undefined;
    this.#prefix = createInbox() + ".";
    this.#sub = nc.subscribe(this.#prefix + "*", {
      callback: (err, msg) => {
        if (!err) this.#onAck(msg);
      },
    });
    this.#timer = setInterval(() => this.#sweep(), Math.min(250, this.#ackTimeout / 4));
    this.#watchStatus();
  }

  /**
   * The largest message (data bytes) the connected server stores with a
   * `msgIdLength`-character message id: its `max_payload` (from INFO, so
   * it follows reconnects to servers with other limits) minus our headers.
   */
  maxDataBytes(msgIdLength = UUID_ID_LENGTH): number {
    return serverMaxPayload(this.#nc) - publishHeaderBytes(msgIdLength);
  }

  /** Publishes in flight (sent, not yet acknowledged). */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Whether the window is full; callers should `await waitForCapacity()`. */
  get full(): boolean {
    return this.#inflight.size >= this.#window;
  }

  /**
   * Circuit breaker: false while disconnected from NATS or while JetStream
   * answers with errors or not at all. Nothing is dropped while false;
   * publishes wait and are resent.
   */
  get available(): boolean {
    return this.#connected && !this.#failing && !this.#closed;
  }

  /**
   * Why publishes are not being stored now (undefined while {@link available}):
   * e.g. `JetStream refuses publishes: maximum bytes exceeded`, for answers
   * and `/health`.
   */
  get trouble(): string | undefined {
    if (this.#closed) return "publisher closed";
    if (!this.#connected) return "not connected to NATS";
    if (this.#failing) return this.#failReason || "JetStream is not storing publishes";
    return undefined;
  }

  /**
   * Hands over a message for storing; it is resent until acknowledged. Does
   * not wait: callers check {@link full} and await {@link waitForCapacity}.
   * `data` must not be changed afterwards.
   */
  send(data: Uint8Array, msgId: string, extras?: PublishExtras): void {
    this.#transmit(this.#entry(data, msgId, undefined, extras));
  }

  /**
   * Publishes and waits for the JetStream ack. Answers "unavailable" at once
   * while the broker is down, and "timeout" when no ack came in time — in
   * both cases the message is given up (the caller's client retries; the
   * same `msgId` makes that safe).
   */
  async publish(
    data: Uint8Array,
    msgId: string,
    timeoutMs: number,
    extras?: PublishExtras,
  ): Promise<PublishOutcome> {
    if (!this.available) return "unavailable";
    const deadline = performance.now() + timeoutMs;
    while (this.full) {
      const left = deadline - performance.now();
      if (left <= 0 || !(await this.#waitOrTimeout(left))) return "timeout";
    }
    const { promise, resolve } = Promise.withResolvers<PublishOutcome>();
    const e = this.#entry(data, msgId, resolve, extras);
    e.giveUpAt = deadline;
    // Publishes of concurrent requests are sent together (one socket write
    // for many requests instead of one each); the sweep expires them.
    e.sentAt = performance.now();
    this.#queued.push(e);
    if (this.#queued.length === 1) setImmediate(this.#flushQueued);
    return promise;
  }

  /** Resolves when the window has room again. */
  waitForCapacity(): Promise<void> {
    if (!this.full) return Promise.resolve();
    this.#capacity ??= Promise.withResolvers<void>();
    return this.#capacity.promise;
  }

  /** Waits until every publish is acknowledged, or the timeout passes. Returns whether all were. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#inflight.size === 0) return true;
    this.#drained ??= Promise.withResolvers<void>();
    return await withTimeout(this.#drained.promise.then(() => true), timeoutMs, false);
  }

  /** Stops resending and unsubscribes; waiting publishes answer "unavailable". */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const e of this.#inflight.values()) e.settle?.("unavailable");
    this.#inflight.clear();
    try {
      this.#sub.unsubscribe();
    } catch {
      // connection already closed
    }
  }

  #entry(
    data: Uint8Array,
    msgId: string,
    settle: InFlight["settle"],
    extras?: PublishExtras,
  ): InFlight {
    const token = (this.#seq++).toString(36);
    const head = headerBlock(msgId, extras?.headers);
    const e: InFlight = {
      token,
      data,
      msgId,
      extraHeaders: extras?.headers,
      head,
      sentAt: 0,
      attempts: 0,
      retryAt: 0,
      giveUpAt: 0,
      settle,
      onSettled: extras?.onSettled,
      framed: extras?.framed === true && this.#framedPublish !== undefined,
      hdrBytes: undefined,
    };
    this.#inflight.set(token, e);
    this.stats.published++;
    return e;
  }

  readonly #flushQueued = (): void => {
    const queued = this.#queued;
    this.#queued = [];
    for (const e of queued) {
      // Settled meanwhile (disconnect, close): nothing to send.
      if (this.#inflight.get(e.token) === e) this.#transmit(e);
    }
  };

  #transmit(e: InFlight): void {
    e.sentAt = performance.now();
    e.retryAt = 0;
    e.attempts++;
    try {
      if (e.framed) {
        // The same token on every resend: rewriting the frame writes the same bytes.
        e.hdrBytes ??= encoder.encode(e.head);
        const reply = this.#prefix + e.token;
        if (this.#framedPublish!(this.#subject, reply, e.hdrBytes, e.data)) return;
      } else if (this.#batcher !== undefined) {
        // A reply of its own per attempt: a late answer to an earlier attempt
        // must not free the batch of this one (batched_publish.ts).
        const reply = `${this.#prefix}${e.token}${ATTEMPT_MARK}${e.attempts.toString(36)}`;
        this.#batcher.publish(this.#subject, reply, e.head, e.data);
        return;
      }
      const hdrs = headers();
      hdrs.set("Nats-Msg-Id", e.msgId);
      for (const [k, v] of e.extraHeaders ?? []) hdrs.set(k, v);
      this.#nc.publish(this.#subject, e.data, { reply: this.#prefix + e.token, headers: hdrs });
    } catch (err) {
      if ((err as { code?: string }).code === "MAX_PAYLOAD_EXCEEDED") {
        this.#reject(
          e,
          `message of ${e.data.length} bytes exceeds the server's max_payload ` +
            `(${this.#nc.info?.max_payload} bytes with headers)`,
        );
        return;
      }
      // Closed or draining connection: keep it, the sweep resends it.
      e.retryAt = e.sentAt + 1000;
      this.#log.debug("publish failed, will resend", { error: errorMessage(err) });
    }
  }

  #onAck(msg: Msg): void {
    this.#batcher?.answered(msg.subject);
    const id = msg.subject.slice(this.#prefix.length);
    const mark = id.indexOf(ATTEMPT_MARK);
    const e = this.#inflight.get(mark < 0 ? id : id.slice(0, mark));
    if (!e) return; // a late ack of a publish already settled
    const data = msg.data;
    if (msg.headers?.hasError || data.length === 0) {
      // 503 "no responders": no stream takes this subject (yet).
      this.#failed(e, "no JetStream stream answered", true);
      return;
    }
    if (data[0] === ERROR_PREFIX[0] && data[1] === ERROR_PREFIX[1] && data[2] === ERROR_PREFIX[2]) {
      let reason = "JetStream error";
      let code = 0;
      try {
        const error = JSON.parse(new TextDecoder().decode(data)).error;
        reason = error?.description ?? reason;
        code = Number(error?.err_code ?? 0);
      } catch {
        // keep the generic reason
      }
      if (PERMANENT_ERROR_CODES.has(code)) {
        this.#reject(e, `JetStream refused the message: ${reason}`);
        return;
      }
      this.#failed(e, reason, /stream not found|no stream/i.test(reason));
      return;
    }
    if (hasDuplicateMark(data)) this.stats.duplicates++;
    this.stats.acked++;
    this.#failing = false;
    this.#remove(e);
    e.onSettled?.("ok");
    e.settle?.("ok");
  }

  #failed(e: InFlight, reason: string, noStream: boolean): void {
    this.stats.errorAcks++;
    if (!this.#failing) this.#log.warn("JetStream refused a publish; resending", { reason });
    this.#failing = true;
    this.#failReason = `JetStream refuses publishes: ${reason}`;
    e.retryAt = performance.now() + Math.min(2000, 100 * 2 ** Math.min(e.attempts, 5));
    if (noStream && this.#onNoStream && performance.now() - this.#lastNoStreamCall > 2000) {
      this.#lastNoStreamCall = performance.now();
      this.#onNoStream().catch((err) =>
        this.#log.warn("could not re-create the stream", { error: errorMessage(err) })
      );
    }
  }

  /** The server will never take this message: count it, say so, stop resending. */
  #reject(e: InFlight, reason: string): void {
    this.#remove(e);
    this.stats.rejected++;
    this.lastRejection = { reason, at: Date.now() };
    this.#log.error("publish refused by the server; not resending", { reason });
    e.onSettled?.("rejected");
    e.settle?.("rejected");
  }

  #remove(e: InFlight): void {
    this.#inflight.delete(e.token);
    const size = this.#inflight.size;
    if (this.#capacity && size < this.#window) {
      this.#capacity.resolve();
      this.#capacity = undefined;
    }
    if (this.#drained && size === 0) {
      this.#drained.resolve();
      this.#drained = undefined;
    }
  }

  #sweep(): void {
    if (!this.#connected || this.#inflight.size === 0) {
      if (this.#inflight.size === 0) this.#failing = false;
      return;
    }
    const now = performance.now();
    let timedOut = 0;
    for (const e of this.#inflight.values()) {
      if (e.giveUpAt !== 0 && now >= e.giveUpAt) {
        this.#remove(e);
        this.stats.cancelled++;
        e.settle?.("timeout");
        continue;
      }
      if (e.retryAt !== 0 ? now >= e.retryAt : now - e.sentAt >= this.#ackTimeout) {
        if (e.retryAt === 0) timedOut++;
        this.stats.resent++;
        this.#transmit(e);
      }
    }
    if (timedOut > 0) {
      this.#failing = true;
      this.#failReason = "JetStream acknowledgements are overdue";
      this.#log.warn("JetStream acks overdue; resending", { count: timedOut });
    }
  }

  #waitOrTimeout(ms: number): Promise<boolean> {
    return withTimeout(this.waitForCapacity().then(() => true), ms, false);
  }

  #watchStatus(): void {
    (async () => {
      for await (const s of this.#nc.status()) {
        if (s.type === "disconnect") {
          this.#connected = false;
          // Callers waiting on an ack are told now, not after their timeout.
          for (const e of [...this.#inflight.values()]) {
            if (e.settle) {
              this.#remove(e);
              this.stats.cancelled++;
              e.settle("unavailable");
            }
          }
        } else if (s.type === "reconnect") {
          this.#connected = true;
          this.#log.info("publishing to server", { max_message_bytes: this.maxDataBytes() });
          // Whatever was sent on the lost connection may never be acked: resend it all.
          for (const e of this.#inflight.values()) {
            this.stats.resent++;
            this.#transmit(e);
          }
        }
      }
    })().catch(() => {});
  }
}
