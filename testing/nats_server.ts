/**
 * A real `nats-server -js` for tests and the bench: free port, temp store
 * dir, waits until JetStream is ready, stopped by its own pid, restarted on
 * the same port and store for chaos tests, and clusters. Never a mock.
 *
 * The binary, command line and readiness wait are the product's own
 * (`services/runtime/nats_server.ts`, which `deno task start` launches
 * through), so `NATS_SERVER_BIN` decides the server of a whole run.
 * `NATS_SERVER_LOG=1` shows the servers' logs.
 *
 * @module
 */
import {
  natsServerArgs,
  type NatsServerLaunch,
  requireNatsServer,
  waitNatsReady,
} from "../services/runtime/nats_server.ts";
import { freePort } from "./free_port.ts";

/** Options of {@link NatsServer.start}. */
export interface NatsServerOptions {
  /** JetStream store directory; a fresh temp dir (removed by `dispose`) when omitted. */
  storeDir?: string;
  /** Client port; a free one when omitted. */
  port?: number;
  /** Extra command-line arguments (auth, TLS, cluster). */
  args?: string[];
  /** Contents of a config file passed with `-c`. */
  config?: string;
  /** Server name (needed in clusters). */
  name?: string;
}

/** A running nats-server process. */
export class NatsServer {
  #child: Deno.ChildProcess | undefined;
  #status: Promise<Deno.CommandStatus> | undefined;
  #configFile: string | undefined;
  readonly #opts: NatsServerOptions;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;

  private constructor(opts: NatsServerOptions, storeDir: string) {
    this.#opts = opts;
    this.port = opts.port ?? freePort();
    this.monitorPort = freePort();
    this.storeDir = storeDir;
  }

  /** Starts a server and waits until JetStream is ready. */
  static async start(opts: NatsServerOptions = {}): Promise<NatsServer> {
    const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix: "lm-nats-" });
    const s = new NatsServer(opts, storeDir);
    await s.#spawn();
    return s;
  }

  /** `nats://127.0.0.1:PORT`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The process id, while running. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get #launch(): NatsServerLaunch {
    return {
      port: this.port,
      monitorPort: this.monitorPort,
      storeDir: this.storeDir,
      name: this.#opts.name,
      configFile: this.#configFile,
      args: this.#opts.args,
    };
  }

  async #spawn(): Promise<void> {
    if (this.#opts.config !== undefined && !this.#configFile) {
      this.#configFile = await Deno.makeTempFile({ prefix: "lm-nats-", suffix: ".conf" });
      await Deno.writeTextFile(this.#configFile, this.#opts.config);
    }
    const child = new Deno.Command((await requireNatsServer()).path, {
      args: natsServerArgs(this.#launch),
      stdin: "null",
      stdout: "null",
      stderr: Deno.env.get("NATS_SERVER_LOG") ? "inherit" : "null",
    }).spawn();
    let exited = false;
    this.#child = child;
    this.#status = child.status.finally(() => exited = true);
    try {
      await waitNatsReady(this.#launch, 15_000, () => exited);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Waits until `/healthz` says JetStream is ready (or throws after `ms`). */
  waitReady(ms = 15_000): Promise<void> {
    return waitNatsReady(this.#launch, ms);
  }

  /** Stops the server by its pid (SIGTERM, or SIGKILL) and waits for it to exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    try {
      Deno.kill(child.pid, signal);
    } catch {
      // already gone
    }
    await this.#status;
  }

  /** SIGKILL, as a crash. */
  kill(): Promise<void> {
    return this.stop("SIGKILL");
  }

  /** Starts again on the same port and store. */
  async restart(): Promise<void> {
    if (this.#child) await this.stop();
    await this.#spawn();
  }

  /** Stops the server and removes its temp store and config file. */
  async dispose(): Promise<void> {
    await this.stop();
    if (!this.#opts.storeDir) await Deno.remove(this.storeDir, { recursive: true }).catch(() => {});
    if (this.#configFile) await Deno.remove(this.#configFile).catch(() => {});
  }

  /** JSON of a monitoring endpoint (`/jsz`, `/varz`, `/connz`). */
  async monitor(path: string): Promise<Record<string, unknown>> {
    const r = await fetch(`http://127.0.0.1:${this.monitorPort}${path}`);
    return await r.json();
  }
}

/** `size` nats-server processes routed into one JetStream cluster on loopback. */
export async function startCluster(size = 3): Promise<NatsServer[]> {
  const clusterPorts = Array.from({ length: size }, () => freePort());
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(",");
  return await Promise.all(clusterPorts.map((cp, i) =>
    NatsServer.start({
      name: `lm-n${i + 1}`,
      args: ["--cluster_name", "lm", "--cluster", `nats://127.0.0.1:${cp}`, "--routes", routes],
    }).catch((err) => {
      throw new Error(`cluster node ${i + 1}: ${err.message}`);
    })
  ));
}
