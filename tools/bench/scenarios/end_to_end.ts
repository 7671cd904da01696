/**
 * End-to-end scenarios: generator → TCP receiver → JetStream → subscriber
 * → sink, sustained rate and latency.
 *
 * @module
 */
import { MESSAGE_SIZE } from "../frames.ts";
import { target } from "../results.ts";
import { PER_MESSAGE_E2E_RATE, type Scenario, SEED_RATE, SUB_BATCH_TIMEOUT_MS } from "./context.ts";
import { logLine, rateOf, rateResult, saturatedRate } from "./measure.ts";
import { startReceiver } from "./receivers.ts";
import { resetStream, waitLines } from "./stored.ts";
import { startSink, startSubscriber, waitSink } from "./subscriber_sink.ts";

export function endToEndScenario(name: string, packed: boolean): Scenario {
  return {
    name,
    description: packed
      ? `generator -> TCP -> JetStream (packed) -> subscriber -> sink at ${
        2 * PER_MESSAGE_E2E_RATE
      } lines/s (or half of tcp-1's rate if more): sustained, latency`
      : "generator -> TCP -> JetStream (one message each) -> subscriber -> sink at half of tcp-1-per-message's rate: latency",
    async run(ctx, scope) {
      await resetStream(ctx);
      const rcv = await startReceiver(ctx, scope, name, "tcp", {
        env: { TCPRCVR_PACK: String(packed) },
      });
      const { sink, port } = await startSink(ctx, scope, name, true);
      const sinkSampler = scope.sample(sink.pid);
      const sub = startSubscriber(ctx, scope, name, port, "bench-e2e", "ndjson", packed);
      await sub.event("ready");
      const rcvSampler = scope.sample(rcv.child.pid);
      const subSampler = scope.sample(sub.pid);
      const natsSampler = scope.sample(ctx.nats.pid!);
      const natsCpu0 = natsSampler.cpuSeconds();
      const cpu0 = rcvSampler.cpuSeconds() + subSampler.cpuSeconds();
      const half = Math.round(
        (rateOf(ctx, packed ? "tcp-1" : "tcp-1-per-message") ?? SEED_RATE) / 2,
      );
      const smoke = ctx.scale.name === "smoke";
      // BENCH_E2E_RATE offers another rate (lines/s), to find what a machine sustains.
      const chosen = Number(Deno.env.get("BENCH_E2E_RATE") ?? NaN);
      const rate = chosen > 0
        ? chosen
        : packed && !smoke
        ? Math.max(2 * PER_MESSAGE_E2E_RATE, half)
        : Math.max(100, half);
      const gen = scope.start(ctx, name, "log_generator", "services/log_generator/main.ts", {
        env: {
          GEN_TARGET: `tcp://127.0.0.1:${rcv.port}`,
          GEN_RATE: String(rate),
          GEN_DURATION: `${ctx.scale.e2eSeconds}s`,
          GEN_SIZE: String(MESSAGE_SIZE),
          GEN_HOSTNAME: "bench-host",
          LOG_FORMAT: "json",
        },
      });
      const genSampler = scope.sample(gen.pid);
      const status = await gen.wait(ctx.scale.e2eSeconds * 1000 + 60_000);
      if (status.code !== 0) {
        throw new Error(`generator exited with ${status.code}: ${gen.stderr.slice(-500)}`);
      }
      const sent = Number(logLine(gen.stderr, "done")?.sent ?? 0);
      await waitLines(ctx, sent, rcv, [rcv.child], packed);
      const stats = await waitSink(port, sent, [sub, rcv.child], SUB_BATCH_TIMEOUT_MS + 20_000);
      const cpu1 = rcvSampler.cpuSeconds() + subSampler.cpuSeconds();
      rcvSampler.stop();
      subSampler.stop();
      // Receiver and subscriber together: the pipeline under test.
      const result = rateResult(ctx, name, {
        messages: stats.count,
        seconds: (stats.lastAt - stats.firstAt) / 1000,
        cpuSeconds: cpu1 - cpu0,
        peakRssKb: rcvSampler.peakRssKb + subSampler.peakRssKb,
      }, () => []);
      result.p50_ms = stats.p50Ms;
      result.p99_ms = stats.p99Ms;
      result.ratio_to_baseline = undefined;
      result.targets = [
        target(
          `p99 < SUB_BATCH_TIMEOUT + 1 s (${SUB_BATCH_TIMEOUT_MS + 1000} ms)`,
          stats.p99Ms,
          SUB_BATCH_TIMEOUT_MS + 1000,
          "<",
        ),
      ];
      if (packed && !smoke) {
        result.targets.push(
          target(
            `>= 2 x ${PER_MESSAGE_E2E_RATE} lines/s`,
            result.msgs_per_s ?? 0,
            2 * PER_MESSAGE_E2E_RATE,
            ">=",
          ),
        );
        // The same goal as a ratio within the run: twice what one message
        // per line sustains. Only meaningful when that scenario ran at its
        // capacity (delivered less than it was offered).
        const perMessage = saturatedRate(ctx, "end-to-end-per-message");
        if (perMessage !== undefined) {
          result.targets.push(
            target(">= 2 x end-to-end-per-message", result.msgs_per_s ?? 0, 2 * perMessage, ">="),
          );
        }
      }
      result.extra = {
        offered_rate: rate,
        sent,
        max_ms: stats.maxMs,
        receiver_rss_mb: rcvSampler.peakRssKb / 1024,
        subscriber_rss_mb: subSampler.peakRssKb / 1024,
        receiver_cpu_s: rcvSampler.last?.cpuSeconds ?? 0,
        subscriber_cpu_s: subSampler.last?.cpuSeconds ?? 0,
        sink_cpu_s: sinkSampler.cpuSeconds(),
        generator_cpu_s: genSampler.last?.cpuSeconds ?? 0,
        nats_cpu_s: natsSampler.cpuSeconds() - natsCpu0,
      };
      return result;
    },
  };
}
