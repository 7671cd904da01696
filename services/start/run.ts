/**
 * `deno task start` as a function, {@link runStart}, which `main.ts` calls
 * with its config: NATS (given, already running, or launched), a local sink
 * unless SUB_REMOTE_URL is set, and every program as a supervised child.
 *
 * @module
 */
import { parseBindAddress, redactUrl } from "../config/mod.ts";
import { Logger } from "../log/mod.ts";
import { ExitError } from "../runtime/exit.ts";
import {
  findNatsServer,
  natsServerArgs,
  type NatsServerLaunch,
  probeNats,
  waitNatsReady,
} from "../runtime/nats_server.ts";
import { onShutdown } from "../runtime/shutdown.ts";
import type { StartConfig } from "./config.ts";
import { type LocalSink, startLocalSink } from "./local_sink.ts";
import { ChildSupervisor } from "./supervisor.ts";
import { HTTP_RECEIVER_PORT, STATS_PROXY_PORT, TCP_RECEIVER_PORT } from "../config/ports.ts";

/** The order children stop in: receivers drain into a broker that is still up. */
const STOP_ORDER = ["tcp-receiver", "http-receiver", "http-subscriber", "stats-proxy"];

function startError(message: string): ExitError {
  return new ExitError(`start: ${message}`, 1);
}

/**
 * The NATS URL to use: `cfg.natsUrl`, a JetStream server already on
 * `cfg.natsPort`, or a nats-server started under `supervisor` (storing
 * under the data dir) and waited for.
 */
async function ensureNats(
  cfg: StartConfig,
  dataDir: string,
  supervisor: ChildSupervisor,
  log: Logger,
): Promise<string> {
  if (cfg.natsUrl) return cfg.natsUrl;
  const running = await probeNats("127.0.0.1", cfg.natsPort);
  if (running) {
    if (!running.jetstream) {
      throw startError(
        `a server on port ${cfg.natsPort} is not NATS with JetStream (${running.version}); ` +
          `stop it, set START_NATS_PORT, or point NATS_URL at a JetStream server`,
      );
    }
    log.info("using the NATS server already running", {
      port: cfg.natsPort,
      version: running.version,
    });
  } else {
    const bin = await findNatsServer();
    if (!bin) {
      throw startError(
        "nats-server is not installed. Install it with `sudo apt-get install nats-server` " +
          "(Debian/Ubuntu) or from https://github.com/nats-io/nats-server/releases, " +
          "or run `bash .ci/dev start`, which installs it; set NATS_SERVER_BIN to its path; " +
          "or set NATS_URL to a running server.",
      );
    }
    const launch: NatsServerLaunch = { port: cfg.natsPort, storeDir: `${dataDir}/nats` };
    await Deno.mkdir(launch.storeDir, { recursive: true });
    log.info("starting nats-server", { path: bin.path, version: bin.version });
    supervisor.start({
      name: "nats-server",
      command: bin.path,
      args: natsServerArgs(launch),
      env: {},
    });
    try {
      await waitNatsReady(launch);
    } catch {
      await supervisor.stopAll([]);
      throw startError(`nats-server did not start listening on port ${cfg.natsPort}`);
    }
  }
  return `nats://127.0.0.1:${cfg.natsPort}`;
}

/**
 * Runs the whole pipeline with `cfg` until SIGTERM/SIGINT, which stop every
 * child in order. `env` is passed through to the programs (the user's
 * settings win over start's defaults). Throws an {@link ExitError} when
 * NATS cannot be had.
 */
