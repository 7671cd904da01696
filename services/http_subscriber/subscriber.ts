/**
 * The subscriber: JetStream consumer → record of the output format
 * (SUB_FORMAT; its NDJSON written straight from the protobuf bytes by
 * JsonLineWriter) → {@link Batcher} → {@link BatchPoster} → ack (or dead
 * letter, then ack). Items a store refuses one by one (ES bulk) are dead
 * letters; the batch is acked once every item is settled.
 *
 * A JetStream message may hold one Heka message or a chunk of many
 * (see chunk_intake.ts): a chunk's lines are batched one by one and the
 * chunk is acked once every line from it is delivered or dead-lettered.
 *
 * A message is acked only after the batch holding it got a 2xx, or after
 * it was stored on the dead-letter subject. While a batch waits (filling,
 * queued, posting, backing off) its messages' ack deadlines are extended
 * with in-progress acks, so a slow remote does not cause redeliveries.
 * The consumer's ack window (`max_ack_pending`) bounds the messages held
 * in memory: when the remote is slow, the stream stops handing out more.
 *
 * @module
 */
import type { ConsumerInfo, ConsumerMessages, ConsumerStatus, JsMsg, NatsConnection } from "nats";
import { brokerOptions, connectBroker, ensureStream } from "../broker/mod.ts";
import { errorMessage, type Logger } from "../log/mod.ts";
import type { BearerAuth } from "../net/bearer_auth.ts";
import {
  type Counter,
  counterRate,
  MetricsRegistry,
  MetricTypes,
  serveStats,
  StatsReporter,
} from "../metrics/mod.ts";
import { type Batch, Batcher, type FlushReason } from "./batcher.ts";
import type { SubscriberSettings } from "./config.ts";
import {
  ConsumerMismatchError,
  deleteConsumer,
  openConsumer,
  type OpenedConsumer,
  type StartPolicy,
} from "./consumer.ts";
import { type DeadLetter, DeadLetterPublisher, UNDECODABLE } from "./dead_letter.ts";
import { createFormat, type OutputFormat, type RecordEncoder } from "./formats/mod.ts";
import { BatchPoster, type FetchFn, type PostOutcome, type RefusedItems } from "./poster.ts";
import {
  chunkAckWindow,
  ChunkLine,
  type Deliverable,
  holdsChunk,
  openChunk,
} from "./chunk_intake.ts";
import { stubFetch } from "./stub_sink.ts";
import { hostPort } from "../runtime/ready.ts";
import { LAG_THRESHOLD } from "../metrics/thresholds.ts";
import { type AckDelivery, readDelivery } from "./ack_subject.ts";
import { sleep } from "../runtime/async.ts";

/** Messages asked for per pull request. */
export const PULL_BATCH = 1000;

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

/** The `Sender` of the subscriber's MetricEvents (with SUB_FORMAT=ndjson). */
export const STATS_SENDER = "http-output";

/** The `Sender` of a subscriber writing `format`: `http-output`, or `http-output:<format>`. */
export function statsSender(format: string): string {
  return format === "ndjson" ? STATS_SENDER : `${STATS_SENDER}:${format}`;
}

/** Messages handed to the poster or the dead-letter publisher, not yet acked. */
interface Held {
  id: number;
  msgs: Deliverable[];
  /** `performance.now()` when their ack deadlines were last extended (or the first arrived). */
  touchedAt: number;
}

/** Options for tests and embedding. */
export interface SubscriberOptions {
  /** Replaces the HTTP transport (tests); SUB_STUB_HTTP selects the stub otherwise. */
  fetch?: FetchFn;
  /** Token check of the stats endpoint (`SUB_STATS_TOKEN`). */
  statsAuth?: BearerAuth;
}

/** The subscriber's counters. */
export interface SubscriberCounters {
  received: Counter;
  delivered: Counter;
  batches: Counter;
  failures: Counter;
  retries: Counter;
  deadLettered: Counter;
  undecodable: Counter;
  redelivered: Counter;
  abandoned: Counter;
  /** Times the watchdog found the consume stalled and re-opened it. */
  stalls: Counter;
  itemRetries: Counter;
  itemsRefused: Counter;
}

