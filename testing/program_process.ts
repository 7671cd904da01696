/**
 * A Lagermeister program (or a bench load tool) as a real child process:
 * `deno run --allow-all <script>` from the repository root, stdout and
 * stderr collected, JSON event lines read from stdout as they come (the
 * readiness line of `services/runtime/ready.ts`, the bench tools'
 * `start`/`done`), stopped or killed by its pid.
 *
 * @module
 */
import type { ReadyLine } from "../services/runtime/ready.ts";
import { sleep, withTimeout } from "../services/runtime/async.ts";

const ROOT = new URL("../", import.meta.url);

/** Absolute path of a file in the repository. */
export function repoPath(rel: string): string {
  return new URL(rel, ROOT).pathname;
}

/** A JSON line a program prints on stdout: `{"event": "...", ...}`. */
export type ProgramEvent = { event: string } & Record<string, unknown>;

/** Options of {@link ProgramProcess.start} beyond env and args. */
export interface ProgramOptions {
  /** Name in error messages (default: the script's file name). */
  name?: string;
  /** Flags of `deno run` before the script (e.g. `--cpu-prof`). */
  denoFlags?: string[];
  /** Open files the child needs; its soft limit is raised (up to the hard one) via bash. */
  fdLimit?: number;
  /** Keep only about the last this many characters of stdout and stderr (default: all). */
  keepOutput?: number;
  /** Also copy the program's output to this process's stderr (for debugging a test). */
  echo?: boolean;
  /** Start from an empty environment: only `env` (and NO_COLOR) is passed. */
  clearEnv?: boolean;
}

/** A running program. */
export class ProgramProcess {
  readonly name: string;
  readonly #child: Deno.ChildProcess;
  /** Resolves with the exit status when the program exits (its output may still be in the pipe). */
  readonly status: Promise<Deno.CommandStatus>;
  readonly #pumps: Promise<void>[];
  readonly #events: ProgramEvent[] = [];
  readonly #keep: number;
  readonly #echo: boolean;
  #stdout = "";
  #stderr = "";
  /** Resolves (and is replaced) whenever output arrives or the program exits. */
  #changed!: Promise<void>;
  #notify!: () => void;
  /** The exit status, once the program has exited. */
  exited: Deno.CommandStatus | undefined;

  private constructor(name: string, child: Deno.ChildProcess, keep: number, echo: boolean) {
    this.name = name;
    this.#child = child;
    this.#keep = keep;
    this.#echo = echo;
    this.#rearm();
    this.status = child.status.then((s) => {
      this.exited = s;
      this.#notify();
      return s;
    });
    this.#pumps = [this.#pump(child.stderr, false), this.#pump(child.stdout, true)];
  }

  /**
   * Starts `deno run --allow-all [denoFlags] <script> [args]` from the
   * repository root with `env` added to the environment (and NO_COLOR=1).
   */
  static start(
    script: string,
    env: Record<string, string> = {},
    args: string[] = [],
    o: ProgramOptions = {},
  ): ProgramProcess {
    const argv = [
      Deno.execPath(),
      "run",
      "--allow-all",
      ...(o.denoFlags ?? []),
      repoPath(script),
      ...args,
    ];
    return ProgramProcess.spawn(argv, env, {
      name: script.slice(script.lastIndexOf("/") + 1),
      ...o,
    });
  }

  /**
   * Starts any executable: `argv[0]` with the rest as arguments, from the
   * repository root, with `env` added to the environment (and NO_COLOR=1).
   */
  static spawn(
    argv: string[],
    env: Record<string, string> = {},
    o: Omit<ProgramOptions, "denoFlags"> = {},
  ): ProgramProcess {
    const [command, ...rest] = o.fdLimit
      ? [
        "bash",
        "-c",
        `ulimit -n ${o.fdLimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`,
        "bash",
        ...argv,
      ]
      : argv;
    const child = new Deno.Command(command, {
      args: rest,
      env: { NO_COLOR: "1", ...env },
      clearEnv: o.clearEnv,
      cwd: repoPath("."),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const name = o.name ?? argv[0].slice(argv[0].lastIndexOf("/") + 1);
    return new ProgramProcess(name, child, o.keepOutput ?? Infinity, o.echo ?? false);
  }

  /** Runs a program to completion and returns its exit code and output. */
  static async run(
    script: string,
    env: Record<string, string> = {},
    args: string[] = [],
    stdin?: Uint8Array,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", repoPath(script), ...args],
      env: { NO_COLOR: "1", ...env },
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Read the output while writing the input: a child may fill its stdout
    // pipe before it has read all of stdin.
    const output = child.output();
    if (stdin) {
      const w = child.stdin.getWriter();
      await w.write(stdin);
      await w.close();
    }
    const out = await output;
    const d = new TextDecoder();
    return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
  }

  /** The process id (the program's own, also when started through bash). */
  get pid(): number {
    return this.#child.pid;
  }

  /** What the program wrote to stderr so far (its tail with `keepOutput`). */
  get stderr(): string {
    return this.#stderr;
  }

  /** What the program wrote to stdout so far (its tail with `keepOutput`). */
  get stdout(): string {
    return this.#stdout;
  }

  #rearm(): void {
    this.#changed = new Promise((resolve) => this.#notify = resolve);
  }

  #trim(text: string): string {
    return text.length > 2 * this.#keep ? text.slice(-this.#keep) : text;
  }

