/**
 * The subscriber's side of a bench scenario: its environment, and the
 * local sink it posts to (start it, read its counts, wait for them).
 *
 * @module
 */
import { freePort } from "../../../testing/free_port.ts";
import type { ProgramProcess } from "../../../testing/program_process.ts";
import type { SinkStats } from "../sink.ts";
import {
  type BenchContext,
  type Scope,
  STREAM,
  SUB_BATCH_BYTES,
  SUB_BATCH_SIZE,
  SUB_BATCH_TIMEOUT_MS,
  SUB_POSTERS,
  SUBJECT,
} from "./context.ts";

function subscriberEnv(
  ctx: BenchContext,
  sinkPort: number,
  durable: string,
  format = "ndjson",
): Record<string, string> {
  return {
    SUB_FORMAT: format,
    ...(format === "splunk-hec" ? { SUB_SPLUNK_TOKEN: "bench-token" } : {}),
    SUB_NATS_URL: ctx.nats.url,
    SUB_CLIENT_ID: `bench-${durable}`,
    SUB_SUBJECT: SUBJECT,
    SUB_STREAM: STREAM,
    SUB_REMOTE_URL: `http://127.0.0.1:${sinkPort}/`,
    SUB_BATCH_SIZE: String(SUB_BATCH_SIZE),
    SUB_BATCH_TIMEOUT: `${SUB_BATCH_TIMEOUT_MS}ms`,
    SUB_POSTERS: String(SUB_POSTERS),
    SUB_BATCH_BYTES: String(SUB_BATCH_BYTES),
    SUB_DELIVER_ALL: "true",
    SUB_DURABLE: durable,
    SUB_STATS_ADDRESS: "off",
    // Operators can try their own subscriber settings: BENCH_SUB_ENV='{"SUB_POSTERS":"8"}'.
    ...JSON.parse(Deno.env.get("BENCH_SUB_ENV") ?? "{}"),
  };
}

async function sinkStats(port: number): Promise<SinkStats> {
  const r = await fetch(`http://127.0.0.1:${port}/stats`);
  return await r.json() as SinkStats;
}

/** Polls the sink until it received `n` lines; throws on a stall or a crashed child. */
export async function waitSink(
  port: number,
  n: number,
  watch: ProgramProcess[],
  stallMs = 20_000,
): Promise<SinkStats> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const s = await sinkStats(port);
    if (s.count >= n) return s;
    if (s.count !== last) {
      last = s.count;
      lastChange = Date.now();
    }
    for (const c of watch) {
      if (c.exited) {
        throw new Error(`${c.name} exited with ${c.exited.code}: ${c.stderr.slice(-500)}`);
      }
    }
    if (Date.now() - lastChange > stallMs) {
      throw new Error(`sink stalled at ${s.count} of ${n} lines`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startSink(
  ctx: BenchContext,
  scope: Scope,
  scenario: string,
  latency: boolean,
  format = "ndjson",
) {
  const port = freePort();
  const sink = scope.start(ctx, scenario, "sink", "tools/bench/sink.ts", {
    args: ["--port", String(port), "--format", format, ...(latency ? ["--latency"] : [])],
  });
  await sink.event("listening", 30_000);
  return { sink, port };
}

/**
 * Starts the subscriber under test posting `format` to the sink on
 * `sinkPort` as consumer `durable`. Over a stream of chunks its ack window
 * is 128: it counts JetStream messages, and each holds as many lines.
 */
export function startSubscriber(
  ctx: BenchContext,
  scope: Scope,
  scenario: string,
  sinkPort: number,
  durable: string,
  format: string,
  packed: boolean,
): ProgramProcess {
  return scope.start(
    ctx,
    scenario,
    "http_subscriber",
    "services/http_subscriber/main.ts",
    {
      env: {
        ...subscriberEnv(ctx, sinkPort, durable, format),
        // The ack window counts JetStream messages: as many lines held as per message.
        ...(packed ? { SUB_MAX_ACK_PENDING: "128" } : {}),
      },
      underTest: true,
    },
  );
}
