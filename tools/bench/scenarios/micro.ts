/**
 * The `micro` scenario: splitter, matcher and JSON encoder rates, in a
 * fresh process (`tools/bench/micro.ts`).
 *
 * @module
 */
import type { Scenario } from "./context.ts";

export const micro: Scenario = {
  name: "micro",
  description: "splitter MB/s, matcher evaluations/s, JSON encoder lines/s (in a fresh process)",
  async run(ctx, scope) {
    const child = scope.start(ctx, "micro", "micro", "tools/bench/micro.ts", {
      args: ["--mb", String(ctx.scale.microMb), "--seconds", String(ctx.scale.microSeconds)],
      underTest: true,
    });
    const ev = await child.event("done", 120_000);
    await child.wait(10_000);
    return {
      scenario: "micro",
      status: "ok",
      targets: [],
      parts: [
        {
          name: "splitter",
          per_s: Number(ev.splitter_frames_s),
          unit: "frames",
          mb_per_s: Number(ev.splitter_mb_s),
        },
        { name: "matcher", per_s: Number(ev.matcher_evals_s), unit: "evaluations" },
        {
          name: "json",
          per_s: Number(ev.json_lines_s),
          unit: "lines",
          mb_per_s: Number(ev.json_mb_s),
        },
      ],
    };
  },
};
