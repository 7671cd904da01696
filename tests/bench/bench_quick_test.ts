/**
 * Issue #6: `deno task bench` runs every scenario end to end (real
 * nats-server, receivers, subscriber, sink, generator) — here at a tiny
 * scale (`--smoke`) — printing one JSON line per scenario, the table, and
 * writing results.json and rates.svg.
 */
import assert from "node:assert/strict";
import { SCENARIOS } from "../../tools/bench/scenarios/mod.ts";
import { ProgramProcess } from "../../testing/mod.ts";

Deno.test({
  name: "bench --smoke: every scenario prints a JSON line and runs; results and chart are written",
  sanitizeResources: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "lm-bench-test-" });
    try {
      const t0 = performance.now();
      const r = await ProgramProcess.run("tools/bench/main.ts", {}, ["--smoke", "--out", out]);
      const seconds = (performance.now() - t0) / 1000;
      assert.ok(seconds < 120, `smoke bench took ${seconds.toFixed(1)} s`);
      assert.equal(
        r.code,
        0,
        `bench exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr.slice(-4000)}`,
      );
      const lines = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.scenario), SCENARIOS.map((s) => s.name));
      for (const l of lines) {
        assert.ok(
          l.status === "ok" || (l.status === "skipped" && l.reason === "subscriber not available"),
          `${l.scenario}: ${l.status} ${l.reason ?? ""}`,
        );
        assert.ok(Array.isArray(l.targets));
      }
      const by = Object.fromEntries(lines.map((l) => [l.scenario, l]));
      for (const name of ["baseline", "tcp-1", "tcp-16", "http-32"]) {
        assert.ok(by[name].msgs_per_s > 0 && by[name].mb_per_s > 0, name);
        assert.ok(by[name].peak_rss_mb > 10, `${name} peak RSS measured`);
        assert.ok(by[name].cpu_s_per_gb > 0, `${name} CPU measured`);
      }
      assert.ok(by["tcp-1"].ratio_to_baseline > 0);
      assert.deepEqual(by["tcp-1"].targets.map((t: { name: string }) => t.name), [
        ">= 2 x baseline",
        ">= 6 x seed (33000)",
      ]);
      // Descriptors held above the receiver's own: the 200 clients, and now and then one of
      // its own opened meanwhile.
      assert.ok(
        by.idle.peak_rss_mb > 0 && by.idle.extra.connections >= 200 &&
          by.idle.extra.connections <= 205,
        JSON.stringify(by.idle),
      );
      assert.deepEqual(by.micro.parts.map((p: { name: string }) => p.name), [
        "splitter",
        "matcher",
        "json",
      ]);
      if (by["end-to-end"].status === "ok") {
        assert.ok(
          by["end-to-end"].p99_ms >= by["end-to-end"].p50_ms && by["end-to-end"].p50_ms >= 0,
        );
        // Its own targets survive the final check of targets against other scenarios.
        assert.match(by["end-to-end"].targets[0]?.name ?? "", /^p99 < /);
      }
      assert.match(
        r.stdout,
        /^scenario\s+msgs\/s\s+MB\/s\s+x base\s+p50 ms\s+p99 ms\s+RSS MB\s+CPU s\/GB/m,
      );
      assert.match(r.stdout, /^tcp-1 .*(PASS|FAIL)/m);
      const saved = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
      assert.equal(saved.mode, "smoke");
      // The machine's price of fresh memory goes with every run (memory_gauge.ts).
      assert.ok(saved.memory.fresh_gb_s > 0 && saved.memory.reused_gb_s > 0, saved.memory);
      assert.match(r.stdout, /^memory: [\d.]+ GB\/s written fresh, [\d.]+ GB\/s reused/m);
      assert.equal(saved.results.length, SCENARIOS.length);
      const svg = await Deno.readTextFile(`${out}/rates.svg`);
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.match(svg, />tcp-1</);
    } finally {
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("bench: a malformed BENCH_* number is refused before anything starts", async () => {
  for (const name of ["BENCH_E2E_SECONDS", "BENCH_NATS_PROFILE"]) {
    const r = await ProgramProcess.run("tools/bench/main.ts", { [name]: "soon" }, ["--smoke"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${name} must be a positive integer, got soon`));
  }
});
