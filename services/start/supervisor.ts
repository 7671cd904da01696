/**
 * ChildSupervisor: runs programs as child processes, restarts one that dies
 * (with backoff), and stops them all in order.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { backoff } from "../runtime/async.ts";

/** One supervised program. */
export interface ChildSpec {
  /** Short name for logs, e.g. `tcp-receiver`. */
  name: string;
  /** Executable and its arguments. */
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

interface Running {
  spec: ChildSpec;
  child: Deno.ChildProcess | undefined;
  restarts: number;
  startedAt: number;
  exited: Promise<void>;
}

/**
 * `setsid`, when installed: children run in their own session, so a Ctrl-C
 * in the terminal reaches only the supervisor, which then stops them in
 * order (receivers drain into a broker that is still up).
 */
function findSetsid(): string | undefined {
  for (const p of ["/usr/bin/setsid", "/bin/setsid"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Starts children and keeps them running until {@link stopAll}. */
export class ChildSupervisor {
  readonly #children: Running[] = [];
  readonly #setsid = findSetsid();
  #stopping = false;

  constructor(readonly log: Logger) {}

  /** Process ids of the running children, by name. */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.#children) if (r.child) out[r.spec.name] = r.child.pid;
    return out;
  }

  /** Starts a child; it is restarted with backoff whenever it exits on its own. */
  start(spec: ChildSpec): void {
    const r: Running = {
      spec,
      child: undefined,
      restarts: 0,
      startedAt: 0,
      exited: Promise.resolve(),
    };
    this.#children.push(r);
    this.#spawn(r);
  }

  #spawn(r: Running): void {
    const { spec } = r;
    r.startedAt = Date.now();
    try {
      r.child = new Deno.Command(this.#setsid ?? spec.command, {
        args: this.#setsid ? [spec.command, ...spec.args] : spec.args,
        env: spec.env,
        cwd: spec.cwd,
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
    } catch (err) {
      this.log.error("could not start", { child: spec.name, error: (err as Error).message });
      r.child = undefined;
      this.#scheduleRestart(r);
      return;
    }
    this.log.info("started", { child: spec.name, pid: r.child.pid });
    r.exited = r.child.status.then((status) => {
      r.child = undefined;
      if (this.#stopping) return;
      this.log.error("child exited unexpectedly", {
        child: spec.name,
        code: status.code,
        signal: status.signal ?? undefined,
      });
      this.#scheduleRestart(r);
    });
  }

  #scheduleRestart(r: Running): void {
    if (this.#stopping) return;
    // Reset the backoff after a minute of healthy running.
    if (Date.now() - r.startedAt > 60_000) r.restarts = 0;
    const delay = backoff(r.restarts + 1, 500, 30_000);
    r.restarts++;
    this.log.warn("restarting", { child: r.spec.name, in_ms: delay, attempt: r.restarts });
    setTimeout(() => {
      if (!this.#stopping) this.#spawn(r);
    }, delay);
  }

  /**
   * Stops children in the given order (names; the rest afterwards, last
   * started first), SIGTERM then SIGKILL after `graceMs`.
   */
  async stopAll(order: string[], graceMs = 30_000): Promise<void> {
    this.#stopping = true;
    const byName = new Map(this.#children.map((r) => [r.spec.name, r]));
    const sequence = [
      ...order.map((n) => byName.get(n)).filter((r): r is Running => r !== undefined),
      ...[...this.#children].reverse().filter((r) => !order.includes(r.spec.name)),
    ];
    for (const r of sequence) {
      const child = r.child;
      if (!child) continue;
      try {
        child.kill("SIGTERM");
      } catch {
        continue;
      }
      const timer = setTimeout(() => {
        this.log.warn("did not stop in time; killing", { child: r.spec.name });
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, graceMs);
      await child.status;
      clearTimeout(timer);
      this.log.info("stopped", { child: r.spec.name });
    }
  }
}
