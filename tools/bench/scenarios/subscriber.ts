/**
 * Subscriber scenarios: a pre-filled stream drained to a local sink, in
 * each output format and storage mode.
 *
 * @module
 */
import { target, type TargetCheck } from "../results.ts";
import { BENCH_CHUNK_MESSAGES, type Scenario } from "./context.ts";
import { rateOf, rateResult } from "./measure.ts";
import { publishBaseline, resetStream } from "./stored.ts";
import { startSink, startSubscriber, waitSink } from "./subscriber_sink.ts";

/**
 * The subscriber draining a pre-filled stream to a local sink, writing
 * `format` (SUB_FORMAT). `subscriber` is NDJSON from a stream of chunks;
 * `subscriber-per-message` NDJSON from one message each; the other formats
 * (chunks) are held to at least 0.75 x `subscriber` (no format more than
 * 25 % slower).
 */
export function subscriberScenario(format: string, packed = true): Scenario {
  const name = format === "ndjson"
    ? (packed ? "subscriber" : "subscriber-per-message")
    : `subscriber-${format}`;
  return {
    name,
    description: format === "ndjson"
      ? `a pre-filled stream (${
        packed ? `chunks of ${BENCH_CHUNK_MESSAGES} messages` : "one message each"
      }) drained by the subscriber to a local sink answering 200`
      : `the subscriber scenario with SUB_FORMAT=${format}`,
    repeatable: true,
    async run(ctx, scope) {
      await resetStream(ctx);
      const n = ctx.scale.subscriber;
      await publishBaseline(ctx, scope, n, false, packed ? BENCH_CHUNK_MESSAGES : 0);
      const { sink, port } = await startSink(ctx, scope, name, false, format);
      const sinkSampler = scope.sample(sink.pid);
      const sub = startSubscriber(ctx, scope, name, port, "bench-drain", format, packed);
      const sampler = scope.sample(sub.pid);
      const natsSampler = scope.sample(ctx.nats.pid!);
      const natsCpu0 = natsSampler.cpuSeconds();
      const stats = await waitSink(port, n, [sub], 30_000);
      const cpu = sampler.cpuSeconds();
      sampler.stop();
      const natsCpu = natsSampler.cpuSeconds() - natsCpu0;
      const counted = stats.count - stats.firstBatch;
      const result = rateResult(ctx, name, {
        messages: counted,
        seconds: (stats.lastAt - stats.firstAt) / 1000,
        cpuSeconds: cpu,
        peakRssKb: sampler.peakRssKb,
      }, (rate) => {
        if (format !== "ndjson") {
          const ndjson = rateOf(ctx, "subscriber");
          return ndjson ? [target(">= 0.75 x subscriber (ndjson)", rate, 0.75 * ndjson, ">=")] : [];
        }
        const t: TargetCheck[] = [];
        const one = rateOf(ctx, packed ? "tcp-1" : "tcp-1-per-message");
        if (one) t.push(target(packed ? ">= tcp-1" : ">= tcp-1-per-message", rate, one, ">="));
        const base = rateOf(ctx, "baseline");
        if (packed && base) t.push(target(">= 1.5 x baseline", rate, 1.5 * base, ">="));
        return t;
      });
      result.extra = {
        batches: stats.batches,
        received: stats.count,
        sink_cpu_s: sinkSampler.cpuSeconds(),
        // What delivering (and taking the acks) costs nats-server per line.
        nats_cpu_us_per_line: (1e6 * natsCpu) / stats.count,
      };
      await sub.stop();
      return result;
    },
  };
}