export async function runStart(
  cfg: StartConfig,
  env: Record<string, string> = Deno.env.toObject(),
): Promise<void> {
  const log = new Logger("start", "info");
  const supervisor = new ChildSupervisor(log);
  const dataDir = cfg.dataDir.replace(/\/+$/, "");

  // 1. NATS: the given one, one already listening, or our own.
  const natsUrl = await ensureNats(cfg, dataDir, supervisor, log);

  // 2. Where batches go.
  let sink: LocalSink | undefined;
  let remoteUrl = cfg.remoteUrl;
  if (!remoteUrl) {
    sink = await startLocalSink(
      `${dataDir}/sink`,
      cfg.sinkAddress.hostname,
      cfg.sinkAddress.port,
      log,
    );
    remoteUrl = sink.url;
  }

  // 3. The programs, each with its own env (the user's settings win). From
  // source they run under this deno; in a `deno compile`d bin/start, they are
  // the sibling binaries in the same bin/ directory.
  const compiled = import.meta.url.includes("/deno-compile-");
  const deno = Deno.execPath();
  const binDir = deno.replace(/\/[^/]+$/, "");
  const root = new URL("../../", import.meta.url).pathname;
  const program = (
    name: string,
    script: string,
    defaults: Record<string, string>,
  ) =>
    supervisor.start({
      name,
      command: compiled ? `${binDir}/${script.split("/")[1]}` : deno,
      args: compiled ? [] : ["run", "--allow-all", `${root}${script}`],
      env: { ...defaults, ...env },
    });

  // Stats endpoints and the dashboard stay on this machine unless the user's
  // own *_STATS_ADDRESS / PROXY_BIND_ADDRESS say otherwise.
  program("tcp-receiver", "services/tcp_receiver/main.ts", {
    TCPRCVR_NATS_URL: natsUrl,
    TCPRCVR_CLIENT_ID: "start-tcp-receiver",
    TCPRCVR_STATS_ADDRESS: "127.0.0.1:34999",
  });
  program("http-receiver", "services/http_receiver/main.ts", {
    RCVR_NATS_URL: natsUrl,
    RCVR_CLIENT_ID: "start-http-receiver",
    RCVR_STATS_ADDRESS: "127.0.0.1:34997",
  });
  program("http-subscriber", "services/http_subscriber/main.ts", {
    SUB_NATS_URL: natsUrl,
    SUB_CLIENT_ID: "start-subscriber",
    SUB_DURABLE: "lagermeister-start",
    SUB_DELIVER_ALL: "true",
    SUB_BATCH_TIMEOUT: "2s",
    SUB_REMOTE_URL: remoteUrl,
    SUB_STATS_ADDRESS: "127.0.0.1:34998",
  });
  program("stats-proxy", "services/stats_proxy/main.ts", {
    PROXY_NATS_URL: natsUrl,
    PROXY_BIND_ADDRESS: "127.0.0.1",
  });

  const tcpAddr = parseBindAddress(env.TCPRCVR_BIND_ADDRESS ?? `:${TCP_RECEIVER_PORT}`);
  const httpAddr = parseBindAddress(env.RCVR_BIND_ADDRESS ?? `:${HTTP_RECEIVER_PORT}`);
  const proxyPort = env.PROXY_HTTP_PORT ?? String(STATS_PROXY_PORT);
  const lines = [
    "",
    "Lagermeister is starting:",
    `  dashboard      http://localhost:${proxyPort}/`,
    `  Heka TCP       tcp://localhost:${
      tcpAddr?.port ?? TCP_RECEIVER_PORT
    }   (Heka stream framing)`,
    `  HTTP           http://localhost:${
      httpAddr?.port ?? HTTP_RECEIVER_PORT
    }/  (POST one protobuf message)`,
    `  NATS           ${redactUrl(natsUrl)}`,
    sink
      ? `  delivered to   ${dataDir}/sink/ (local sink at ${sink.url}; set SUB_REMOTE_URL to post elsewhere)`
      : `  delivered to   ${redactUrl(remoteUrl)}`,
    `  send test logs with: deno task generate   (GEN_TARGET=http://127.0.0.1:${HTTP_RECEIVER_PORT}/ for HTTP)`,
    "Press Ctrl-C to stop everything.",
    "",
  ];
  console.log(lines.join("\n"));
  log.info("children", supervisor.pids());

  onShutdown(log, async () => {
    await supervisor.stopAll(STOP_ORDER);
    await sink?.shutdown();
    log.info("stopped", sink ? { batches: sink.counts.batches, lines: sink.counts.lines } : {});
  });
}
