/**
 * The real stats proxy as a child process (`services/stats_proxy/main.ts`)
 * for tests (over `testing/`'s ProgramProcess): free port, logs kept for
 * failure reports, stopped by its pid. `PROXY_LOG=1` shows its output.
 *
 * @module
 */
import { sleep } from "../../services/runtime/async.ts";
import { ensureDashboardBundle, freePort, ProgramProcess } from "../../testing/mod.ts";

/** How much of the proxy's output is kept for failure reports. */
const LOG_TAIL = 64 * 1024;

/** Options of {@link ProxyProcess.start}. */
export interface ProxyProcessOptions {
  natsUrl: string;
  /** Port (a free one when omitted). */
  port?: number;
  /** Extra `PROXY_*` env vars. */
  env?: Record<string, string>;
  /** Wait until `/health` says NATS is connected (default true). */
  waitForNats?: boolean;
}

/** A running stats proxy process. */
export class ProxyProcess {
  #proc: ProgramProcess | undefined;
  readonly port: number;
  readonly #o: ProxyProcessOptions;

  private constructor(o: ProxyProcessOptions) {
    this.#o = o;
    this.port = o.port ?? freePort();
  }

  /** Bundles the dashboard when stale, starts the proxy and waits until it answers `/health`. */
  static async start(o: ProxyProcessOptions): Promise<ProxyProcess> {
    await ensureDashboardBundle();
    const p = new ProxyProcess(o);
    await p.#spawn();
    return p;
  }

  /** `http://127.0.0.1:PORT`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The process id while running. */
  get pid(): number | undefined {
    return this.#proc?.exited ? undefined : this.#proc?.pid;
  }

  /** What the proxy printed (the last 64 KiB of stdout and of stderr). */
  get log(): string {
    return (this.#proc?.stdout ?? "") + (this.#proc?.stderr ?? "");
  }

  async #spawn(): Promise<void> {
    this.#proc = ProgramProcess.start(
      "services/stats_proxy/main.ts",
      {
        PROXY_HTTP_PORT: String(this.port),
        PROXY_BIND_ADDRESS: "127.0.0.1",
        PROXY_NATS_URL: this.#o.natsUrl,
        PROXY_NATS_RECONNECT_WAIT: "100ms",
        ...this.#o.env,
      },
      [],
      { name: "stats_proxy", keepOutput: LOG_TAIL, echo: Boolean(Deno.env.get("PROXY_LOG")) },
    );
    await this.waitReady();
  }

  /** Waits until `/health` answers (200 when waiting for NATS). */
  async waitReady(ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    const wantOk = this.#o.waitForNats ?? true;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`${this.url}/health`);
        await r.body?.cancel();
        if (r.ok || (!wantOk && r.status === 503)) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`stats proxy on port ${this.port} not ready after ${ms} ms:\n${this.log}`);
  }

  /** The proxy's `/health` JSON. */
  async health(): Promise<Record<string, unknown> & HealthShape> {
    const r = await fetch(`${this.url}/health`);
    return await r.json();
  }

  /** Resident memory of the process, in bytes (Linux). */
  async rss(): Promise<number> {
    const status = await Deno.readTextFile(`/proc/${this.pid}/status`);
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  }

  /** Sends a signal (SIGTERM by default) and waits for the exit; returns the exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number | undefined> {
    const proc = this.#proc;
    if (!proc) return undefined;
    return (await proc.stop(signal, 10_000)).code;
  }

  /** Starts again on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }
}

/** The parts of `/health` tests read. */
export interface HealthShape {
  status: string;
  nats: string;
  events: { received: number; valid: number; invalid: number; history: number };
  clients: {
    connected: number;
    dropped: number;
    list: { id: number; sent: number; queued: number; bufferedBytes: number; dropped: number }[];
  };
}
