/**
 * The ceilings: the bare JetStream publisher (`baseline`), the same storing
 * 256 KiB chunks (`limit-packed`), and core NATS without acks (`limit-core`).
 *
 * @module
 */
import { BENCH_CHUNK_MESSAGES, type Scenario } from "./context.ts";
import { rateResult } from "./measure.ts";
import { publishBaseline, resetStream, rfc3339Ms } from "./stored.ts";

export const baseline: Scenario = {
  name: "baseline",
  repeatable: true,
  description:
    "bare JetStream publisher (npm:nats, pipelined, window 1024), 3 KB messages: the ceiling",
  async run(ctx, scope) {
    await resetStream(ctx);
    const n = ctx.scale.baseline;
    const natsSampler = scope.sample(ctx.nats.pid!);
    const natsCpu0 = natsSampler.cpuSeconds();
    const { start, stored, done } = await publishBaseline(ctx, scope, n, true);
    const natsCpu = natsSampler.cpuSeconds() - natsCpu0;
    const seconds = (rfc3339Ms(stored.last_ts) - Number(start.t)) / 1000;
    const cpu = Number(done.cpu_s) - Number(start.cpu_s);
    const result = rateResult(ctx, "baseline", {
      messages: n,
      seconds,
      cpuSeconds: cpu,
      peakRssKb: Number(done.hwm_kb),
    }, () => []);
    result.extra = {
      publisher_cpu_percent: (100 * cpu) / seconds,
      nats_cpu_percent: (100 * natsCpu) / seconds,
    };
    return result;
  },
};

/** Chunks in flight for the packed limit: 8 MiB of 256 KiB chunks, where it peaks here. */
const LIMIT_PACKED_WINDOW = 32;

/**
 * How far the machine goes when nothing but publishing happens: the same
 * bare publisher storing 256 KiB chunks (no receiver in between). What
 * packed scenarios are measured against in the README.
 */
export const limitPacked: Scenario = {
  name: "limit-packed",
  repeatable: true,
  description:
    `bare publisher storing chunks of ${BENCH_CHUNK_MESSAGES} messages (256 KiB, window ${LIMIT_PACKED_WINDOW}, framed in place like the receivers): packed storage's ceiling`,
  async run(ctx, scope) {
    await resetStream(ctx);
    const n = ctx.scale.baseline * 2;
    const { start, stored, done } = await publishBaseline(
      ctx,
      scope,
      n,
      true,
      BENCH_CHUNK_MESSAGES,
      [
        "--framed",
        "--window",
        String(LIMIT_PACKED_WINDOW),
      ],
    );
    const seconds = (rfc3339Ms(stored.last_ts) - Number(start.t)) / 1000;
    return rateResult(ctx, "limit-packed", {
      messages: n,
      seconds,
      cpuSeconds: Number(done.cpu_s) - Number(start.cpu_s),
      peakRssKb: Number(done.hwm_kb),
    }, () => []);
  },
};

/** Core NATS without JetStream or acks: what the client and server move at all. */
export const limitCore: Scenario = {
  name: "limit-core",
  repeatable: true,
  description: "core NATS publish of 3 KB messages, no JetStream, no acks: the wire's ceiling",
  async run(ctx, scope) {
    const n = ctx.scale.baseline * 2;
    const pub = scope.start(
      ctx,
      "limit-core",
      "baseline_publisher",
      "tools/bench/baseline_publisher.ts",
      {
        args: ["--file", ctx.framesFile, "--nats", ctx.nats.url, "--count", String(n), "--core"],
        underTest: true,
      },
    );
    const start = await pub.event("start", 30_000);
    const done = await pub.event("done", 120_000);
    const status = await pub.wait(30_000);
    if (status.code !== 0) throw new Error(`core publisher exited with ${status.code}`);
    return rateResult(ctx, "limit-core", {
      messages: n,
      seconds: (Number(done.t) - Number(start.t)) / 1000,
      cpuSeconds: Number(done.cpu_s) - Number(start.cpu_s),
      peakRssKb: Number(done.hwm_kb),
    }, () => []);
  },
};
