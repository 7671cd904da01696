/**
 * Child processes of the bench: Deno programs (the program under test and
 * load sources), each fresh per scenario, with stderr kept for errors and
 * JSON event lines read from stdout.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);
const KEEP_STDERR = 64 * 1024;

/** Absolute path of a file in the repository. */
export function repoPath(rel: string): string {
  return new URL(rel, ROOT).pathname;
}

/** A JSON line a bench program prints on stdout: `{"event": "...", ...}`. */
export type ChildEvent = { event: string } & Record<string, unknown>;

/** Options of {@link Child.deno}. */
export interface ChildOptions {
  /** Added to the environment. */
  env?: Record<string, string>;
  /** Program arguments. */
  args?: string[];
  /** Flags of `deno run` before the script (e.g. `--cpu-prof`). */
  denoFlags?: string[];
  /** Open files the child needs; its soft limit is raised (up to the hard one) via bash. */
  fdLimit?: number;
}

/** A running Deno program. */
export class Child {
  readonly name: string;
  readonly #child: Deno.ChildProcess;
  readonly status: Promise<Deno.CommandStatus>;
  readonly #events: ChildEvent[] = [];
  readonly #pumps: Promise<void>[];
  #stderr = "";
  exited: Deno.CommandStatus | undefined;

  private constructor(name: string, child: Deno.ChildProcess) {
    this.name = name;
    this.#child = child;
    this.status = child.status.then((s) => this.exited = s);
    this.#pumps = [this.#pumpStderr(child.stderr), this.#pumpStdout(child.stdout)];
  }

  /** Starts `deno run --allow-all [flags] <script> [args]` from the repository root. */
  static deno(name: string, script: string, o: ChildOptions = {}): Child {
    const deno = [Deno.execPath(), "run", "--allow-all", ...(o.denoFlags ?? []), repoPath(script)];
    const argv = [...deno, ...(o.args ?? [])];
    const cmd = o.fdLimit
      ? new Deno.Command("bash", {
        args: [
          "-c",
          `ulimit -n ${o.fdLimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`,
          "bash",
          ...argv,
        ],
        env: { NO_COLOR: "1", ...o.env },
        cwd: repoPath("."),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      })
      : new Deno.Command(argv[0], {
        args: argv.slice(1),
        env: { NO_COLOR: "1", ...o.env },
        cwd: repoPath("."),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
    return new Child(name, cmd.spawn());
  }

  /** The process id (the program's own, also when started through bash). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The last 64 KiB written to stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  async #pumpStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    const d = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.#stderr += d.decode(chunk, { stream: true });
        if (this.#stderr.length > 2 * KEEP_STDERR) this.#stderr = this.#stderr.slice(-KEEP_STDERR);
      }
    } catch {
      // closed
    }
  }

  async #pumpStdout(stream: ReadableStream<Uint8Array>): Promise<void> {
    const d = new TextDecoder();
    let rest = "";
    try {
      for await (const chunk of stream) {
        rest += d.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (!line.startsWith("{")) continue;
          try {
            const ev = JSON.parse(line);
            if (ev && typeof ev.event === "string") this.#events.push(ev);
          } catch {
            // not an event
          }
        }
      }
    } catch {
      // closed
    }
  }

  #fail(what: string, ms: number): never {
    throw new Error(
      `${this.name}: ${what} not seen within ${ms} ms (exit: ${
        this.exited ? this.exited.code : "running"
      }); stderr tail:\n${this.#stderr.slice(-3000)}`,
    );
  }

  /** Waits until stderr matches `pattern`. */
  async waitFor(pattern: RegExp, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (pattern.test(this.#stderr)) return;
      if (this.exited) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    if (pattern.test(this.#stderr)) return;
    this.#fail(String(pattern), ms);
  }

  /** Waits for the stdout event named `name`. */
  async event(name: string, ms = 60_000): Promise<ChildEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const ev = this.#events.find((e) => e.event === name);
      if (ev) return ev;
      if (this.exited || Date.now() > deadline) {
        await new Promise((r) => setTimeout(r, 50)); // let the pump catch up
        const late = this.#events.find((e) => e.event === name);
        if (late) return late;
        this.#fail(`event ${name}`, ms);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Sends `signal` and waits up to `ms` for the exit (then SIGKILL). */
  async stop(signal: Deno.Signal = "SIGTERM", ms = 20_000): Promise<Deno.CommandStatus> {
    if (!this.exited) {
      try {
        this.#child.kill(signal);
      } catch {
        // already gone
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.status,
      new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms)),
    ]);
    clearTimeout(timer);
    if (!status) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // gone
      }
      await this.status;
    }
    await Promise.all(this.#pumps);
    return this.exited!;
  }

  /** Waits for the exit (up to `ms`, then SIGKILL). */
  async wait(ms = 120_000): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.status,
      new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms)),
    ]);
    clearTimeout(timer);
    if (!status) return await this.stop("SIGKILL");
    await Promise.all(this.#pumps);
    return status;
  }
}
