/**
 * The subscriber: JetStream consumer → record of the output format → batch
 * → POST → ack (or dead letter, then ack). This module only starts, stops
 * and wires the stages, each in its own module:
 *
 * - consumer_lifecycle.ts: open (with retries), consume, recover, watchdog;
 * - intake.ts: a delivery → its Heka message(s) (chunk_intake.ts) → records
 *   (formats/) → batches (batcher.ts);
 * - settlement.ts: post (poster.ts), ack after a 2xx, keep-alive of held
 *   messages, dead letters (dead_letter.ts);
 * - subscriber_metrics.ts: counters, gauges, stats endpoint and reporter.
 *
 * A message is acked only after the batch holding it got a 2xx, or after
 * it was stored on the dead-letter subject; a chunk once every line from
 * it is. The consumer's ack window (`max_ack_pending`) bounds the messages
 * held in memory: when the remote is slow, the stream stops handing out
 * more.
 *
 * @module
 */
import type { NatsConnection } from "nats";
import { brokerOptions, connectBroker } from "../broker/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { MetricsRegistry } from "../metrics/mod.ts";
import type { BearerAuth } from "../net/bearer_auth.ts";
import { sleep } from "../runtime/async.ts";
import type { SubscriberSettings } from "./settings.ts";
import { ConsumerLifecycle } from "./consumer_lifecycle.ts";
import { DeadLetterPublisher } from "./dead_letter.ts";
import { createFormat, type OutputFormat } from "./formats/mod.ts";
import { Intake } from "./intake.ts";
import type { FetchFn } from "./post_client.ts";
import { BatchPoster } from "./poster.ts";
import { Settlement } from "./settlement.ts";
import { stubFetch } from "./stub_sink.ts";
import { lagSeconds, type SubscriberCounters, SubscriberMetrics } from "./subscriber_metrics.ts";

/** Options for tests and embedding. */
export interface SubscriberOptions {
  /** Replaces the HTTP transport (tests); SUB_STUB_HTTP selects the stub otherwise. */
  fetch?: FetchFn;
  /** Token check of the stats endpoint (`SUB_STATS_TOKEN`). */
  statsAuth?: BearerAuth;
}

/** Pulls, batches, posts and acks; see the module documentation. */
export class Subscriber {
  /** Counters and gauges, served on `/metrics` and `/debug/vars`. */
  readonly metrics: MetricsRegistry;
  readonly counters: SubscriberCounters;
  readonly #s: SubscriberSettings;
  readonly #log: Logger;
  readonly #format: OutputFormat;
  readonly #stats: SubscriberMetrics;
  readonly #poster: BatchPoster;
  readonly #settlement: Settlement;
  readonly #intake: Intake;
  readonly #lifecycle: ConsumerLifecycle;
  #nc: NatsConnection | undefined;
  #stopped: Promise<number> | undefined;

