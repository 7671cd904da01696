/**
 * The bench's own `nats-server -js`: file storage in a temp dir, free
 * ports, stopped by its pid.
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

/** A running nats-server with JetStream. */
export class BenchNatsServer {
  readonly #child: Deno.ChildProcess;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;

  private constructor(child: Deno.ChildProcess, port: number, monitorPort: number, dir: string) {
    this.#child = child;
    this.port = port;
    this.monitorPort = monitorPort;
    this.storeDir = dir;
  }

  /** Starts a server with a fresh temp store and waits until JetStream is ready. */
  static async start(): Promise<BenchNatsServer> {
    const storeDir = await Deno.makeTempDir({ prefix: "lm-bench-nats-" });
    const port = freePort();
    const monitorPort = freePort();
    const child = new Deno.Command((await requireNatsServer()).path, {
      args: [
        "-js",
        "-a",
        "127.0.0.1",
        "-p",
        String(port),
        "-m",
        String(monitorPort),
        "-sd",
        storeDir,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const server = new BenchNatsServer(child, port, monitorPort, storeDir);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`);
        await r.body?.cancel();
        if (r.ok) return server;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await server.stop();
    throw new Error(`nats-server not ready after 15 s`);
  }

  /** `nats://127.0.0.1:PORT`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The server's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Stops the server (SIGTERM) and removes its store. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
    await Deno.remove(this.storeDir, { recursive: true }).catch(() => {});
  }
}
