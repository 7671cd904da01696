/**
 * A real `nats-server -js` for tests: free port, temp store dir, stopped by
 * its own pid. Never a mock.
 *
 * Which binary: `NATS_SERVER_BIN`, else the newest found
 * (`services/runtime/nats_server_bin.ts`).
 *
 * @module
 */
import { requireNatsServer } from "../../services/runtime/nats_server_bin.ts";

/** A free TCP port on loopback. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Options of {@link NatsServer.start}. */
export interface NatsServerOptions {
  /** JetStream store directory; a fresh temp dir when omitted. */
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

  async #spawn(): Promise<void> {
    const args = [
      "-js",
      "-a",
      "127.0.0.1",
      "-p",
      String(this.port),
      "-m",
      String(this.monitorPort),
      "-sd",
      this.storeDir,
    ];
    if (this.#opts.name) args.push("-n", this.#opts.name);
    if (this.#opts.config !== undefined) {
      const file = await Deno.makeTempFile({ prefix: "lm-nats-", suffix: ".conf" });
      await Deno.writeTextFile(file, this.#opts.config);
      args.push("-c", file);
    }
    args.push(...(this.#opts.args ?? []));
    this.#child = new Deno.Command((await requireNatsServer()).path, {
      args,
      stdout: "null",
      stderr: Deno.env.get("NATS_SERVER_LOG") ? "inherit" : "null",
    }).spawn();
    this.#status = this.#child.status;
    await this.waitReady();
  }

  /** Waits until `/healthz` says JetStream is ready (or throws after `ms`). */
  async waitReady(ms = 15_000, path = "/healthz?js-enabled-only=true"): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`http://127.0.0.1:${this.monitorPort}${path}`);
        await r.body?.cancel();
        if (r.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nats-server on port ${this.port} not ready after ${ms} ms`);
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

  /** Stops the server and removes its temp store. */
  async dispose(): Promise<void> {
    await this.stop();
    if (!this.#opts.storeDir) await Deno.remove(this.storeDir, { recursive: true }).catch(() => {});
  }

  /** JSON of a monitoring endpoint (`/jsz`, `/varz`, `/connz`). */
  async monitor(path: string): Promise<Record<string, unknown>> {
    const r = await fetch(`http://127.0.0.1:${this.monitorPort}${path}`);
    return await r.json();
  }
}

/** Three nats-server processes routed into one JetStream cluster on loopback. */
export async function startCluster(size = 3): Promise<NatsServer[]> {
  const clusterPorts = Array.from({ length: size }, () => freePort());
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const servers = await Promise.all(clusterPorts.map((cp, i) =>
    NatsServer.start({
      name: `lm-n${i + 1}`,
      args: ["--cluster_name", "lm", "--cluster", `nats://127.0.0.1:${cp}`, "--routes", routes],
    }).catch((err) => {
      throw new Error(`cluster node ${i + 1}: ${err.message}`);
    })
  ));
  return servers;
}
