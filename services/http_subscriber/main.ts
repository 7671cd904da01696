/**
 * `deno task subscribe`: the HTTP subscriber as a program. Configured by
 * `SUB_*` env vars (see `--help`).
 *
 * @module
 */
import { ConfigError, describeConfig, loadConfig } from "../config/mod.ts";
import { errorMessage, Logger } from "../log/mod.ts";
import { announceReady } from "../runtime/ready.ts";
import { loadBearerAuth } from "../net/startup.ts";
import { onShutdown } from "../runtime/shutdown.ts";
import {
  resolveSettings,
  subscriberInfo,
  type SubscriberSettings,
  subscriberSpec,
} from "./config.ts";
import { Subscriber } from "./subscriber.ts";
import { runMain } from "../runtime/exit.ts";

if (import.meta.main) {
  await runMain(async () => {
    const env = Deno.env.toObject();
    const cfg = loadConfig(subscriberInfo, subscriberSpec, Deno.args, env);
    let settings: SubscriberSettings;
    try {
      settings = resolveSettings(cfg);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      console.error(`${subscriberInfo.name}: ${err.message}`);
      Deno.exit(2);
    }
    const log = new Logger(subscriberInfo.name, cfg.loggingLevel);
    log.info("effective config", {
      ...describeConfig(subscriberSpec, env),
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
      announceReady("http_subscriber", {
        consumer: sub.consumerName,
        stats: sub.statsAddress,
        remote: sub.remote,
      });
    } catch (err) {
      log.error("cannot start", { error: errorMessage(err) });
      await sub.stop().catch(() => {});
      Deno.exit(1);
    }
  });
}