function toDeadLetter(m: Deliverable): DeadLetter {
  const index = m instanceof ChunkLine ? m.index : undefined;
  return { data: m.data, subject: m.subject, stream: m.info.stream, seq: m.seq, index };
}

/** Pulls, batches, posts and acks; see the module documentation. */
export class Subscriber {
  /** Counters and gauges, served on `/metrics` and `/debug/vars`. */
  readonly metrics: MetricsRegistry = new MetricsRegistry("lagermeister_http_subscriber");
  readonly counters: SubscriberCounters;
  readonly #s: SubscriberSettings;
  readonly #log: Logger;
  readonly #statsAuth: BearerAuth | undefined;
  readonly #format: OutputFormat;
  readonly #encoder: RecordEncoder;
  readonly #delivery: AckDelivery = { count: 0, seq: 0 };
  readonly #poster: BatchPoster;
  readonly #batcher: Batcher<Deliverable>;
  readonly #held = new Set<Held>();
  readonly #idleWaiters: (() => void)[] = [];
  readonly #deadAbort = new AbortController();
  #nc: NatsConnection | undefined;
  #dead: DeadLetterPublisher | undefined;
  #opened: OpenedConsumer | undefined;
  #messages: ConsumerMessages | undefined;
  #reporter: StatsReporter | undefined;
  #statsServer: Deno.HttpServer<Deno.NetAddr> | undefined;
  #timers: ReturnType<typeof setInterval>[] = [];
  #batchSeq = 0;
  /** `firstAt` of the open batch the keep-alive last saw, and when it extended it. */
  #openSince: number | undefined;
  #openTouchedAt = 0;
  #pending = 0;
  #pendingPolling = false;
  #newestDeliveredNs = 0;
  #lastSeq = 0;
  #ackWindowFitted = false;
  #consuming = false;
  /** Watchdog: `received` at its last look, and how many looks it has not moved. */
  #watchReceived = 0;
  #stuckPolls = 0;
  #connected = false;
  #stopping = false;
  #recovering = false;
  #stopped: Promise<number> | undefined;

