/**
 * `deno task bench [--quick|--smoke] [--only a,b] [--out DIR] [--profile]`:
 * the throughput/latency benchmark behind README.md's Performance section.
 *
 * Starts its own nats-server (file storage, temp dir), runs each scenario
 * in fresh processes, prints one JSON line per scenario on stdout and a
 * table, and writes `results.json` and `rates.svg` to the output dir
 * (default `bench-results/`). Exits 0 when every scenario ran (targets
 * missed are reported, not fatal), 1 when one crashed.
 *
 * @module
 */
import { connect } from "nats";
import { parseArgs } from "node:util";
import { writeFramesFile } from "./frames.ts";
import { NatsServer } from "../../testing/nats_server.ts";
import { measureMemoryTouch } from "./memory_gauge.ts";
import { summarizeProfile } from "./profile.ts";
import { formatTable, resultLine, type ScenarioResult, writeResults } from "./results.ts";
import {
  type BenchContext,
  type Scale,
  SCALES,
  type Scenario,
  SCENARIOS,
  Scope,
  settleTargets,
} from "./scenarios/mod.ts";
import { renderRatesSvg } from "./svg.ts";
import { requireNatsServer } from "../../services/runtime/nats_server_bin.ts";

const USAGE = `bench — Lagermeister's throughput and latency benchmark

Usage: deno task bench [--quick | --smoke] [--only NAMES] [--repeat N] [--out DIR] [--profile]

  --quick        smaller runs, once each: the whole bench in under a minute
  --smoke        tiny runs (a few thousand messages, 200 idle connections), for tests
  --repeat N     runs of each throughput scenario, in rounds (every scenario once,
                 then again); the median run is reported (default 3 for the full
                 bench, 1 with --quick or --smoke)
  --only NAMES   comma-separated scenarios to run (baseline first if ratios matter)
  --out DIR      where results.json and rates.svg go (default bench-results)
  --profile      write CPU profiles of the programs under test to DIR/profiles
                 and print their hottest functions

  BENCH_SUB_ENV='{"SUB_POSTERS":"8"}' overrides the subscriber's env vars in the
  subscriber and end-to-end scenarios (defaults: batch 1000, 4 MiB, 4 posters).
  BENCH_E2E_RATE=40000 offers the end-to-end scenarios that many lines/s instead.
  BENCH_E2E_SECONDS=60 runs the end-to-end generator that long (default 15 s full).
  BENCH_NATS_PROFILE=28999 starts nats-server with --profile 28999: Go's pprof at
                 http://127.0.0.1:28999/debug/pprof/ while the bench runs.

Scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.description}`).join("\n")}

