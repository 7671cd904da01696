/**
 * HTTP receiver scenarios: 32 clients posting one message each, and
 * batched POSTs of a Heka stream.
 *
 * @module
 */
import { MESSAGE_SIZE } from "../frames.ts";
import { target } from "../results.ts";
import type { ProgramProcess } from "../../../testing/program_process.ts";
import { freePort } from "../../../testing/free_port.ts";
import {
  type BenchContext,
  HTTP_BATCH_IN_FLIGHT,
  HTTP_BATCH_MESSAGES,
  type Scenario,
  type Scope,
  SEED_RATE,
} from "./context.ts";
import { logLine, rateOf, rateResult } from "./measure.ts";
import { startReceiver } from "./receivers.ts";
import { resetStream, waitLines } from "./stored.ts";

/** The http-32 load: the log generator's 32 keep-alive clients, one 3 KB message per POST. */
function startHttp32Load(
  ctx: BenchContext,
  scope: Scope,
  scenario: string,
  port: number,
  n: number,
): ProgramProcess {
  return scope.start(ctx, scenario, "log_generator", "services/log_generator/main.ts", {
    env: {
      GEN_TARGET: `http://127.0.0.1:${port}/`,
      GEN_RATE: "0",
      GEN_COUNT: String(n),
      GEN_SIZE: String(MESSAGE_SIZE),
      GEN_CONNECTIONS: "32",
      GEN_HOSTNAME: "bench-host",
      LOG_FORMAT: "json",
    },
  });
}

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
      const gen = startHttp32Load(ctx, scope, name, rcv.port, n);
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

/**
 * The http-32 load against an empty `Deno.serve` (tools/bench/empty_http_server.ts):
 * what one request per message costs on this machine before a receiver
 * does anything, so http-32 can be read against it.
 */
export const httpFloor: Scenario = {
  name: "http-floor",
  repeatable: true,
  description:
    "the http-32 load (32 log-generator clients, one 3 KB message per POST) against an empty Deno.serve answering 200: HTTP's own ceiling here",
  async run(ctx, scope) {
    const n = ctx.scale.http32;
    const port = freePort();
    const server = scope.start(
      ctx,
      "http-floor",
      "empty_http_server",
      "tools/bench/empty_http_server.ts",
      {
        args: ["--port", String(port), "--count", String(n)],
      },
    );
    await server.event("ready", 30_000);
    const serverSampler = scope.sample(server.pid);
    const cpu0 = serverSampler.cpuSeconds();
    const gen = startHttp32Load(ctx, scope, "http-floor", port, n);
    const genSampler = scope.sample(gen.pid);
    const done = await server.event("done", 300_000);
    const seconds = (Number(done.last) - Number(done.first)) / 1000;
    const serverCpu = serverSampler.cpuSeconds() - cpu0;
    const result = rateResult(ctx, "http-floor", {
      messages: n - 1,
      seconds,
      cpuSeconds: serverCpu,
      peakRssKb: serverSampler.peakRssKb,
    }, () => []);
    await gen.wait(60_000);
    const http32 = rateOf(ctx, "http-32");
    result.extra = {
      load_cpu_percent: (100 * genSampler.cpuSeconds()) / seconds,
      server_cpu_percent: (100 * serverCpu) / seconds,
      ...(http32 ? { http32_share_of_floor: http32 / result.msgs_per_s! } : {}),
    };
    return result;
  },
};
