/**
 * What both receiver programs do around their transport: compile the
 * matcher, open the store, count, report, serve stats, shut down in order.
 * A receiver's main.ts adds only its listener.
 *
 * @module
 */
import {
  type BindAddress,
  type ConfigSpec,
  describeConfig,
  type TokenSource,
} from "../config/mod.ts";
import { serverMaxPayload, StreamStats } from "../broker/mod.ts";
import { MatcherSyntaxError } from "../heka/matcher/mod.ts";
import { errorMessage, Logger, type LogLevel } from "../log/mod.ts";
import { type MetricSource, serveStats, StatsReporter } from "../metrics/mod.ts";
import { announceReady, hostPort } from "../runtime/ready.ts";
import { onShutdown } from "../runtime/shutdown.ts";
import { MessageGate } from "./gate.ts";
import { ReceiverMetrics } from "./metrics.ts";
import { closeStore, openStore, type Store, type StoreConfig } from "./store.ts";
import { ChunkPacker } from "./packer.ts";
import { type MessageSink, PerMessageSink } from "./sink.ts";
import type { BearerAuth } from "../net/bearer_auth.ts";
import { loadBearerAuth } from "../net/startup.ts";
import { ExitError } from "../runtime/exit.ts";

/** The config every receiver has (from `receiverVars`). */
export interface ReceiverConfig extends StoreConfig {
  matchSpec: string;
  /** `*_MAX_MESSAGE_SIZE`: the largest message the receiver reads. */
  maxMessageSize: number;
  statsAddress: BindAddress | undefined;
  statsToken: TokenSource | undefined;
  loggingLevel: LogLevel;
  /** Store chunks (default) or one JetStream message per log message. */
  pack: boolean;
  packBytes: number;
  packLinger: number;
  packInflightBytes: number;
  /** `*_SHUTDOWN_TIMEOUT`: how long shutdown waits for unacknowledged publishes. */
  shutdownTimeout: number;
}

/** Names of a receiver program. */
export interface ReceiverIdentity {
  /** Program name for errors, logs, the readiness line and metric names, e.g. `tcp_receiver`. */
  program: string;
  /** `Sender` of its MetricEvents, e.g. `tcp-receiver` (what dashboards know it by). */
  sender: string;
  /** Env var prefix, e.g. `TCPRCVR_`. */
  prefix: string;
}

/** The transport-independent parts of a running receiver. */
export interface ReceiverParts {
  log: Logger;
  gate: MessageGate;
  store: Store;
  /** Where accepted messages go: a {@link ChunkPacker} or one message each. */
  sink: MessageSink;
  metrics: ReceiverMetrics;
  streamStats: StreamStats;
  /** Token check of the stats endpoints (`*_STATS_TOKEN`), if set. */
  statsAuth: BearerAuth | undefined;
}

/**
 * Compiles the match spec (exit 2 with the error if malformed), logs the
 * redacted config, opens the store (exit 1 with one line if impossible).
 */
export async function openReceiver(
  id: ReceiverIdentity,
  cfg: ReceiverConfig,
  spec: ConfigSpec,
): Promise<ReceiverParts> {
  const log = new Logger(id.program, cfg.loggingLevel);
  let gate: MessageGate;
  try {
    gate = new MessageGate(cfg.matchSpec);
  } catch (err) {
    if (!(err instanceof MatcherSyntaxError)) throw err;
    throw new ExitError(`${id.program}: ${id.prefix}MATCH_SPEC: ${err.message}`, 2);
  }
  log.info("starting", describeConfig(spec, Deno.env.toObject()));
  const statsAuth = loadBearerAuth(id.program, `${id.prefix}STATS_TOKEN`, cfg.statsToken, {
    log,
  });
  const store = await openStore(cfg, log).catch((err) => {
    throw new ExitError(`${id.program}: cannot start: ${errorMessage(err)}`, 1);
  });
  const sink = cfg.pack
    ? new ChunkPacker(store.publisher, {
      maxBytes: cfg.packBytes,
      lingerMs: cfg.packLinger,
      maxInflightBytes: cfg.packInflightBytes,
      // A chunk must fit the server's max_payload and the stream's max_msg_size.
      serverLimit: () =>
        Math.min(serverMaxPayload(store.nc), store.streamMaxMsgSize || Number.MAX_SAFE_INTEGER),
    })
    : new PerMessageSink(store.publisher);
  if (sink instanceof ChunkPacker) {
    log.info("storing chunks", {
      chunk_bytes: sink.chunkLimit,
      linger_ms: cfg.packLinger,
      server_max_payload: serverMaxPayload(store.nc),
    });
  }
  warnIfAboveServerLimit(id, cfg, store, sink, log);
  const metrics = new ReceiverMetrics(id.program, store.publisher, sink);
  return {
    log,
    gate,
    store,
    sink,
    metrics,
    streamStats: new StreamStats(store.nc, cfg.stream),
    statsAuth: statsAuth?.countIn(metrics.registry, "stats_unauthorized"),
  };
}

/**
 * A configured maximum above what the NATS server stores is allowed (the
 * server's limit may differ after a reconnect, and messages above it are
 * refused one by one, counted as too large), but said once at start.
 */
function warnIfAboveServerLimit(
  id: ReceiverIdentity,
  cfg: ReceiverConfig,
  store: Store,
  sink: MessageSink,
  log: Logger,
): void {
  const limit = sink.maxMessageBytes();
  if (cfg.maxMessageSize <= limit) return;
  log.warn(`${id.prefix}MAX_MESSAGE_SIZE is above what the NATS server stores`, {
    max_message_size: cfg.maxMessageSize,
    server_limit: limit,
    max_payload: store.nc.info?.max_payload ?? 0,
    larger: "refused and counted as too_large (HTTP 413)",
  });
}

/** What {@link serveReceiver} needs of the transport. */
export interface TransportHooks {
  /** Where clients connect (`host:port`), for the readiness line. */
  listen: string;
  /** Where TLS clients connect, when that is another port. */
  listenTls?: string;
  /** More MetricEvents (e.g. Connections). */
  sources?: MetricSource[];
  /** More `/health` fields. */
  health?: () => Record<string, unknown>;
  /** Stops accepting and finishes what was accepted; called first on shutdown. */
  close: () => Promise<void>;
}

/**
 * Reports MetricEvents, serves the stats address and, on SIGTERM/SIGINT,
 * closes the transport, drains the store and exits (1 if a publish could
 * not be acknowledged).
 */
export function serveReceiver(
  id: ReceiverIdentity,
  cfg: ReceiverConfig,
  parts: ReceiverParts,
  transport: TransportHooks,
): void {
  const { log, store, metrics, streamStats } = parts;
  const health = () => ({ ...metrics.health(), ...transport.health?.() });
  const reporter = new StatsReporter(store.nc, {
    sender: id.sender,
    sources: metrics.sources(streamStats, transport.sources),
  });
  const stats = cfg.statsAddress
    ? serveStats({
      address: cfg.statsAddress,
      registry: metrics.registry,
      health,
      auth: parts.statsAuth,
      onListen: (a) => log.info("stats listening", { address: hostPort(a) }),
    })
    : undefined;
  announceReady(id.program, {
    listen: transport.listen,
    tls: transport.listenTls,
    stats: stats ? hostPort(stats.addr) : undefined,
  });
  onShutdown(log, async () => {
    await transport.close();
    parts.sink.flush();
    reporter.stop();
    streamStats.stop();
    const all = await closeStore(store, cfg.shutdownTimeout, log);
    await stats?.shutdown();
    log.info("stopped", { stored: metrics.storedMessages });
    return all ? 0 : 1;
  });
}