Prints one JSON line per scenario on stdout, then a table. Exits 0 when
every scenario ran (missed targets are reported as FAIL), 1 when one crashed.`;

function fail(message: string): never {
  console.error(`bench: ${message}`);
  Deno.exit(2);
}

/** A positive integer from env var `name`, or undefined when unset. */
function envPositiveInt(name: string): number | undefined {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) fail(`${name} must be a positive integer, got ${raw}`);
  return n;
}

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      only: { type: "string" },
      out: { type: "string", default: "bench-results" },
      profile: { type: "boolean", default: false },
      repeat: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
} catch (err) {
  fail(`${(err as Error).message}\n\n${USAGE}`);
}
const opts = parsed.values;
if (opts.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const chosenScale: Scale = opts.smoke ? SCALES.smoke : opts.quick ? SCALES.quick : SCALES.full;
const e2eSeconds = envPositiveInt("BENCH_E2E_SECONDS");
const scale: Scale = e2eSeconds === undefined ? chosenScale : { ...chosenScale, e2eSeconds };
const natsProfilePort = envPositiveInt("BENCH_NATS_PROFILE");
const repeat = opts.repeat === undefined ? scale.repeat : Number(opts.repeat);
if (!Number.isInteger(repeat) || repeat < 1) {
  fail(`--repeat must be a positive integer, got ${opts.repeat}`);
}
const only = opts.only?.split(",").map((s) => s.trim()).filter((s) => s !== "");
for (const name of only ?? []) {
  if (!SCENARIOS.some((s) => s.name === name)) {
    fail(
      `unknown scenario ${JSON.stringify(name)}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`,
    );
  }
}
const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.name));
const outDir = opts.out!;
const note = (msg: string) => console.error(`[bench] ${msg}`);

const started = new Date();
const loadAverage = Deno.loadavg();
if (loadAverage[0] > 0.5) {
  note(
    `machine not idle (load average ${
      loadAverage.map((l) => l.toFixed(2)).join(" ")
    }): numbers will be noisy`,
  );
}
note(`mode ${scale.name}: ${scenarios.map((s) => s.name).join(", ")}`);
const memory = measureMemoryTouch();
note(
  `memory: ${memory.fresh_gb_s} GB/s written fresh, ${memory.reused_gb_s} GB/s reused` +
    (memory.fresh_gb_s * 10 < memory.reused_gb_s
      ? " (fresh memory is dear here: whatever grows pays for it)"
      : ""),
);

const work = await Deno.makeTempDir({ prefix: "lm-bench-" });
const framesFile = `${work}/frames.bin`;
await writeFramesFile(framesFile);
const absoluteOut = outDir.startsWith("/") ? outDir : `${Deno.cwd()}/${outDir}`;
const profileDir = opts.profile ? `${absoluteOut}/profiles` : undefined;
if (profileDir) await Deno.mkdir(profileDir, { recursive: true });

const nats = await NatsServer.start(
  natsProfilePort === undefined ? {} : { args: ["--profile", String(natsProfilePort)] },
);
const nc = await connect({ servers: nats.url, name: "bench", noAsyncTraces: true });
const results: ScenarioResult[] = [];
const ctx: BenchContext = {
  nats,
  nc,
  framesFile,
  scale,
  done: new Map(),
  profileDir,
  note,
};

/** Runs a scenario once in its own scope; a crash becomes an "error" result. */
async function runOnce(scenario: Scenario): Promise<ScenarioResult> {
  const scope = new Scope();
  try {
    return await scenario.run(ctx, scope);
  } catch (err) {
    return {
      scenario: scenario.name,
      status: "error",
      reason: (err instanceof Error ? err.message : String(err)).split("\n").slice(0, 3).join(
        " | ",
      ),
      targets: [],
    };
  } finally {
    await scope.close();
  }
}

/** The run with the median rate (a failed run wins: it is reported). */
function median(runs: ScenarioResult[]): ScenarioResult {
  const bad = runs.find((r) => r.status !== "ok");
  if (bad || runs.length === 1) return bad ?? runs[0];
  const sorted = [...runs].sort((a, b) => (a.msgs_per_s ?? 0) - (b.msgs_per_s ?? 0));
  const mid = sorted[Math.floor(sorted.length / 2)];
  mid.extra = {
    ...mid.extra,
    runs_msgs_per_s: runs.map((r) => Math.round(r.msgs_per_s ?? 0)).join(" "),
  };
  return mid;
}

try {
  // Round by round: every scenario once, then the repeatable ones again. The VM's
  // speed drifts over minutes; interleaved runs let a slow phase touch every scenario
  // alike instead of all runs of one, so ratios between scenarios hold better.
  const runs = new Map<string, ScenarioResult[]>(scenarios.map((s) => [s.name, []]));
  const spent = new Map<string, number>();
  for (let round = 0; round < repeat; round++) {
    for (const scenario of scenarios) {
      const mine = runs.get(scenario.name)!;
      if (round > 0 && (!scenario.repeatable || mine.some((r) => r.status !== "ok"))) continue;
      if (round === 0) note(`${scenario.name}: ${scenario.description}`);
      const t0 = performance.now();
      const run = await runOnce(scenario);
      spent.set(scenario.name, (spent.get(scenario.name) ?? 0) + performance.now() - t0);
      mine.push(run);
      // Later scenarios compare against the median so far (the end-to-end load uses tcp-1's).
      ctx.done.set(scenario.name, median([...mine]));
      if (repeat > 1 && scenario.repeatable) {
        note(`${scenario.name} run ${round + 1}: ${Math.round(run.msgs_per_s ?? 0)} msgs/s`);
      }
    }
  }
  for (const scenario of scenarios) {
    const result = median(runs.get(scenario.name)!);
    ctx.done.set(scenario.name, result);
    results.push(result);
  }
  // Targets that compare with other scenarios are checked against their final medians.
  for (const result of results) {
    settleTargets(ctx, result);
    const seconds = (spent.get(result.scenario) ?? 0) / 1000;
    note(`${result.scenario}: ${result.status} in ${seconds.toFixed(1)} s`);
    console.log(resultLine(result));
    if (profileDir) {
      for await (const e of Deno.readDir(profileDir)) {
        if (e.name.startsWith(`${result.scenario}-`) && e.name.endsWith(".cpuprofile")) {
          note(await summarizeProfile(`${profileDir}/${e.name}`, 20));
        }
      }
    }
  }
} finally {
  await nc.close().catch(() => {});
  await nats.dispose();
  await Deno.remove(work, { recursive: true }).catch(() => {});
}

const natsBin = await requireNatsServer();
console.log("");
console.log(`nats-server ${natsBin.version} (${natsBin.path})`);
console.log(formatTable(results));
console.log(
  `\nmemory: ${memory.fresh_gb_s} GB/s written fresh, ${memory.reused_gb_s} GB/s reused (memory_gauge.ts)`,
);
const file = await writeResults(outDir, {
  started: started.toISOString(),
  mode: scale.name,
  deno: Deno.version.deno,
  natsServer: `${natsBin.path} ${natsBin.version}`,
  cpus: navigator.hardwareConcurrency,
  loadAverage,
  memory,
}, results);
await Deno.writeTextFile(`${outDir}/rates.svg`, renderRatesSvg(results));
console.log(`\nresults: ${file}, chart: ${outDir}/rates.svg`);
Deno.exit(results.some((r) => r.status === "error") ? 1 : 0);
