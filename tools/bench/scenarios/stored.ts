/**
 * The stream under the bench: reset it, fill it with the baseline
 * publisher, and wait until a number of messages (or of log lines, in a
 * stream of chunks) is stored.
 *
 * @module
 */
import type { StreamState } from "nats";
import { ensureStream } from "../../../services/broker/stream.ts";
import { Logger } from "../../../services/log/mod.ts";
import type { ProgramProcess } from "../../../testing/program_process.ts";
import { sleep } from "../../../services/runtime/async.ts";
import { type BenchContext, type Scope, STREAM, SUBJECT } from "./context.ts";

const quiet = new Logger("bench", "error");

/** Deletes and re-creates the stream (file storage, as the receivers create it). */
export async function resetStream(ctx: BenchContext): Promise<void> {
  const jsm = await ctx.nc.jetstreamManager();
  try {
    await jsm.streams.delete(STREAM);
  } catch {
    // not there
  }
  await ensureStream(ctx.nc, { name: STREAM, subjects: [SUBJECT] }, quiet);
}

/** The stream's state. */
export async function streamState(ctx: BenchContext): Promise<StreamState> {
  const jsm = await ctx.nc.jetstreamManager();
  return (await jsm.streams.info(STREAM)).state;
}

/** Epoch ms (fractional) of an RFC 3339 time with up to nanoseconds. */
export function rfc3339Ms(text: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return Date.parse(text);
  return Date.parse(m[1] + m[3]) + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

/**
 * Waits until the stream holds `n` messages; throws when nothing new is
 * stored for `stallMs` or a child exits with an error.
 */
export async function waitStored(
  ctx: BenchContext,
  n: number,
  watch: ProgramProcess[] = [],
  stallMs = 20_000,
): Promise<StreamState> {
  let state: StreamState | undefined;
  await waitCount(async () => (state = await streamState(ctx)).messages, n, watch, stallMs);
  return state!;
}

/**
 * Waits until the receiver at `statsUrl` (its `/debug/vars`) counts `n`
 * log messages acknowledged by JetStream (`stored_total`), then returns the
 * stored times of the stream's first and last JetStream message. Nothing
 * reads the stream meanwhile: a consumer following it would cost the
 * server as much as storing (it slowed packed runs 2×). Throws like
 * {@link waitStored}.
 */
export async function waitStoredLines(
  ctx: BenchContext,
  n: number,
  statsUrl: string,
  watch: ProgramProcess[] = [],
  stallMs = 20_000,
): Promise<{ firstMs: number; lastMs: number }> {
  await waitCount(
    async () => {
      const vars = await (await fetch(statsUrl)).json() as { stored_total?: number };
      return vars.stored_total ?? 0;
    },
    n,
    watch,
    stallMs,
  );
  const s = await streamState(ctx);
  return { firstMs: rfc3339Ms(s.first_ts), lastMs: rfc3339Ms(s.last_ts) };
}

/**
 * Polls `read` until it reaches `n`; throws when a watched child exits
 * non-zero or the count does not move for `stallMs`.
 */
async function waitCount(
  read: () => number | Promise<number>,
  n: number,
  watch: ProgramProcess[],
  stallMs: number,
): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const count = await read();
    if (count >= n) return;
    if (count !== last) {
      last = count;
      lastChange = Date.now();
    }
    for (const c of watch) {
      if (c.exited && c.exited.code !== 0) {
        throw new Error(`${c.name} exited with ${c.exited.code}: ${c.stderr.slice(-500)}`);
      }
    }
    if (Date.now() - lastChange > stallMs) {
      throw new Error(`stalled at ${count} of ${n} messages stored`);
    }
    await sleep(25);
  }
}

/** When the `n`th log message was stored (epoch ms), and the first; in either storage mode. */
export async function waitLines(
  ctx: BenchContext,
  n: number,
  receiver: { child: ProgramProcess; statsUrl: string },
  watch: ProgramProcess[],
  packed: boolean,
): Promise<{ firstMs: number; lastMs: number }> {
  if (packed) return await waitStoredLines(ctx, n, receiver.statsUrl, watch);
  const s = await waitStored(ctx, n, watch);
  return { firstMs: rfc3339Ms(s.first_ts), lastMs: rfc3339Ms(s.last_ts) };
}

/** Fills the stream with `count` messages with the baseline publisher; returns its start/done events. */
export async function publishBaseline(
  ctx: BenchContext,
  scope: Scope,
  count: number,
  underTest: boolean,
  pack = 0,
  extraArgs: string[] = [],
) {
  const pub = scope.start(
    ctx,
    "baseline",
    "baseline_publisher",
    "tools/bench/baseline_publisher.ts",
    {
      args: [
        "--file",
        ctx.framesFile,
        "--nats",
        ctx.nats.url,
        "--count",
        String(count),
        "--pack",
        String(pack),
        ...extraArgs,
      ],
      underTest,
    },
  );
  const start = await pub.event("start", 30_000);
  const stored = await waitStored(ctx, pack > 0 ? Math.ceil(count / pack) : count, [pub]);
  const done = await pub.event("done", 60_000);
  const status = await pub.wait(30_000);
  if (status.code !== 0) throw new Error(`baseline publisher exited with ${status.code}`);
  if (Number(done.errors) > 0) throw new Error(`baseline publisher got ${done.errors} error acks`);
  return { start, stored, done };
}
