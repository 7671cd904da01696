/**
 * HTTP receiver scenarios: 32 clients posting one message each, and
 * batched POSTs of a Heka stream.
 *
 * @module
 */
import { MESSAGE_SIZE } from "../frames.ts";
import { target } from "../results.ts";
import { HTTP_BATCH_IN_FLIGHT, HTTP_BATCH_MESSAGES, type Scenario, SEED_RATE } from "./context.ts";
import { logLine, rateOf, rateResult } from "./measure.ts";
import { startReceiver } from "./receivers.ts";
import { resetStream, waitLines } from "./stored.ts";

export function http32Scenario(name: string, packed: boolean): Scenario {
  return {
    name,
    repeatable: true,
    description:
      `32 concurrent keep-alive HTTP clients (log generator), 3 KB messages, one per POST, into receive-http (${
        packed ? "packed, default" : "RCVR_PACK=false"
      })`,
    async run(ctx, scope) {
      await resetStream(ctx);
      const n = ctx.scale.http32;
      const rcv = await startReceiver(ctx, scope, name, "http", {
        env: { RCVR_PACK: String(packed) },
      });
      const sampler = scope.sample(rcv.child.pid);
      const natsSampler = scope.sample(ctx.nats.pid!);
      const cpu0 = sampler.cpuSeconds();
      const natsCpu0 = natsSampler.cpuSeconds();
      const gen = scope.start(ctx, name, "log_generator", "services/log_generator/main.ts", {
        env: {
          GEN_TARGET: `http://127.0.0.1:${rcv.port}/`,
          GEN_RATE: "0",
          GEN_COUNT: String(n),
          GEN_SIZE: String(MESSAGE_SIZE),
          GEN_CONNECTIONS: "32",
          GEN_HOSTNAME: "bench-host",
          LOG_FORMAT: "json",
        },
      });
      const genSampler = scope.sample(gen.pid);
      const stored = await waitLines(ctx, n, rcv, [gen, rcv.child], packed);
      const cpu1 = sampler.cpuSeconds();
      sampler.stop();
      const genCpu = genSampler.cpuSeconds();
      const natsCpu = natsSampler.cpuSeconds() - natsCpu0;
      // The generator has no "first byte" event: time from the first stored message.
      const seconds = (stored.lastMs - stored.firstMs) / 1000;
      const result = rateResult(ctx, name, {
        messages: n - 1,
        seconds,
        cpuSeconds: cpu1 - cpu0,
        peakRssKb: sampler.peakRssKb,
      }, (rate) => {
        const t = [target(`>= 3 x seed (${3 * SEED_RATE})`, rate, 3 * SEED_RATE, ">=")];
        const base = rateOf(ctx, "baseline");
        if (packed && base) t.push(target(">= 0.6 x baseline", rate, 0.6 * base, ">="));
        return t;
      });
      const status = await gen.wait(60_000);
      const done = logLine(gen.stderr, "done");
      result.extra = {
        generator_exit: status.code,
        statuses: String(done?.statuses ?? ""),
        load_cpu_percent: (100 * genCpu) / seconds,
        receiver_cpu_percent: (100 * (cpu1 - cpu0)) / seconds,
        nats_cpu_percent: (100 * natsCpu) / seconds,
      };
      await rcv.child.stop();
      return result;
    },
  };
}

export const httpBatch: Scenario = {
  name: "http-batch",
  repeatable: true,
  description:
    `POSTs of ${HTTP_BATCH_MESSAGES} messages (Content-Type: application/x-heka-stream), ${HTTP_BATCH_IN_FLIGHT} in flight, 3 KB messages, into receive-http`,
  async run(ctx, scope) {
    await resetStream(ctx);
    const n = ctx.scale.tcp1;
    const rcv = await startReceiver(ctx, scope, "http-batch", "http");
    const sampler = scope.sample(rcv.child.pid);
    const natsSampler = scope.sample(ctx.nats.pid!);
    const cpu0 = sampler.cpuSeconds();
    const natsCpu0 = natsSampler.cpuSeconds();
    const poster = scope.start(
      ctx,
      "http-batch",
      "stream_poster",
      "tools/bench/stream_poster.ts",
      {
        args: [
          "--file",
          ctx.framesFile,
          "--url",
          `http://127.0.0.1:${rcv.port}/`,
          "--count",
          String(n),
          "--per-post",
          String(HTTP_BATCH_MESSAGES),
          "--connections",
          String(HTTP_BATCH_IN_FLIGHT),
        ],
      },
    );
    const posterSampler = scope.sample(poster.pid);
    const start = await poster.event("start", 30_000);
    const stored = await waitLines(ctx, n, rcv, [poster, rcv.child], true);
    const cpu1 = sampler.cpuSeconds();
    sampler.stop();
    const seconds = (stored.lastMs - Number(start.t)) / 1000;
    const result = rateResult(ctx, "http-batch", {
      messages: n,
      seconds,
      cpuSeconds: cpu1 - cpu0,
      peakRssKb: sampler.peakRssKb,
    }, (rate) => {
      const base = rateOf(ctx, "baseline");
      return base ? [target(">= 1.5 x baseline", rate, 1.5 * base, ">=")] : [];
    });
    const done = await poster.event("done", 60_000);
    result.extra = {
      statuses: JSON.stringify(done.statuses ?? {}),
      load_cpu_percent: (100 * posterSampler.cpuSeconds()) / seconds,
      receiver_cpu_percent: (100 * (cpu1 - cpu0)) / seconds,
      nats_cpu_percent: (100 * (natsSampler.cpuSeconds() - natsCpu0)) / seconds,
    };
    await rcv.child.stop();
    return result;
  },
};
