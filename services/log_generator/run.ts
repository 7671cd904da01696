/**
 * The log generator as a function, {@link runLogGenerator}, which
 * `main.ts` calls with its config.
 *
 * @module
 */
import { describeConfig } from "../config/mod.ts";
import { Logger } from "../log/mod.ts";
import { onShutdown } from "../runtime/shutdown.ts";
import { type GeneratorConfig, generatorInfo, generatorSpec } from "./config.ts";
import { runHttpSender } from "./http_sender.ts";
import { newSendStats, Pacer } from "./pacer.ts";
import { buildTemplates } from "./payloads.ts";
import { MessageStamper } from "./stamp.ts";
import { runTcpSender } from "./tcp_sender.ts";
import { TCP_RECEIVER_PORT } from "../config/ports.ts";
import { ExitError } from "../runtime/exit.ts";

/**
 * Sends messages as `cfg` says until the count or duration is reached, or
 * SIGTERM/SIGINT, and logs the summary (`msg=done`). Throws an
 * {@link ExitError} with code 1 when nothing could be sent.
 */
export async function runLogGenerator(cfg: GeneratorConfig): Promise<void> {
  const log = new Logger(generatorInfo.name, cfg.loggingLevel);
  log.info("starting", describeConfig(generatorSpec, Deno.env.toObject()));

  const target = new URL(cfg.target);
  const tcp = target.protocol === "tcp:";
  if (!tcp && cfg.signer) {
    log.warn("GEN_SIGNER signs TCP framing headers only; HTTP messages are sent unsigned");
  }
  const templates = buildTemplates({
    size: cfg.size,
    hostname: cfg.hostname || Deno.hostname(),
    type: cfg.type,
    variants: cfg.variants,
  });
  const stamper = new MessageStamper(templates, tcp ? cfg.signer : undefined);
  const pacer = new Pacer({ rate: cfg.rate, count: cfg.count, durationMs: cfg.duration });
  const stats = newSendStats();
  const started = performance.now();

  let lastSent = 0;
  let lastAt = started;
  const progress = setInterval(() => {
    const now = performance.now();
    log.info("progress", {
      sent: stats.sent,
      rate: Math.round(((stats.sent - lastSent) * 1000) / (now - lastAt)),
      errors: stats.errors,
      failed: stats.failed || undefined,
      retried: stats.retried || undefined,
    });
    lastSent = stats.sent;
    lastAt = now;
  }, 1000);

  const sending = tcp
    ? runTcpSender({
      hostname: target.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: Number(target.port || TCP_RECEIVER_PORT),
      connections: cfg.connections,
      stamper,
      pacer,
      stats,
      log,
    })
    : runHttpSender({ url: target, clients: cfg.connections, stamper, pacer, stats, log });

  let finished: Promise<number> | undefined;

  /** Waits for the senders, prints the summary once, returns the exit code. */
  function finish(): Promise<number> {
    finished ??= summarize();
    return finished;
  }

  async function summarize(): Promise<number> {
    await sending;
    clearInterval(progress);
    const seconds = (performance.now() - started) / 1000;
    log.info("done", {
      sent: stats.sent,
      errors: stats.errors,
      failed: stats.failed,
      retried: stats.retried,
      seconds: Number(seconds.toFixed(3)),
      rate: Math.round(stats.sent / seconds),
      mb_per_s: Number((stats.bytes / 1e6 / seconds).toFixed(2)),
      statuses: tcp ? undefined : JSON.stringify(stats.statuses),
    });
    return stats.sent === 0 && stats.errors > 0 ? 1 : 0;
  }

  onShutdown(log, () => {
    pacer.stop();
    return finish();
  });
  const code = await finish();
  if (code !== 0) throw new ExitError("", code);
}
