/**
 * What every bench scenario shares: the stream and subject, the bench's
 * subscriber settings, the {@link BenchContext} a scenario gets, and the
 * {@link Scope} that stops the processes it started.
 *
 * @module
 */
import type { NatsConnection } from "nats";
import type { NatsServer } from "../../../testing/nats_server.ts";
import { ProgramProcess } from "../../../testing/program_process.ts";
import { ProcSampler } from "../proc_stats.ts";
import type { ScenarioResult } from "../results.ts";
import type { Scale } from "./scale.ts";

/** The stream and subject every scenario uses (the products' defaults). */
export const STREAM = "LAGERMEISTER";
export const SUBJECT = "lagermeister-test";
/** The seed's headline: one TCP stream, 3 KB messages. */
export const SEED_RATE = 5_500;
/** End to end, sustained with p99 < 2 s, before packed storage (lines/s). */
export const PER_MESSAGE_E2E_RATE = 31_000;
/** Messages per chunk when the bench fills a packed stream itself (256 KiB of 3 KB lines). */
export const BENCH_CHUNK_MESSAGES = 87;
/** Messages per POST of the http-batch scenario. */
export const HTTP_BATCH_MESSAGES = 100;
/**
 * Batch POSTs in flight at once: 32 hosts posting, as http-32 has 32
 * clients. (With 8 the receiver waits on acks between smaller chunks:
 * 78k lines/s against 92k with 32, measured.)
 */
export const HTTP_BATCH_IN_FLIGHT = 32;
/** The subscriber's batch timeout in the bench, ms (`SUB_BATCH_TIMEOUT`). */
export const SUB_BATCH_TIMEOUT_MS = 1_000;
/** Subscriber batching in the bench. */
export const SUB_BATCH_SIZE = 1000;
/** Posters in the bench (`SUB_POSTERS`): a local sink answers at once, few suffice. */
export const SUB_POSTERS = 4;
/**
 * Batch byte cap in the bench (`SUB_BATCH_BYTES`): 4 MiB lets 1,000 messages of
 * 3 KB share one POST (the 1 MiB default, sized for hosted services, would cut
 * them to about 330 and cost about 20% throughput).
 */
export const SUB_BATCH_BYTES = 4 * 1024 * 1024;

/** What every scenario gets. */
export interface BenchContext {
  nats: NatsServer;
  /** The bench's own connection (stream management, polling). */
  nc: NatsConnection;
  /** The pre-framed 3 KB messages (see `frames.ts`). */
  framesFile: string;
  scale: Scale;
  /** Results of the scenarios run so far, by name. */
  done: Map<string, ScenarioResult>;
  /** When set, programs under test write CPU profiles here. */
  profileDir: string | undefined;
  /** Progress notes (stderr). */
  note: (msg: string) => void;
}

/** A scenario. */
export interface Scenario {
  name: string;
  /** What it measures (for `--help`). */
  description: string;
  /** A throughput measurement worth repeating (`--repeat`: the median run is kept). */
  repeatable?: boolean;
  run(ctx: BenchContext, scope: Scope): Promise<ScenarioResult>;
}

/** How much of each child's stdout and stderr the bench keeps (for error reports). */
const KEEP_OUTPUT = 64 * 1024;

/** The processes a scenario started; all stopped when it ends, whatever happens. */
export class Scope {
  readonly children: ProgramProcess[] = [];
  readonly samplers: ProcSampler[] = [];

  /** Starts a Deno program (profiled when it is the program under test and profiling is on). */
  start(
    ctx: BenchContext,
    scenario: string,
    name: string,
    script: string,
    o: { env?: Record<string, string>; args?: string[]; fdLimit?: number; underTest?: boolean } =
      {},
  ): ProgramProcess {
    const denoFlags = o.underTest && ctx.profileDir
      ? [
        "--cpu-prof",
        `--cpu-prof-dir=${ctx.profileDir}`,
        `--cpu-prof-name=${scenario}-${name}.cpuprofile`,
      ]
      : [];
    const c = ProgramProcess.start(script, o.env, o.args, {
      name,
      fdLimit: o.fdLimit,
      denoFlags,
      keepOutput: KEEP_OUTPUT,
    });
    this.children.push(c);
    return c;
  }

  /** Samples a process until the scenario ends. */
  sample(pid: number): ProcSampler {
    const s = new ProcSampler(pid);
    this.samplers.push(s);
    return s;
  }

  /** Stops every sampler and process (SIGTERM, then SIGKILL), newest first. */
  async close(): Promise<void> {
    for (const s of this.samplers) s.stop();
    for (const c of [...this.children].reverse()) await c.stop("SIGTERM", 15_000).catch(() => {});
  }
}
