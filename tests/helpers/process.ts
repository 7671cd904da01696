/**
 * Running a Lagermeister program as a real child process in tests, with its
 * stderr captured.
 *
 * @module
 */
import { findReadyLine, type ReadyLine } from "../../services/runtime/ready.ts";

const ROOT = new URL("../../", import.meta.url);

/** Absolute path of a file in the repository. */
export function repoPath(rel: string): string {
  return new URL(rel, ROOT).pathname;
}

/** A running program. */
export class ServiceProcess {
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  #stderr = "";
  #stdout = "";
  readonly #pumps: Promise<void>[];
  exited: Deno.CommandStatus | undefined;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#status = child.status.then((s) => this.exited = s);
    const dec = (set: (s: string) => void) => async (stream: ReadableStream<Uint8Array>) => {
      const d = new TextDecoder();
      for await (const chunk of stream) set(d.decode(chunk, { stream: true }));
    };
    this.#pumps = [
      dec((s) => this.#stderr += s)(child.stderr).catch(() => {}),
      dec((s) => this.#stdout += s)(child.stdout).catch(() => {}),
    ];
  }

  /** Starts `deno run --allow-all <script> ...args` with `env` added to the environment. */
  static start(script: string, env: Record<string, string>, args: string[] = []): ServiceProcess {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", repoPath(script), ...args],
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new ServiceProcess(child);
  }

  /** Runs a program to completion and returns its exit code and output. */
  static async run(
    script: string,
    env: Record<string, string>,
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

  get pid(): number {
    return this.#child.pid;
  }

  /** Everything written to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  get stdout(): string {
    return this.#stdout;
  }

  /** Waits until stderr matches `pattern` (or throws after `ms`, showing stderr). */
  async waitFor(pattern: RegExp, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (pattern.test(this.#stderr)) return;
      if (this.exited) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(
      `${pattern} not seen in ${ms} ms (exited: ${JSON.stringify(this.exited)}); stderr:\n${
        this.#stderr.slice(-4000)
      }`,
    );
  }

  /**
   * Waits for the program's readiness line (`{"event":"ready",…}` on stdout,
   * see services/runtime/ready.ts) and returns it; throws after `ms` or
   * when the program exits first, showing stderr.
   */
  async waitReady(ms = 20_000): Promise<ReadyLine> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const line = findReadyLine(this.#stdout);
      if (line) return line;
      if (this.exited) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(
      `no readiness line in ${ms} ms (exited: ${JSON.stringify(this.exited)}); stderr:\n${
        this.#stderr.slice(-4000)
      }`,
    );
  }

  /** Sends a signal (SIGTERM by default) and waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM", ms = 40_000): Promise<Deno.CommandStatus> {
    if (!this.exited) {
      try {
        this.#child.kill(signal);
      } catch {
        // already gone
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.#status,
      new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms)),
    ]);
    clearTimeout(timer);
    if (!status) {
      this.#child.kill("SIGKILL");
      await this.#status;
      throw new Error(
        `process did not exit within ${ms} ms of ${signal}; stderr:\n${this.#stderr.slice(-4000)}`,
      );
    }
    await Promise.all(this.#pumps);
    return status;
  }

  /** SIGKILL, as a crash. */
  kill(): Promise<Deno.CommandStatus> {
    return this.stop("SIGKILL");
  }
}

/** Waits until a TCP port accepts connections. */
export async function waitForPort(port: number, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`port ${port} not listening after ${ms} ms`);
}
