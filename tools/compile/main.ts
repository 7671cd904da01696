/**
 * `deno task compile [--out-dir DIR] [--no-check] [PROGRAM...]`: builds
 * standalone binaries of the programs into `bin/` with `deno compile`
 * (each with its task's permissions baked in; the stats proxy with the
 * dashboard embedded), then runs each with `--help` to prove it works.
 *
 * `deno compile` needs denort (Deno's runtime without the CLI): it is
 * downloaded from the Deno release site, or taken from the file named by
 * the `DENORT_BIN` env var (passed through). Exits 1 when anything failed.
 *
 * @module
 */
import { errorMessage } from "../../services/runtime/async.ts";
import { readDashboard } from "../../services/stats_proxy/assets.ts";
import { bundleDashboard } from "../bundle/bundle.ts";
import {
  checkDenortBin,
  type CompileResult,
  compileTarget,
  DENORT_HINT,
  denortUrl,
  smokeTest,
} from "./compile.ts";
import { COMPILE_TARGETS, type CompileTarget, selectTargets } from "./programs.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");

const USAGE = `compile — builds standalone binaries of the Lagermeister programs with deno compile

Usage: deno task compile [--out-dir DIR] [--no-check] [PROGRAM...]

  PROGRAM        ${COMPILE_TARGETS.map((t) => t.name).join(", ")} (default: all)
  --out-dir DIR  where the binaries go (default: bin/)
  --no-check     skip type checking

Environment:
  DENORT_BIN     a denort binary of Deno ${Deno.version.deno} (denort-${Deno.build.target});
                 without it deno compile downloads ${denortUrl()}
`;

/** Parsed command line. */
interface Args {
  names: string[];
  outDir: string;
  noCheck: boolean;
}

function parseArgs(argv: string[]): Args | "help" {
  const a: Args = { names: [], outDir: `${ROOT}/bin`, noCheck: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    else if (arg === "--no-check") a.noCheck = true;
    else if (arg === "--out-dir") {
      const dir = argv[++i];
      if (!dir) throw new Error("--out-dir needs a folder");
      a.outDir = dir;
    } else if (arg.startsWith("--out-dir=")) a.outDir = arg.slice("--out-dir=".length);
    else if (arg.startsWith("-")) throw new Error(`unknown option ${arg}`);
    else a.names.push(arg);
  }
  if (!a.outDir.startsWith("/")) a.outDir = `${Deno.cwd()}/${a.outDir}`;
  return a;
}

function say(line: string): void {
  console.error(`compile: ${line}`);
}

function describe(r: CompileResult): string {
  const rel = r.file.startsWith(`${ROOT}/`) ? r.file.slice(ROOT.length + 1) : r.file;
  if (!r.ok) return `${rel}: FAILED: ${r.error}`;
  return `${rel}  ${((r.bytes ?? 0) / 1e6).toFixed(1)} MB  ${(r.ms / 1000).toFixed(1)} s`;
}

/**
 * Bundles the dashboard when stale, so the stats proxy binary embeds a
 * current one. Returns why it cannot be embedded, or undefined.
 */
async function prepareDashboard(): Promise<string | undefined> {
  try {
    if (await bundleDashboard({ ifStale: true })) say("dashboard bundled into dashboard/dist/");
  } catch (err) {
    return `the dashboard bundle failed (run \`deno task bundle\`): ${errorMessage(err)}`;
  }
  const assets = await readDashboard();
  return assets.files.size === 0 ? assets.problem : undefined;
}

/** Compiles the targets, two at a time after a first one that proves denort is usable. */
async function compileAll(targets: CompileTarget[], a: Args): Promise<CompileResult[]> {
  const opts = { root: ROOT, outDir: a.outDir, noCheck: a.noCheck };
  const results: CompileResult[] = [];
  if (targets.length === 0) return results;
  const first = await compileTarget(targets[0], opts);
  say(describe(first));
  results.push(first);
  if (!first.ok && first.error?.includes(DENORT_HINT)) return results;
  const queue = targets.slice(1);
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const r = await compileTarget(t, opts);
      say(describe(r));
      if (!r.ok && !r.error?.includes(DENORT_HINT) && r.output) console.error(r.output);
      results.push(r);
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

async function main(argv: string[]): Promise<number> {
  let a: Args | "help";
  let targets: CompileTarget[];
  try {
    a = parseArgs(argv);
    if (a === "help") {
      console.log(USAGE);
      return 0;
    }
    targets = selectTargets(a.names);
  } catch (err) {
    console.error(`compile: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const denortProblem = await checkDenortBin(Deno.env.get("DENORT_BIN"));
  if (denortProblem) {
    say(denortProblem);
    return 1;
  }
  say(
    Deno.env.get("DENORT_BIN")
      ? `using DENORT_BIN=${Deno.env.get("DENORT_BIN")}`
      : `denort: downloaded by deno compile unless cached (${DENORT_HINT} to build offline)`,
  );
  const refused: CompileResult[] = [];
  if (targets.some((t) => t.name === "stats_proxy")) {
    const problem = await prepareDashboard();
    if (problem) {
      const t = targets.find((t) => t.name === "stats_proxy")!;
      refused.push({
        target: t,
        file: `${a.outDir}/${t.name}`,
        ok: false,
        ms: 0,
        error: problem,
        output: "",
      });
      say(describe(refused[0]));
      targets = targets.filter((t) => t.name !== "stats_proxy");
    }
  }
  await Deno.mkdir(a.outDir, { recursive: true });
  const results = [...refused, ...await compileAll(targets, a)];
  const all = targets.length + refused.length;
  let failed = results.filter((r) => !r.ok).length + (all - results.length);
  if (results.length < all) {
    say(`stopped: the other ${all - results.length} program(s) would fail the same way`);
  }
  for (const r of results.filter((r) => r.ok)) {
    const problem = await smokeTest(r);
    if (problem) {
      say(problem);
      failed++;
    }
  }
  if (failed > 0) {
    say(`${failed} of ${all} failed`);
    const denort = results.find((r) => r.error?.includes(DENORT_HINT));
    if (denort) say(denort.error!);
    return 1;
  }
  say(`${results.length} binaries in ${a.outDir} (each ran --help)`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
