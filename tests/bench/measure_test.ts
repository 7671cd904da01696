/**
 * The bench's targets between scenarios (tools/bench/scenarios/measure.ts):
 * with runs in rounds, a target such as tcp-16 ≥ tcp-1 is checked again
 * against the final medians, not the rate known when the run ended.
 */
import assert from "node:assert/strict";
import {
  rateOf,
  rateResult,
  saturatedRate,
  settleTargets,
} from "../../tools/bench/scenarios/measure.ts";
import type { BenchContext } from "../../tools/bench/scenarios/context.ts";
import { target } from "../../tools/bench/results.ts";
import type { ScenarioResult } from "../../tools/bench/results.ts";

function ok(scenario: string, msgs_per_s: number): ScenarioResult {
  return { scenario, status: "ok", msgs_per_s, targets: [] };
}

Deno.test("bench targets: checked again against the final medians of other scenarios", () => {
  const ctx = { done: new Map<string, ScenarioResult>() } as unknown as BenchContext;
  ctx.done.set("baseline", ok("baseline", 50_000));
  ctx.done.set("tcp-1", ok("tcp-1", 120_000)); // the first round's tcp-1
  const tcp16 = rateResult(ctx, "tcp-16", { messages: 110_000, seconds: 1 }, (rate) => {
    const one = rateOf(ctx, "tcp-1");
    return one ? [target(">= tcp-1", rate, one, ">=")] : [];
  });
  assert.equal(tcp16.targets[0].pass, false);
  assert.equal(tcp16.ratio_to_baseline, 2.2);

  // All rounds in: tcp-1's median and the baseline's are lower.
  ctx.done.set("tcp-1", ok("tcp-1", 105_000));
  ctx.done.set("baseline", ok("baseline", 55_000));
  settleTargets(ctx, tcp16);
  assert.equal(tcp16.targets.length, 1);
  assert.equal(tcp16.targets[0].pass, true, tcp16.targets[0].detail);
  assert.equal(tcp16.ratio_to_baseline, 2);

  // Targets a scenario set itself (end to end: p99, a fixed rate) are kept.
  const e2e = rateResult(ctx, "end-to-end", { messages: 50_000, seconds: 1 }, () => []);
  e2e.targets = [target("p99 < 2000 ms", 800, 2000, "<")];
  settleTargets(ctx, e2e);
  assert.deepEqual(e2e.targets.map((t) => t.name), ["p99 < 2000 ms"]);
  const added = rateResult(ctx, "tcp-16", { messages: 100_000, seconds: 1 }, (rate) => [
    target(">= tcp-1", rate, rateOf(ctx, "tcp-1")!, ">="),
  ]);
  added.targets.push(target("peak RSS < 300 MB", 140, 300, "<"));
  ctx.done.set("tcp-1", ok("tcp-1", 90_000));
  settleTargets(ctx, added);
  assert.deepEqual(added.targets.map((t) => [t.name, t.pass]), [
    [">= tcp-1", true],
    ["peak RSS < 300 MB", true],
  ]);

  // A result not made by rateResult, or not ok, is left as it is.
  const skipped: ScenarioResult = { scenario: "x", status: "skipped", targets: [] };
  settleTargets(ctx, skipped);
  assert.deepEqual(skipped.targets, []);
});

Deno.test("bench: an end-to-end rate counts as capacity only when it fell short of the offered rate", () => {
  const ctx = { done: new Map<string, ScenarioResult>() } as unknown as BenchContext;
  const e2e = (msgs_per_s: number, offered_rate: number): ScenarioResult => ({
    ...ok("end-to-end-per-message", msgs_per_s),
    extra: { offered_rate },
  });
  assert.equal(saturatedRate(ctx, "end-to-end-per-message"), undefined, "not run");
  ctx.done.set("end-to-end-per-message", e2e(21_152, 24_727));
  assert.equal(saturatedRate(ctx, "end-to-end-per-message"), 21_152, "delivered 86 % of offered");
  ctx.done.set("end-to-end-per-message", e2e(24_500, 24_727));
  assert.equal(
    saturatedRate(ctx, "end-to-end-per-message"),
    undefined,
    "kept up: not its capacity",
  );
  ctx.done.set("end-to-end-per-message", { ...e2e(21_152, 24_727), status: "error" });
  assert.equal(saturatedRate(ctx, "end-to-end-per-message"), undefined, "failed run");
});