  async #pump(stream: ReadableStream<Uint8Array>, isStdout: boolean): Promise<void> {
    const d = new TextDecoder();
    let partial = "";
    try {
      for await (const chunk of stream) {
        if (this.#echo) await Deno.stderr.write(chunk);
        const text = d.decode(chunk, { stream: true });
        if (isStdout) {
          this.#stdout = this.#trim(this.#stdout + text);
          partial += text;
          let nl: number;
          while ((nl = partial.indexOf("\n")) >= 0) {
            this.#readEvent(partial.slice(0, nl).trim());
            partial = partial.slice(nl + 1);
          }
        } else {
          this.#stderr = this.#trim(this.#stderr + text);
        }
        const notify = this.#notify;
        this.#rearm();
        notify();
      }
    } catch {
      // closed
    }
  }

  #readEvent(line: string): void {
    if (!line.startsWith("{")) return;
    try {
      const ev = JSON.parse(line);
      if (ev && typeof ev.event === "string") this.#events.push(ev);
    } catch {
      // not an event
    }
  }

  /**
   * Waits until `found()` gives a value (checked on every output), or
   * throws after `ms` or once the program has exited without it.
   */
  async #until<T>(found: () => T | undefined, what: string, ms: number): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = found();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0) break;
      if (this.exited) {
        await Promise.all(this.#pumps); // the last output may still be in the pipe
        const late = found();
        if (late !== undefined) return late;
        break;
      }
      await withTimeout(this.#changed, Math.min(left, 100));
    }
    throw new Error(
      `${this.name}: ${what} not seen within ${ms} ms (exit: ${
        this.exited ? this.exited.code : "running"
      }); stderr tail:\n${this.#stderr.slice(-4000)}`,
    );
  }

  /** Waits until stderr matches `pattern` (or throws after `ms`, showing stderr). */
  async waitFor(pattern: RegExp, ms = 20_000): Promise<void> {
    await this.#until(() => pattern.test(this.#stderr) || undefined, String(pattern), ms);
  }

  /** Waits for the first stdout event named `name` and returns it. */
  event(name: string, ms = 60_000): Promise<ProgramEvent> {
    return this.#until(() => this.#events.find((e) => e.event === name), `event ${name}`, ms);
  }

  /**
   * Waits for the program's readiness line (`{"event":"ready",…}` on stdout,
   * see services/runtime/ready.ts) and returns it; throws after `ms` or
   * when the program exits first, showing stderr.
   */
  async waitReady(ms = 20_000): Promise<ReadyLine> {
    return await this.event("ready", ms) as unknown as ReadyLine;
  }

  /** Sends `signal` without waiting (ignored when the program is gone). */
  signal(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Waits for the exit and the end of its output. */
  async exit(): Promise<Deno.CommandStatus> {
    const status = await this.status;
    await Promise.all(this.#pumps);
    return status;
  }

  /**
   * Sends `signal` (SIGTERM by default) and waits for the exit; after `ms`
   * it kills the program and throws.
   */
  async stop(signal: Deno.Signal = "SIGTERM", ms = 40_000): Promise<Deno.CommandStatus> {
    if (!this.exited) this.signal(signal);
    const status = await withTimeout(this.status, ms);
    if (!status) {
      this.signal("SIGKILL");
      await this.status;
      throw new Error(
        `${this.name} did not exit within ${ms} ms of ${signal}; stderr:\n${
          this.#stderr.slice(-4000)
        }`,
      );
    }
    await Promise.all(this.#pumps);
    return status;
  }

  /** SIGKILL, as a crash. */
  kill(): Promise<Deno.CommandStatus> {
    return this.stop("SIGKILL");
  }

  /** Waits for the program to exit on its own (up to `ms`, then SIGKILL). */
  async wait(ms = 120_000): Promise<Deno.CommandStatus> {
    if (!await withTimeout(this.status, ms)) this.signal("SIGKILL");
    return await this.exit();
  }
}

/** Waits until a TCP port on loopback accepts connections. */
export async function waitForPort(port: number, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await sleep(25);
    }
  }
  throw new Error(`port ${port} not listening after ${ms} ms`);
}
