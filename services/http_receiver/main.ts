/**
 * `deno task receive-http`: the HTTP receiver program.
 *
 * @module
 */
import { describeConfig, loadConfig } from "../config/mod.ts";
import { MatcherSyntaxError } from "../heka/matcher/mod.ts";
import { errorMessage, Logger } from "../log/mod.ts";
import { serveStats, StatsReporter } from "../metrics/mod.ts";
import { closeStore, MessageGate, openStore, ReceiverMetrics } from "../receiver/mod.ts";
import { onShutdown } from "../runtime/shutdown.ts";
import { StreamStats } from "../broker/mod.ts";
import { httpReceiverInfo, httpReceiverSpec } from "./config.ts";
import { createHandler } from "./handler.ts";

const cfg = loadConfig(httpReceiverInfo, httpReceiverSpec);
const log = new Logger("http-receiver", cfg.loggingLevel);

let gate: MessageGate;
try {
  gate = new MessageGate(cfg.matchSpec);
} catch (err) {
  if (!(err instanceof MatcherSyntaxError)) throw err;
  console.error(`http_receiver: RCVR_MATCH_SPEC: ${(err as Error).message}`);
  Deno.exit(2);
}
log.info("starting", describeConfig(httpReceiverSpec, Deno.env.toObject()));

const store = await openStore(cfg, log).catch((err) => {
  console.error(`http_receiver: cannot start: ${errorMessage(err)}`);
  Deno.exit(1);
});
const streamStats = new StreamStats(store.nc, cfg.stream);
const metrics = new ReceiverMetrics("http_receiver", store.publisher);
const server = Deno.serve(
  {
    hostname: cfg.bindAddress.hostname,
    port: cfg.bindAddress.port,
    onListen: (a) => log.info("listening", { address: `${a.hostname}:${a.port}` }),
  },
  createHandler({
    gate,
    publisher: store.publisher,
    metrics,
    maxMessageSize: cfg.maxMessageSize,
    requestTimeoutMs: cfg.requestTimeout,
    bodyTimeoutMs: cfg.bodyTimeout,
  }),
);
const reporter = new StatsReporter(store.nc, {
  sender: "http-receiver",
  sources: metrics.sources(streamStats),
});
const stats = cfg.statsAddress
  ? serveStats({
    address: cfg.statsAddress,
    registry: metrics.registry,
    health: () => metrics.health(),
    onListen: (a) => log.info("stats listening", { address: `${a.hostname}:${a.port}` }),
  })
  : undefined;

onShutdown(log, async () => {
  // Finishes requests in flight (each waits for its ack), refuses new ones;
  // a client that never finishes its request cannot hold the shutdown.
  await Promise.race([server.shutdown(), new Promise((r) => setTimeout(r, 10_000))]);
  reporter.stop();
  streamStats.stop();
  const all = await closeStore(store, 30_000, log);
  await stats?.shutdown();
  log.info("stopped", { stored: store.publisher.stats.acked });
  return all ? 0 : 1;
});