  constructor(settings: SubscriberSettings, log: Logger, o: SubscriberOptions = {}) {
    this.#s = settings;
    this.#log = log;
    const stats = new SubscriberMetrics(o.statsAuth);
    this.#stats = stats;
    this.metrics = stats.registry;
    const counters = stats.counters;
    this.counters = counters;
    const format = createFormat(settings.format);
    this.#format = format;
    const cfg = settings.config;
    const poster = new BatchPoster({
      url: settings.remoteUrl ?? "http://stub.invalid/",
      concurrency: cfg.posters,
      timeoutMs: cfg.requestTimeout,
      gzip: cfg.gzip,
      rejectAttempts: cfg.rejectAttempts,
      request: format.request,
      response: format.response,
      headers: settings.headers,
      onItemsRetried: (n) => counters.itemRetries.value += n,
      retryMinMs: cfg.retryMin,
      retryMaxMs: cfg.retryMax,
      fetch: o.fetch ?? (settings.remoteUrl === undefined ? stubFetch({ log }) : undefined),
      log,
      onAttemptFailed: (f) => {
        counters.failures.value++;
        if (f.delayMs !== undefined) counters.retries.value++;
      },
    });
    this.#poster = poster;
    const settlement = new Settlement({
      poster,
      itemized: format.response !== undefined,
      ackWaitMs: settings.consumer.ackWaitMs,
      counters,
      log,
      recycle: (body) => this.#intake.recycle(body),
    });
    this.#settlement = settlement;
    const intake = new Intake({
      encoder: format.encoder,
      maxItems: cfg.batchSize,
      maxBytes: cfg.batchBytes,
      maxWaitMs: cfg.batchTimeout,
      counters,
      log,
      hooks: {
        batch: (b, reason) => settlement.post(b, reason),
        undecodable: (m, reason) => settlement.deadLetterUndecodable(m, reason),
        delivered: (lines) => this.#lifecycle.observeLines(lines),
        ackWindow: () => this.#lifecycle.ackWindow,
        posting: () => settlement.busy,
      },
    });
    this.#intake = intake;
    this.#lifecycle = new ConsumerLifecycle({
      settings,
      handler: intake,
      held: {
        count: () => this.heldMessages,
        oldestSeq: () => settlement.oldestSeq(intake),
        lastSeq: () => intake.lastSeq,
      },
      counters,
      log,
    });
    const lifecycle = this.#lifecycle;
    stats.readFrom({
      pending: () => lifecycle.pending,
      heldMessages: () => this.heldMessages,
      postsActive: () => poster.active,
      postsQueued: () => poster.queued,
      lagSeconds: () => this.lagSeconds(),
      health: () => ({
        ok: lifecycle.connected && lifecycle.consuming && !lifecycle.stopping,
        connected: lifecycle.connected,
        consuming: lifecycle.consuming,
        consumer: lifecycle.consumerName,
        format: format.name,
        pending: lifecycle.pending,
        held_messages: this.heldMessages,
      }),
    });
  }

  /** The remote URL as it may be printed. */
  get remote(): string {
    return this.#s.remoteUrl === undefined ? "stub" : this.#poster.redactedUrl;
  }

  /** `host:port` of the stats endpoint, when it serves. */
  get statsAddress(): string | undefined {
    return this.#stats.statsAddress;
  }

  /** The consumer's name once consuming. */
  get consumerName(): string | undefined {
    return this.#lifecycle.consumerName;
  }

  /** Messages received and not yet acked. */
  get heldMessages(): number {
    return this.#intake.openItems.length + this.#settlement.heldMessages;
  }

  /** Seconds between now and the stored time of the newest delivered message; 0 when caught up. */
  lagSeconds(now: number = Date.now()): number {
    const caughtUp = this.#lifecycle.pending === 0 && this.heldMessages === 0;
    return lagSeconds(this.#settlement.newestDeliveredNs, caughtUp, now);
  }

  /**
   * Connects (waiting for the broker), makes sure the stream and consumer
   * exist (retrying while JetStream is unavailable) and starts consuming.
   * Throws consumer.ts's `ConsumerMismatchError` when the named consumer
   * cannot be used.
   */
  async start(): Promise<void> {
    const cfg = this.#s.config;
    const log = this.#log;
    const lifecycle = this.#lifecycle;
    const nc = await connectBroker(brokerOptions(cfg, this.#s.connectionName), log);
    this.#nc = nc;
    lifecycle.attach(nc);
    this.#settlement.useDeadLetters(
      new DeadLetterPublisher(nc, { subject: this.#s.deadLetterSubject, log }),
    );
    if (lifecycle.stopping) return;
    this.#stats.start(nc, {
      format: this.#format.name,
      itemized: this.#format.response !== undefined,
      address: cfg.statsAddress,
      log,
    });
    await lifecycle.open();
    if (lifecycle.stopping) return;
    this.#settlement.startKeepAlive(this.#intake);
    lifecycle.startPolling();
    log.info("consuming", {
      stream: this.#s.consumer.stream,
      subject: this.#s.consumer.filterSubject,
      consumer: this.consumerName,
      remote: this.remote,
      format: this.#format.name,
      dead_letter_subject: this.#s.deadLetterSubject,
      ack_wait_ms: this.#s.consumer.ackWaitMs,
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
    const log = this.#log;
    const deadline = performance.now() + this.#s.config.shutdownTimeout;
    const nc = this.#nc;
    this.#intake.refuse();
    await this.#lifecycle.close();
    this.#intake.close();
    const flushed = await Promise.race([
      this.#settlement.whenIdle().then(() => true),
      sleep(Math.max(0, deadline - performance.now())).then(() => false),
    ]);
    if (!flushed) {
      const left = this.heldMessages;
      this.counters.abandoned.value += left;
      log.warn("shutdown timeout: messages left unacked; JetStream will redeliver them", {
        messages: left,
      });
      this.#settlement.abort("shutting down");
    }
    this.#settlement.stopKeepAlive();
    this.#lifecycle.stopPolling();
    this.#stats.stopReporting();
    if (nc && !nc.isClosed()) {
      await Promise.race([nc.flush(), sleep(2000)]).catch(() => {});
      await this.#lifecycle.deleteIfOwned();
      await nc.close().catch(() => {});
    }
    this.#poster.close();
    await this.#stats.closeEndpoint();
    log.info("stopped", {
      delivered: this.counters.delivered.value,
      dead_lettered: this.counters.deadLettered.value,
      abandoned: this.counters.abandoned.value,
      rss_mb: Math.round(Deno.memoryUsage().rss / 1e6),
    });
    return 0;
  }
}

/**
 * Starts a subscriber in this process; resolves once it consumes. Stop it
 * with `stop()`. (`deno task subscribe` runs `runSubscriber` of run.ts.)
 */
export async function startSubscriber(
  settings: SubscriberSettings,
  log: Logger,
  o: SubscriberOptions = {},
): Promise<Subscriber> {
  const sub = new Subscriber(settings, log, o);
  await sub.start();
  return sub;
}
