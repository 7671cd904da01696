/**
 * Building standalone binaries with `deno compile`: the command line of
 * each program, checking `DENORT_BIN`, explaining failures (denort cannot
 * be downloaded), and a `--help` smoke run of what was built.
 *
 * `deno compile` appends the program to `denort`, Deno's runtime without
 * the CLI, which it downloads from the Deno release site unless the
 * `DENORT_BIN` env var names a local copy (passed through unchanged).
 *
 * @module
 */
import type { CompileTarget } from "./programs.ts";
import { errorMessage } from "../../services/runtime/async.ts";

/** Options of {@link compileTarget}. */
export interface CompileOptions {
  /** Repository root (the cwd of `deno compile`). */
  root: string;
  /** Folder the binaries go to. */
  outDir: string;
  /** The deno executable. */
  deno?: string;
  /** Skip type checking (`--no-check`). */
  noCheck?: boolean;
  /** Environment of `deno compile` (DENORT_BIN among it); the current one by default. */
  env?: Record<string, string>;
}

/** What compiling one program gave. */
export interface CompileResult {
  target: CompileTarget;
  /** Path of the binary. */
  file: string;
  ok: boolean;
  ms: number;
  /** Size in bytes, when built. */
  bytes?: number;
  /** Why it failed: one line for the operator, then `deno compile`'s own output. */
  error?: string;
  /** `deno compile`'s stderr. */
  output: string;
}

/** The text that tells to set DENORT_BIN (tests and docs look for it). */
export const DENORT_HINT = "set DENORT_BIN to a denort binary";

/** Where `deno compile` downloads denort from for this Deno (what the probe asks for). */
export function denortUrl(
  version: string = Deno.version.deno,
  target: string = Deno.build.target,
): string {
  return `https://dl.deno.land/release/v${version}/denort-${target}.zip`;
}

/** The `deno compile` arguments for a program. */
export function compileArgs(
  t: CompileTarget,
  outFile: string,
  o: { noCheck?: boolean } = {},
): string[] {
  // Only the npm packages the program imports (not every package of deno.lock).
  const args = ["compile", "--exclude-unused-npm", ...t.permissions];
  if (o.noCheck) args.push("--no-check");
  for (const inc of t.include) args.push("--include", inc);
  args.push("--output", outFile, t.entry);
  return args;
}

/**
 * Turns `deno compile`'s stderr into one clear line when the cause is
 * known (denort not downloadable, a bad DENORT_BIN), else undefined.
 */
export function explainCompileFailure(stderr: string): string | undefined {
  const text = stderr; // deno compile runs with NO_COLOR=1: no escape codes
  if (/denort|dl\.deno\.land|Setting up base binary/i.test(text)) {
    const network = /error sending request|dns error|lookup address|Connect|timed out|certificate/i
      .test(text);
    return network
      ? `deno compile could not download denort (${denortUrl()}): ${DENORT_HINT} ` +
        "(the denort-<target>.zip of the same Deno release, unzipped) or make the download reachable"
      : `deno compile could not set up denort: ${DENORT_HINT} of Deno ${Deno.version.deno}`;
  }
  return undefined;
}

/**
 * Checks `DENORT_BIN` when set: an existing file, and not the `deno` CLI
 * itself (a binary built on it only starts Deno's REPL). Returns a problem
 * or undefined.
 */
export async function checkDenortBin(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return `DENORT_BIN=${path} does not exist: ${DENORT_HINT}`;
  }
  if (!info.isFile) return `DENORT_BIN=${path} is not a file: ${DENORT_HINT}`;
  try {
    const out = await runWithTimeout(path, ["--version"], 5000);
    if (/^deno \d+\.\d+/m.test(out.stdout)) {
      return `DENORT_BIN=${path} is the deno CLI, not denort: ${DENORT_HINT} (denort-${Deno.build.target} of Deno ${Deno.version.deno})`;
    }
  } catch {
    // denort without an embedded program refuses to run; that is expected
  }
  return undefined;
}

/** Output of a finished (or killed) command. */
interface RunOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with stdin closed, killing it (by its pid) after `ms`. */
export async function runWithTimeout(cmd: string, args: string[], ms: number): Promise<RunOutput> {
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, ms);
  try {
    const out = await child.output();
    const d = new TextDecoder();
    return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** Compiles one program into `<outDir>/<name>`. */
export async function compileTarget(t: CompileTarget, o: CompileOptions): Promise<CompileResult> {
  const file = `${o.outDir.replace(/\/$/, "")}/${t.name}`;
  const t0 = performance.now();
  const missing = t.include.filter((inc) => !exists(`${o.root}/${inc}`));
  if (!exists(`${o.root}/${t.entry}`) || missing.length > 0) {
    const what = missing.length > 0 ? missing.join(", ") : t.entry;
    return {
      target: t,
      file,
      ok: false,
      ms: 0,
      error: `${what} not found${t.name === "stats_proxy" ? " (run `deno task bundle`)" : ""}`,
      output: "",
    };
  }
  const out = await new Deno.Command(o.deno ?? Deno.execPath(), {
    args: compileArgs(t, file, o),
    cwd: o.root,
    env: { NO_COLOR: "1", ...o.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  const output = (d.decode(out.stderr) + d.decode(out.stdout)).trim();
  const ms = Math.round(performance.now() - t0);
  if (!out.success) {
    const why = explainCompileFailure(output) ?? `deno compile exited with ${out.code}`;
    return { target: t, file, ok: false, ms, error: why, output };
  }
  const bytes = (await Deno.stat(file)).size;
  return { target: t, file, ok: true, ms, bytes, output };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `<binary> --help` and checks it printed the program's own help
 * (first line `<name> — …`). Returns a problem or undefined.
 */
export async function smokeTest(r: CompileResult): Promise<string | undefined> {
  let out: RunOutput;
  try {
    out = await runWithTimeout(r.file, ["--help"], 15_000);
  } catch (err) {
    return `${r.file} --help could not run: ${errorMessage(err)}`;
  }
  const text = out.stdout + out.stderr;
  const name = r.target.name.replace(/_/g, "[_-]");
  if (out.code === 0 && new RegExp(`^${name}\\b`, "m").test(text)) return undefined;
  if (/deno \[OPTIONS\]|A modern JavaScript and TypeScript runtime|Deno \d+\.\d+/.test(text)) {
    return `${r.file} runs the deno CLI instead of the program: DENORT_BIN must be denort, not deno`;
  }
  return `${r.file} --help exited with ${out.code} and did not print its help:\n${
    text.slice(0, 800)
  }`;
}