  constructor(settings: SubscriberSettings, log: Logger, o: SubscriberOptions = {}) {
    this.#s = settings;
    this.#log = log;
    this.#statsAuth = o.statsAuth?.countIn(this.metrics, "stats_unauthorized");
    this.#format = createFormat(settings.format);
    this.#encoder = this.#format.encoder;
    const cfg = settings.config;
    const m = this.metrics;
    this.counters = {
      received: m.counter("received", "messages received from JetStream"),
      delivered: m.counter("delivered", "messages delivered (their batch got a 2xx) and acked"),
      batches: m.counter("batches", "batches delivered"),
      failures: m.counter("failures", "failed POST attempts (network, timeout, non-2xx)"),
      retries: m.counter("retries", "POST attempts retried"),
      deadLettered: m.counter("dead_lettered", "messages stored on the dead-letter subject"),
      undecodable: m.counter("undecodable", "messages that were not Heka protobuf"),
      redelivered: m.counter("redelivered", "messages JetStream delivered more than once"),
      abandoned: m.counter(
        "abandoned",
        "messages left unacked at shutdown (JetStream redelivers them)",
      ),
      stalls: m.counter(
        "stalls",
        "times messages were pending but none arrived, so the consume was re-opened",
      ),
      itemRetries: m.counter(
        "item_retries",
        "items a store failed one by one (ES bulk 429/5xx) and that were sent again alone",
      ),
      itemsRefused: m.counter(
        "items_refused",
        "items a store refused one by one (ES bulk 4xx), stored on the dead-letter subject",
      ),
    };
    m.gauge(
      "pending",
      "messages in the stream not yet delivered to the consumer",
      () => this.#pending,
    );
    m.gauge("held_messages", "messages received and not yet acked", () => this.heldMessages);
    m.gauge(
      "posts_active",
      "POSTs in flight (including backoff pauses)",
      () => this.#poster.active,
    );
    m.gauge("posts_queued", "batches waiting for a poster", () => this.#poster.queued);
    m.gauge(
      "lag_seconds",
      "seconds since the newest delivered message was stored",
      () => this.lagSeconds(),
    );
    this.#poster = new BatchPoster({
      url: settings.remoteUrl ?? "http://stub.invalid/",
      concurrency: cfg.posters,
      timeoutMs: cfg.requestTimeout,
      gzip: cfg.gzip,
      rejectAttempts: cfg.rejectAttempts,
      request: this.#format.request,
      response: this.#format.response,
      headers: settings.headers,
      onItemsRetried: (n) => this.counters.itemRetries.value += n,
      retryMinMs: cfg.retryMin,
      retryMaxMs: cfg.retryMax,
      fetch: o.fetch ?? (settings.remoteUrl === undefined ? stubFetch({ log }) : undefined),
      log,
      onAttemptFailed: (f) => {
        this.counters.failures.value++;
        if (f.delayMs !== undefined) this.counters.retries.value++;
      },
    });
    this.#batcher = new Batcher<Deliverable>({
      maxItems: cfg.batchSize,
      maxBytes: cfg.batchBytes,
      maxWaitMs: cfg.batchTimeout,
      onBatch: (b, reason) => this.#onBatch(b, reason),
    });
  }

  /** The remote URL as it may be printed. */
  get remote(): string {
    return this.#s.remoteUrl === undefined ? "stub" : this.#poster.redactedUrl;
  }

  /** `host:port` of the stats endpoint, when it serves. */
  get statsAddress(): string | undefined {
    return this.#statsServer ? hostPort(this.#statsServer.addr) : undefined;
  }

  /** The consumer's name once consuming. */
  get consumerName(): string | undefined {
    return this.#opened?.info.name;
  }

  /** Messages received and not yet acked. */
  get heldMessages(): number {
    let n = this.#batcher.openItems.length;
    for (const h of this.#held) n += h.msgs.length;
    return n;
  }

  /** Seconds between now and the stored time of the newest delivered message; 0 when caught up. */
  lagSeconds(now: number = Date.now()): number {
    if (this.#newestDeliveredNs === 0) return 0;
    if (this.#pending === 0 && this.heldMessages === 0) return 0;
    return Math.max(0, now / 1000 - this.#newestDeliveredNs / 1e9);
  }

  /**
   * Connects (waiting for the broker), makes sure the stream and consumer
   * exist (retrying while JetStream is unavailable) and starts consuming.
   * Throws {@link ConsumerMismatchError} when the named consumer cannot be
   * used.
   */
  async start(): Promise<void> {
    const cfg = this.#s.config;
    const log = this.#log;
    const nc = await connectBroker(brokerOptions(cfg, this.#s.connectionName), log);
    this.#nc = nc;
    this.#connected = true;
    this.#watchConnection(nc);
    this.#dead = new DeadLetterPublisher(nc, { subject: this.#s.deadLetterSubject, log });
    if (this.#stopping) return;
    this.#startStats(nc);
    await this.#openWithRetry(this.#s.consumer.start);
    if (this.#stopping) return;
    await this.#consume();
    const ackWait = this.#s.consumer.ackWaitMs;
    const keepAliveEvery = Math.max(100, Math.min(5000, ackWait / 4));
    this.#timers.push(setInterval(() => this.#keepAlive(), keepAliveEvery));
    this.#timers.push(setInterval(() => this.#pollPending(), PENDING_POLL_MS));
    this.#pollPending();
    log.info("consuming", {
      stream: this.#s.consumer.stream,
      subject: this.#s.consumer.filterSubject,
      consumer: this.consumerName,
      remote: this.remote,
      format: this.#format.name,
      dead_letter_subject: this.#s.deadLetterSubject,
      ack_wait_ms: ackWait,
      max_ack_pending: this.#s.consumer.maxAckPending,
    });
  }

  /**
   * Stops pulling, sends the open batch, waits (up to SUB_SHUTDOWN_TIMEOUT)
   * for batches in flight and acks them, deletes the consumer when asked
   * to (or when ephemeral), closes. Returns the exit code.
   */
  stop(): Promise<number> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<number> {
    this.#stopping = true;
    const log = this.#log;
    const cfg = this.#s.config;
    const deadline = performance.now() + cfg.shutdownTimeout;
    const nc = this.#nc;
    try {
      await this.#messages?.close();
    } catch (err) {
      log.debug("closing the pull subscription failed", { error: errorMessage(err) });
    }
    this.#consuming = false;
    this.#batcher.close();
    const flushed = await Promise.race([
      this.#whenIdle().then(() => true),
      sleep(Math.max(0, deadline - performance.now())).then(() => false),
    ]);
    if (!flushed) {
      const left = this.heldMessages;
      this.counters.abandoned.value += left;
      log.warn("shutdown timeout: messages left unacked; JetStream will redeliver them", {
        messages: left,
      });
      this.#poster.abort("shutting down");
      this.#deadAbort.abort();
    }
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#reporter?.stop();
    if (nc && !nc.isClosed()) {
      await Promise.race([nc.flush(), sleep(2000)]).catch(() => {});
      const name = this.consumerName;
      if (name !== undefined) {
        const plan = this.#s.consumer;
        if (plan.name === undefined || cfg.unsubscribe) {
          if (plan.shared) await sleep(200); // let the server notice our pulls are gone
          await deleteConsumer(nc, plan.stream, name, plan.shared, log);
        }
      }
      await nc.close().catch(() => {});
    }
    this.#poster.close();
    await this.#statsServer?.shutdown().catch(() => {});
    log.info("stopped", {
      delivered: this.counters.delivered.value,
      dead_lettered: this.counters.deadLettered.value,
      abandoned: this.counters.abandoned.value,
      rss_mb: Math.round(Deno.memoryUsage().rss / 1e6),
    });
    return 0;
  }

  #startStats(nc: NatsConnection): void {
    const c = this.counters;
    let lastDelivered = c.delivered.value;
    let lastBatches = c.batches.value;
    this.#reporter = new StatsReporter(nc, {
      sender: statsSender(this.#format.name),
      sources: [
        counterRate(MetricTypes.Throughput, c.delivered),
        counterRate(MetricTypes.BatchCount, c.batches),
        {
          type: MetricTypes.BatchSize,
          aggregate: "Average",
          value: () => {
            const msgs = c.delivered.value - lastDelivered;
            const batches = c.batches.value - lastBatches;
            lastDelivered = c.delivered.value;
            lastBatches = c.batches.value;
            return batches === 0 ? 0 : msgs / batches;
          },
        },
        {
          type: MetricTypes.Lag,
          aggregate: "Average",
          value: () => this.lagSeconds(),
          threshold: LAG_THRESHOLD,
        },
        { type: MetricTypes.Pending, aggregate: "Average", value: () => this.#pending },
        counterRate(MetricTypes.Retries, c.retries),
        counterRate(MetricTypes.Failures, c.failures),
        counterRate(MetricTypes.DeadLettered, c.deadLettered),
        ...(this.#format.response === undefined ? [] : [
          counterRate(MetricTypes.ItemRetries, c.itemRetries),
          counterRate(MetricTypes.ItemsRefused, c.itemsRefused),
        ]),
      ],
    });
    const address = this.#s.config.statsAddress;
    if (address === undefined) return;
    try {
      this.#statsServer = serveStats({
        address,
        registry: this.metrics,
        auth: this.#statsAuth,
        health: () => ({
          ok: this.#connected && this.#consuming && !this.#stopping,
          connected: this.#connected,
          consuming: this.#consuming,
          consumer: this.consumerName,
          format: this.#format.name,
          pending: this.#pending,
          held_messages: this.heldMessages,
        }),
        onListen: (addr) =>
          this.#log.info("stats endpoint listening", {
            address: `${addr.hostname}:${addr.port}`,
          }),
      });
    } catch (err) {
      this.#log.warn("stats endpoint not started", { error: errorMessage(err) });
    }
  }

  #watchConnection(nc: NatsConnection): void {
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") this.#connected = false;
        else if (s.type === "reconnect") this.#connected = true;
      }
    })().catch(() => {});
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
        const wait = Math.min(5000, 250 * 2 ** Math.min(attempt - 1, 5));
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
    const messages = await this.#opened!.consumer.consume({
      max_messages: PULL_BATCH,
      expires: PULL_EXPIRES_MS,
      callback: (m) => this.#onMessage(m),
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
        let oldest = reset ? reset.ackFloor + 1 : Infinity;
        const name = this.#opened?.info.name;
        if (reset && name) {
          await deleteConsumer(this.#nc!, this.#s.consumer.stream, name, false, this.#log);
        }
        for (const h of this.#held) for (const m of h.msgs) oldest = Math.min(oldest, m.seq);
        for (const m of this.#batcher.openItems) oldest = Math.min(oldest, m.seq);
        const start: StartPolicy = oldest !== Infinity
          ? { kind: "seq", seq: oldest }
          : this.#lastSeq > 0
          ? { kind: "seq", seq: this.#lastSeq + 1 }
          : this.#s.consumer.start;
        await this.#openWithRetry(start);
        if (this.#stopping) return;
        this.#ackWindowFitted = false;
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
    const received = this.counters.received.value;
    const held = this.heldMessages;
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
    if (!canReset && (pending === 0 || ackPending >= this.#s.consumer.maxAckPending)) return;
    if (++this.#stuckPolls < STALL_POLLS) return;
    this.#stuckPolls = 0;
    this.counters.stalls.value++;
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

  #onMessage(m: JsMsg): void {
    if (this.#stopping) {
      // Stopped pulling already: hand it back for another subscriber now.
      m.nak();
      return;
    }
    this.counters.received.value++;
    const d = this.#delivery;
    readDelivery(m, d);
    if (d.seq > this.#lastSeq) this.#lastSeq = d.seq;
    if (d.count > 1) this.counters.redelivered.value++;
    if (holdsChunk(m)) {
      this.#onChunk(m);
      return;
    }
    let line: Uint8Array;
    try {
      line = this.#encoder.encode(m.data);
    } catch (err) {
      this.#deadLetterUndecodable(m, errorMessage(err));
      return;
    }
    this.#batcher.addBytes(m, line);
  }

  /** Batches every line of a chunk; undecodable ones become dead letters alone. */
  #onChunk(m: JsMsg): void {
    const { lines, skippedBytes } = openChunk(m);
    if (skippedBytes > 0) {
      this.counters.undecodable.value++;
      this.#log.warn("chunk holds bytes that are no Heka frame; skipped", {
        seq: m.seq,
        bytes: skippedBytes,
      });
    }
    if (lines.length === 0) {
      if (skippedBytes > 0) this.#deadLetterUndecodable(m, "chunk holds no Heka frame");
      else m.ack();
      return;
    }
    this.counters.received.value += lines.length - 1;
    if (!this.#ackWindowFitted) this.#fitAckWindow(lines.length);
    const encoder = this.#encoder;
    for (const l of lines) {
      let line: Uint8Array;
      try {
        line = encoder.encode(l.data);
      } catch (err) {
        this.#deadLetterUndecodable(l, errorMessage(err));
        continue;
      }
      this.#batcher.addBytes(l, line);
    }
  }

  /**
   * Once, at the first chunk: when SUB_MAX_ACK_PENDING was left at its
   * default (sized in lines), shrinks the consumer's ack window so that it
   * holds about as many lines in chunks — else a slow remote could make
   * it hold tens of times more lines in memory.
   */
  #fitAckWindow(linesPerChunk: number): void {
    this.#ackWindowFitted = true;
    const opened = this.#opened;
    if (this.#s.config.maxAckPending !== undefined || opened === undefined || !this.#nc) return;
    const window = chunkAckWindow(this.#s.consumer.maxAckPending, linesPerChunk);
    if (window >= this.#s.consumer.maxAckPending) return;
    const stream = this.#s.consumer.stream;
    this.#nc.jetstreamManager({ checkAPI: false })
      .then((jsm) => jsm.consumers.update(stream, opened.info.name, { max_ack_pending: window }))
      .then(() =>
        this.#log.info("the stream holds chunks: ack window fitted", {
          max_ack_pending: window,
          lines_per_chunk: linesPerChunk,
        })
      )
      .catch((err) =>
        this.#log.warn("could not fit the ack window to chunks", { error: errorMessage(err) })
      );
  }

  #onBatch(b: Batch<Deliverable>, reason: FlushReason): void {
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
    const items = this.#format.response === undefined ? undefined : {
      count: b.items.length,
      onRefused: (r: RefusedItems) => this.#deadLetterItems(held, r),
    };
    this.#poster.submit(body, `${held.id} (${b.items.length} messages)`, items)
      .then((outcome) => this.#settle(held, outcome))
      .catch((err) => {
        this.#log.error("settling a batch failed", { batch: held.id, error: errorMessage(err) });
        this.#release(held);
      });
  }

  async #settle(held: Held, outcome: PostOutcome): Promise<void> {
    const msgs = held.msgs;
    switch (outcome.kind) {
      case "delivered": {
        for (let i = 0; i < msgs.length; i++) msgs[i].ack();
        const ts = msgs[msgs.length - 1].info.timestampNanos;
        if (ts > this.#newestDeliveredNs) this.#newestDeliveredNs = ts;
        this.counters.delivered.value += msgs.length - (outcome.refused ?? 0);
        this.counters.batches.value++;
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
          this.counters.deadLettered.value += msgs.length;
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
      this.counters.deadLettered.value += msgs.length;
      this.counters.itemsRefused.value += msgs.length;
      this.#log.warn("refused items stored on the dead-letter subject", {
        batch: held.id,
        messages: msgs.length,
        subject: this.#dead!.subject,
        status: r.status,
      });
    }
    return stored;
  }

  #deadLetterUndecodable(m: Deliverable, reason: string): void {
    this.counters.undecodable.value++;
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
          this.counters.deadLettered.value++;
        }
      })
      .catch((err) => this.#log.error("dead letter failed", { error: errorMessage(err) }))
      .finally(() => this.#release(held));
  }

  #release(held: Held): void {
    this.#held.delete(held);
    if (this.#held.size === 0 && this.#idleWaiters.length > 0) {
      for (const r of this.#idleWaiters.splice(0)) r();
    }
  }

  #whenIdle(): Promise<void> {
    if (this.#held.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Extends the ack deadline of messages held for a third of the ack wait. */
  #keepAlive(): void {
    const now = performance.now();
    const limit = this.#s.consumer.ackWaitMs / 3;
    let touched = 0;
    for (const h of this.#held) {
      if (now - h.touchedAt < limit) continue;
      for (const m of h.msgs) m.working();
      h.touchedAt = now;
      touched += h.msgs.length;
    }
    const since = this.#batcher.openSince;
    if (since !== undefined) {
      if (since !== this.#openSince) {
        this.#openSince = since;
        this.#openTouchedAt = since;
      }
      if (now - this.#openTouchedAt >= limit) {
        const items = this.#batcher.openItems;
        for (const m of items) m.working();
        this.#openTouchedAt = now;
        touched += items.length;
      }
    }
    if (touched > 0) this.#log.debug("extended ack deadlines", { messages: touched });
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

/**
 * Starts a subscriber (what `deno task subscribe` runs); resolves once it
 * consumes. Stop it with `stop()`.
 */
export async function runSubscriber(
  settings: SubscriberSettings,
  log: Logger,
  o: SubscriberOptions = {},
): Promise<Subscriber> {
  const sub = new Subscriber(settings, log, o);
  await sub.start();
  return sub;
}
