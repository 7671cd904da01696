/**
 * `deno task receive-tcp`: the TCP receiver program.
 *
 * @module
 */
import { describeConfig, loadConfig } from "../config/mod.ts";
import { SignatureVerifier } from "../heka/hmac.ts";
import { MatcherSyntaxError } from "../heka/matcher/mod.ts";
import { errorMessage, Logger } from "../log/mod.ts";
import { MetricTypes, serveStats, StatsReporter } from "../metrics/mod.ts";
import { closeStore, MessageGate, openStore, ReceiverMetrics } from "../receiver/mod.ts";
import { onShutdown } from "../runtime/shutdown.ts";
import { StreamStats } from "../broker/mod.ts";
import { tcpReceiverInfo, tcpReceiverSpec } from "./config.ts";
import { FrameHandler } from "./frame_handler.ts";
import { TcpListener } from "./listener.ts";

const cfg = loadConfig(tcpReceiverInfo, tcpReceiverSpec);
const log = new Logger("tcp-receiver", cfg.loggingLevel);

let gate: MessageGate;
try {
  gate = new MessageGate(cfg.matchSpec);
} catch (err) {
  if (!(err instanceof MatcherSyntaxError)) throw err;
  console.error(`tcp_receiver: TCPRCVR_MATCH_SPEC: ${(err as Error).message}`);
  Deno.exit(2);
}
log.info("starting", describeConfig(tcpReceiverSpec, Deno.env.toObject()));

const store = await openStore(cfg, log).catch((err) => {
  console.error(`tcp_receiver: cannot start: ${errorMessage(err)}`);
  Deno.exit(1);
});
const streamStats = new StreamStats(store.nc, cfg.stream);
const metrics = new ReceiverMetrics("tcp_receiver", store.publisher);
const verifier = new SignatureVerifier({ signers: cfg.signers, requireSigned: cfg.requireSigned });
const handler = new FrameHandler(gate, verifier, store.publisher, metrics, log);
const listener = new TcpListener(
  {
    hostname: cfg.bindAddress.hostname,
    port: cfg.bindAddress.port,
    maxMessageSize: cfg.maxMessageSize,
    maxConnections: cfg.maxConnections,
    idleTimeoutMs: cfg.idleTimeout,
    keepAlive: cfg.keepAlive,
  },
  handler,
  metrics.registry,
  log,
);
log.info("listening", { address: `${listener.addr.hostname}:${listener.addr.port}` });

const reporter = new StatsReporter(store.nc, {
  sender: "tcp-receiver",
  sources: metrics.sources(streamStats, [
    { type: MetricTypes.Connections, aggregate: "Total", value: () => listener.connections },
  ]),
});
const stats = cfg.statsAddress
  ? serveStats({
    address: cfg.statsAddress,
    registry: metrics.registry,
    health: () => ({ ...metrics.health(), refusedBy: handler.refusedBy }),
    onListen: (a) => log.info("stats listening", { address: `${a.hostname}:${a.port}` }),
  })
  : undefined;

onShutdown(log, async () => {
  await listener.close();
  reporter.stop();
  streamStats.stop();
  const all = await closeStore(store, 30_000, log);
  await stats?.shutdown();
  log.info("stopped", { stored: store.publisher.stats.acked });
  return all ? 0 : 1;
});
