/**
 * Turning what a scenario measured into a {@link ScenarioResult}: rates,
 * the rates of earlier scenarios, skips, and the programs' JSON log lines.
 *
 * @module
 */
import { MESSAGE_SIZE } from "../frames.ts";
import type { ScenarioResult, TargetCheck } from "../results.ts";
import type { BenchContext } from "./context.ts";

/** The last JSON log line (`LOG_FORMAT=json`) with `msg` in a child's stderr. */
export function logLine(stderr: string, msg: string): Record<string, unknown> | undefined {
  const lines = stderr.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith("{")) continue;
    try {
      const o = JSON.parse(lines[i]);
      if (o.msg === msg) return o;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

export function skipped(scenario: string, reason: string): ScenarioResult {
  return { scenario, status: "skipped", reason, targets: [] };
}

/**
 * How each throughput result's targets are checked, and the array they
 * went into, kept to check them again once every run is in (see
 * {@link settleTargets}).
 */
const targetChecks = new WeakMap<
  ScenarioResult,
  { check: (rate: number) => TargetCheck[]; checked: TargetCheck[]; count: number }
>();

/**
 * A throughput result from counts, time, CPU and memory. Its targets are
 * checked against the rates of other scenarios known now; with repeated
 * runs, {@link settleTargets} checks them again against the final medians.
 */
export function rateResult(
  ctx: BenchContext,
  scenario: string,
  m: { messages: number; seconds: number; cpuSeconds?: number; peakRssKb?: number },
  targets: (rate: number) => TargetCheck[],
): ScenarioResult {
  const rate = m.messages / m.seconds;
  const bytes = m.messages * MESSAGE_SIZE;
  const base = ctx.done.get("baseline")?.msgs_per_s;
  const result: ScenarioResult = {
    scenario,
    status: "ok",
    messages: m.messages,
    bytes,
    seconds: m.seconds,
    msgs_per_s: rate,
    mb_per_s: bytes / 1e6 / m.seconds,
    ratio_to_baseline: base ? rate / base : undefined,
    peak_rss_mb: m.peakRssKb ? m.peakRssKb / 1024 : undefined,
    cpu_s_per_gb: m.cpuSeconds !== undefined ? m.cpuSeconds / (bytes / 1e9) : undefined,
    targets: targets(rate),
  };
  targetChecks.set(result, {
    check: targets,
    checked: result.targets,
    count: result.targets.length,
  });
  return result;
}

/**
 * Checks a result's targets and its ratio to the baseline again, against
 * the rates in `ctx.done` now (every scenario's median, once all runs are
 * in). Targets a scenario set itself in place of the checked ones, or
 * added after them, stay as they are.
 */
export function settleTargets(ctx: BenchContext, result: ScenarioResult): void {
  const t = targetChecks.get(result);
  if (result.status !== "ok" || result.msgs_per_s === undefined || t === undefined) return;
  const base = rateOf(ctx, "baseline");
  if (result.ratio_to_baseline !== undefined && base) {
    result.ratio_to_baseline = result.msgs_per_s / base;
  }
  if (result.targets !== t.checked) return;
  result.targets = [...t.check(result.msgs_per_s), ...t.checked.slice(t.count)];
}

export function rateOf(ctx: BenchContext, name: string): number | undefined {
  const r = ctx.done.get(name);
  return r?.status === "ok" ? r.msgs_per_s : undefined;
}

/**
 * The delivered rate of an earlier end-to-end scenario when it ran at its
 * capacity: it delivered under 95 % of the rate it was offered.
 */
export function saturatedRate(ctx: BenchContext, name: string): number | undefined {
  const r = ctx.done.get(name);
  const offered = Number(r?.extra?.offered_rate);
  if (r?.status !== "ok" || r.msgs_per_s === undefined || !(offered > 0)) return undefined;
  return r.msgs_per_s < 0.95 * offered ? r.msgs_per_s : undefined;
}
