/**
 * The HTTP subscriber as a program, {@link runSubscriber}, which `main.ts`
 * calls with its config.
 *
 * @module
 */
import { ConfigError, describeConfig } from "../config/mod.ts";
import { errorMessage, Logger } from "../log/mod.ts";
import { loadBearerAuth } from "../net/startup.ts";
import { configExit, ExitError } from "../runtime/exit.ts";
import { announceReady } from "../runtime/ready.ts";
import { onShutdown } from "../runtime/shutdown.ts";
import { type SubscriberConfig, subscriberInfo, subscriberSpec } from "./config.ts";
import { resolveSettings, type SubscriberSettings } from "./settings.ts";
import { Subscriber } from "./subscriber.ts";

/**
 * Runs the subscriber with `cfg` until SIGTERM/SIGINT (then it drains and
 * exits). Prints the readiness line once it consumes. Throws an
 * `ExitError` when it cannot start: 2 for a bad setting, 1 otherwise.
 */
export async function runSubscriber(cfg: SubscriberConfig): Promise<void> {
  let settings: SubscriberSettings;
  try {
    settings = resolveSettings(cfg);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw configExit(subscriberInfo.name, err.message);
  }
  const log = new Logger(subscriberInfo.name, cfg.loggingLevel);
  log.info("effective config", {
    ...describeConfig(subscriberSpec, Deno.env.toObject()),
    consumer: settings.consumer.name ?? "(ephemeral)",
    connection_name: settings.connectionName,
    dead_letter_subject: settings.deadLetterSubject,
    ack_wait_ms: settings.consumer.ackWaitMs,
    max_ack_pending: settings.consumer.maxAckPending,
  });
  if (cfg.clusterId !== "test-cluster") {
    log.info("SUB_CLUSTER_ID is ignored: JetStream has no cluster id");
  }
  const statsAuth = loadBearerAuth(subscriberInfo.name, "SUB_STATS_TOKEN", cfg.statsToken, {
    log,
  });
  const sub = new Subscriber(settings, log, { statsAuth });
  onShutdown(log, () => sub.stop());
  try {
    await sub.start();
  } catch (err) {
    log.error("cannot start", { error: errorMessage(err) });
    await sub.stop().catch(() => {});
    throw new ExitError("", 1);
  }
  announceReady("http_subscriber", {
    consumer: sub.consumerName,
    stats: sub.statsAddress,
    remote: sub.remote,
  });
}
