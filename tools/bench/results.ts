/**
 * Bench results: one record per scenario, its JSON line, the readable
 * table, and the results file.
 *
 * @module
 */
import type { MemoryTouch } from "./memory_gauge.ts";

/** One performance target and whether it was met. */
export interface TargetCheck {
  /** e.g. `>= 0.8 x baseline`. */
  name: string;
  pass: boolean;
  /** The numbers compared, e.g. `41234 >= 40000`. */
  detail: string;
}

/** How a scenario ended. */
export type ScenarioStatus = "ok" | "skipped" | "error";

/** The outcome of one scenario (one JSON line). */
export interface ScenarioResult {
  scenario: string;
  status: ScenarioStatus;
  /** Why it was skipped or failed. */
  reason?: string;
  /** Messages counted (stored, received by the sink, …). */
  messages?: number;
  /** Message bytes (without framing) of those messages. */
  bytes?: number;
  /** Measured interval, seconds. */
  seconds?: number;
  msgs_per_s?: number;
  mb_per_s?: number;
  /** msgs/s divided by the baseline's. */
  ratio_to_baseline?: number;
  p50_ms?: number;
  p99_ms?: number;
  /** Peak RSS of the program under test, MB. */
  peak_rss_mb?: number;
  /** CPU seconds of the program under test per GB of messages. */
  cpu_s_per_gb?: number;
  targets: TargetCheck[];
  /** Scenario-specific numbers. */
  extra?: Record<string, number | string>;
  /** Sub-measurements shown as their own table rows (the micro benchmarks). */
  parts?: PartResult[];
}

/** One measurement of a scenario that has several (e.g. `splitter` of `micro`). */
export interface PartResult {
  name: string;
  /** Operations per second (frames, evaluations, lines). */
  per_s: number;
  /** What an operation is, e.g. `frames`. */
  unit: string;
  mb_per_s?: number;
}

/** Rounds for display and JSON: 3 significant digits below 100, integers above. */
export function round(n: number | undefined): number | undefined {
  if (n === undefined || !Number.isFinite(n)) return undefined;
  if (Math.abs(n) >= 100) return Math.round(n);
  return Number(n.toPrecision(3));
}

/** The JSON line of a result (rounded numbers, no undefined keys). */
export function resultLine(r: ScenarioResult): string {
  return JSON.stringify(r, (_k, v) => typeof v === "number" ? round(v) : v);
}

/** A target check. */
export function target(name: string, value: number, limit: number, op: ">=" | "<"): TargetCheck {
  const pass = op === ">=" ? value >= limit : value < limit;
  return { name, pass, detail: `${round(value)} ${op} ${round(limit)}` };
}

function cell(v: number | string | undefined): string {
  if (v === undefined) return "-";
  if (typeof v === "string") return v;
  return String(round(v));
}

/** Rows of the table for one result (micro shows one row per measurement). */
function rows(r: ScenarioResult): string[][] {
  if (r.status !== "ok") {
    return [[r.scenario, "-", "-", "-", "-", "-", "-", "-", "-", `${r.status}: ${r.reason ?? ""}`]];
  }
  const targets = r.targets.length === 0
    ? ["-", "-"]
    : [r.targets.map((t) => t.name).join("; "), r.targets.every((t) => t.pass) ? "PASS" : "FAIL"];
  const main = [
    r.scenario,
    cell(r.msgs_per_s),
    cell(r.mb_per_s),
    cell(r.ratio_to_baseline),
    cell(r.p50_ms),
    cell(r.p99_ms),
    cell(r.peak_rss_mb),
    cell(r.cpu_s_per_gb),
    ...targets,
  ];
  const out = [main];
  for (const t of r.targets.length > 1 ? r.targets : []) {
    out.push([
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      `  ${t.name}: ${t.detail}`,
      t.pass ? "PASS" : "FAIL",
    ]);
  }
  if (r.targets.length === 1) main[8] += ` (${r.targets[0].detail})`;
  for (const p of r.parts ?? []) {
    out.push([
      `  ${p.name}`,
      cell(p.per_s),
      cell(p.mb_per_s),
      "",
      "",
      "",
      "",
      "",
      `${p.unit}/s`,
      "",
    ]);
  }
  return out;
}

/** The readable table of every result. */
export function formatTable(results: ScenarioResult[]): string {
  const header = [
    "scenario",
    "msgs/s",
    "MB/s",
    "x base",
    "p50 ms",
    "p99 ms",
    "RSS MB",
    "CPU s/GB",
    "target",
    "result",
  ];
  const all = [header, ...results.flatMap(rows)];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => i === 0 || i >= 8 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...all.slice(1).map(line)]
    .join("\n");
}

/** What the results file holds besides the results. */
export interface RunInfo {
  started: string;
  mode: string;
  deno: string;
  natsServer: string;
  cpus: number;
  loadAverage: number[];
  /** The machine's price of fresh memory (`memory_gauge.ts`). */
  memory: MemoryTouch;
}

/** Writes `results.json` (run info + results) into `dir`. */
export async function writeResults(
  dir: string,
  info: RunInfo,
  results: ScenarioResult[],
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/results.json`;
  const rounded = results.map((r) => JSON.parse(resultLine(r)));
  await Deno.writeTextFile(path, JSON.stringify({ ...info, results: rounded }, null, 2) + "\n");
  return path;
}
