/**
 * The bench scenarios. Each starts its programs fresh (the program under
 * test and a load source in separate processes), measures, stops them,
 * and returns one {@link ScenarioResult}.
 *
 * @module
 */
import type { NatsConnection, StreamState } from "nats";
import { ensureStream } from "../../services/broker/stream.ts";
import { Logger } from "../../services/log/mod.ts";
import { MESSAGE_SIZE } from "./frames.ts";
import { freePort } from "../../testing/free_port.ts";
import type { NatsServer } from "../../testing/nats_server.ts";
import { ProgramProcess } from "../../testing/program_process.ts";
import { countFds, ProcSampler } from "./proc_stats.ts";
import { type ScenarioResult, target, type TargetCheck } from "./results.ts";
import type { SinkStats } from "./sink.ts";
import { StoredCounter } from "./stored_counter.ts";
import { sleep } from "../../services/runtime/async.ts";

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

/** How much work each scenario does. */
export interface Scale {
  name: string;
  /** Runs of each repeatable scenario (the median is reported). */
  repeat: number;
  baseline: number;
  tcp1: number;
  tcp16: number;
  http32: number;
  subscriber: number;
  /** Seconds the end-to-end generator runs. */
  e2eSeconds: number;
  idle: number;
  microMb: number;
  microSeconds: number;
}

/** `full` (default), `quick` (under a minute) and `smoke` (tests). */
export const SCALES: Record<"full" | "quick" | "smoke", Scale> = {
  full: {
    name: "full",
    repeat: 3,
    baseline: 300_000,
    tcp1: 300_000,
    tcp16: 300_000,
    http32: 100_000,
    subscriber: 200_000,
    e2eSeconds: 15,
    idle: 10_000,
    microMb: 128,
    microSeconds: 1,
  },
  quick: {
    name: "quick",
    repeat: 1,
    baseline: 80_000,
    tcp1: 80_000,
    tcp16: 80_000,
    http32: 25_000,
    subscriber: 60_000,
    e2eSeconds: 5,
    idle: 10_000,
    microMb: 16,
    microSeconds: 0.3,
  },
  smoke: {
    name: "smoke",
    repeat: 1,
    baseline: 2_000,
    tcp1: 2_000,
    tcp16: 2_000,
    http32: 500,
    subscriber: 2_000,
    e2eSeconds: 2,
    idle: 200,
    microMb: 2,
    microSeconds: 0.05,
  },
};

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
 * Waits until `n` log messages are stored in a stream holding chunks
 * (counted by a {@link StoredCounter} from the stream's start); returns the
 * stored times of the first and last. Throws like {@link waitStored}.
 */
export async function waitStoredLines(
  ctx: BenchContext,
  n: number,
  watch: ProgramProcess[] = [],
  stallMs = 20_000,
): Promise<{ firstMs: number; lastMs: number }> {
  const counter = await StoredCounter.start(ctx.nc, STREAM);
  try {
    await waitCount(() => counter.messages, n, watch, stallMs);
    return { firstMs: counter.firstMs, lastMs: counter.lastMs };
  } finally {
    counter.stop();
  }
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
async function waitLines(
  ctx: BenchContext,
  n: number,
  watch: ProgramProcess[],
  packed: boolean,
): Promise<{ firstMs: number; lastMs: number }> {
  if (packed) return await waitStoredLines(ctx, n, watch);
  const s = await waitStored(ctx, n, watch);
  return { firstMs: rfc3339Ms(s.first_ts), lastMs: rfc3339Ms(s.last_ts) };
}

function receiverEnv(ctx: BenchContext, prefix: string, port: number, id: string) {
  return {
    [`${prefix}NATS_URL`]: ctx.nats.url,
    [`${prefix}CLIENT_ID`]: id,
    [`${prefix}BIND_ADDRESS`]: `127.0.0.1:${port}`,
    [`${prefix}STATS_ADDRESS`]: "off",
  };
}

async function startReceiver(
  ctx: BenchContext,
  scope: Scope,
  scenario: string,
  kind: "tcp" | "http",
  o: { fdLimit?: number; env?: Record<string, string> } = {},
): Promise<{ child: ProgramProcess; port: number }> {
  const port = freePort();
  const child = kind === "tcp"
    ? scope.start(ctx, scenario, "tcp_receiver", "services/tcp_receiver/main.ts", {
      env: { ...receiverEnv(ctx, "TCPRCVR_", port, `bench-${scenario}`), ...o.env },
      fdLimit: o.fdLimit,
      underTest: true,
    })
    : scope.start(ctx, scenario, "http_receiver", "services/http_receiver/main.ts", {
      env: { ...receiverEnv(ctx, "RCVR_", port, `bench-${scenario}`), ...o.env },
      underTest: true,
    });
  await child.event("ready");
  return { child, port };
}

/** The last JSON log line (`LOG_FORMAT=json`) with `msg` in a child's stderr. */
export function logLine(stderr: string, msg: string): Record<string, unknown> | undefined {
  const lines = stderr.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith("{")) continue;
    try {
      const o = JSON.parse(lines[i]);
      if (o.msg === msg) return o;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

function skipped(scenario: string, reason: string): ScenarioResult {
  return { scenario, status: "skipped", reason, targets: [] };
}

/** A throughput result from counts, time, CPU and memory. */
export function rateResult(
  ctx: BenchContext,
  scenario: string,
  m: { messages: number; seconds: number; cpuSeconds?: number; peakRssKb?: number },
  targets: (rate: number) => TargetCheck[],
): ScenarioResult {
  const rate = m.messages / m.seconds;
  const bytes = m.messages * MESSAGE_SIZE;
  const base = ctx.done.get("baseline")?.msgs_per_s;
  return {
    scenario,
    status: "ok",
    messages: m.messages,
    bytes,
    seconds: m.seconds,
    msgs_per_s: rate,
    mb_per_s: bytes / 1e6 / m.seconds,
    ratio_to_baseline: base ? rate / base : undefined,
    peak_rss_mb: m.peakRssKb ? m.peakRssKb / 1024 : undefined,
    cpu_s_per_gb: m.cpuSeconds !== undefined ? m.cpuSeconds / (bytes / 1e9) : undefined,
    targets: targets(rate),
  };
}

function rateOf(ctx: BenchContext, name: string): number | undefined {
  const r = ctx.done.get(name);
  return r?.status === "ok" ? r.msgs_per_s : undefined;
}

/** Fills the stream with `count` messages with the baseline publisher; returns its start/done events. */
async function publishBaseline(
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

const baseline: Scenario = {
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
const limitPacked: Scenario = {
  name: "limit-packed",
  repeatable: true,
  description:
    `bare publisher storing chunks of ${BENCH_CHUNK_MESSAGES} messages (256 KiB, window ${LIMIT_PACKED_WINDOW}): packed storage's ceiling`,
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
const limitCore: Scenario = {
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

/** A self-signed certificate for 127.0.0.1 made with `openssl` in a temp dir (TLS scenarios). */
async function benchCertificate(): Promise<{ dir: string; cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lm-bench-tls-" });
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      // An end-entity certificate: rustls refuses a CA certificate as the server's.
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`openssl: ${new TextDecoder().decode(out.stderr)}`);
  return { dir, cert: `${dir}/cert.pem`, key: `${dir}/key.pem` };
}

function tcpScenario(
  name: string,
  connections: number,
  count: (s: Scale) => number,
  o: { tls?: boolean; packed?: boolean } = {},
): Scenario {
  const packed = o.packed ?? true;
  return {
    name,
    description: `${connections} TCP connection(s)${
      o.tls ? " over TLS" : ""
    }, 3 KB messages, into receive-tcp (${
      packed ? "packed, default" : "TCPRCVR_PACK=false: one JetStream message each"
    })`,
    repeatable: true,
    async run(ctx, scope) {
      await resetStream(ctx);
      const n = count(ctx.scale);
      const tls = o.tls ? await benchCertificate() : undefined;
      const rcvPort = freePort();
      const rcv = tls
        ? await startReceiver(ctx, scope, name, "tcp", {
          env: {
            TCPRCVR_TLS_CERT: tls.cert,
            TCPRCVR_TLS_KEY: tls.key,
            TCPRCVR_TLS_ONLY: "true",
            TCPRCVR_TLS_BIND_ADDRESS: `127.0.0.1:${rcvPort}`,
            TCPRCVR_PACK: String(packed),
          },
        }).then((r) => ({ ...r, port: rcvPort }))
        : await startReceiver(ctx, scope, name, "tcp", { env: { TCPRCVR_PACK: String(packed) } });
      const sampler = scope.sample(rcv.child.pid);
      const natsSampler = scope.sample(ctx.nats.pid!);
      const cpu0 = sampler.cpuSeconds();
      const natsCpu0 = natsSampler.cpuSeconds();
      const sender = scope.start(ctx, name, "frame_sender", "tools/bench/frame_sender.ts", {
        args: [
          "--file",
          ctx.framesFile,
          "--port",
          String(rcv.port),
          "--connections",
          String(connections),
          "--count",
          String(n),
          ...(tls ? ["--tls-ca", tls.cert] : []),
        ],
      });
      const senderSampler = scope.sample(sender.pid);
      const start = await sender.event("start", 30_000);
      const senderCpu0 = senderSampler.cpuSeconds();
      const stored = await waitLines(ctx, n, [sender, rcv.child], packed);
      const cpu1 = sampler.cpuSeconds();
      sampler.stop();
      const senderCpu = senderSampler.cpuSeconds() - senderCpu0;
      const natsCpu = natsSampler.cpuSeconds() - natsCpu0;
      const seconds = (stored.lastMs - Number(start.t)) / 1000;
      const result = rateResult(ctx, name, {
        messages: n,
        seconds,
        cpuSeconds: cpu1 - cpu0,
        peakRssKb: sampler.peakRssKb,
      }, (rate) => {
        const suffix = packed ? "" : "-per-message";
        if (connections === 1) {
          const t: TargetCheck[] = [];
          const base = rateOf(ctx, "baseline");
          const factor = packed ? 2 : 0.8;
          if (base) t.push(target(`>= ${factor} x baseline`, rate, factor * base, ">="));
          t.push(target(`>= 6 x seed (${6 * SEED_RATE})`, rate, 6 * SEED_RATE, ">="));
          return t;
        }
        const one = rateOf(ctx, `tcp-1${suffix}`);
        if (o.tls) {
          return one ? [target(">= 0.7 x tcp-1 (TLS costs <= 30 %)", rate, 0.7 * one, ">=")] : [];
        }
        const t: TargetCheck[] = [];
        if (one) t.push(target(`>= tcp-1${suffix}`, rate, one, ">="));
        if (packed && sampler.peakRssKb > 0) {
          t.push(target("peak RSS < 300 MB", sampler.peakRssKb / 1024, 300, "<"));
        }
        return t;
      });
      await sender.wait(30_000);
      const status = await rcv.child.stop();
      if (tls) await Deno.remove(tls.dir, { recursive: true });
      result.extra = {
        receiver_exit: status.code,
        load_cpu_percent: (100 * senderCpu) / seconds,
        receiver_cpu_percent: (100 * (cpu1 - cpu0)) / seconds,
        nats_cpu_percent: (100 * natsCpu) / seconds,
      };
      return result;
    },
  };
}

function http32Scenario(name: string, packed: boolean): Scenario {
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
      const stored = await waitLines(ctx, n, [gen, rcv.child], packed);
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

const httpBatch: Scenario = {
  name: "http-batch",
  repeatable: true,
  description:
    `POSTs of ${HTTP_BATCH_MESSAGES} messages (Content-Type: application/x-heka-stream), 8 in flight, 3 KB messages, into receive-http`,
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
        ],
      },
    );
    const posterSampler = scope.sample(poster.pid);
    const start = await poster.event("start", 30_000);
    const stored = await waitLines(ctx, n, [poster, rcv.child], true);
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
async function waitSink(
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

async function startSink(
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
 * The subscriber draining a pre-filled stream to a local sink, writing
 * `format` (SUB_FORMAT). `subscriber` is NDJSON from a stream of chunks;
 * `subscriber-per-message` NDJSON from one message each; the other formats
 * (chunks) are held to at least 0.75 x `subscriber` (no format more than
 * 25 % slower).
 */
function subscriberScenario(format: string, packed = true): Scenario {
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
      const sub = scope.start(
        ctx,
        name,
        "http_subscriber",
        "services/http_subscriber/main.ts",
        {
          env: {
            ...subscriberEnv(ctx, port, "bench-drain", format),
            // The ack window counts JetStream messages: as many lines held as per message.
            ...(packed ? { SUB_MAX_ACK_PENDING: "128" } : {}),
          },
          underTest: true,
        },
      );
      const sampler = scope.sample(sub.pid);
      const stats = await waitSink(port, n, [sub], 30_000);
      const cpu = sampler.cpuSeconds();
      sampler.stop();
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
      };
      await sub.stop();
      return result;
    },
  };
}

function endToEndScenario(name: string, packed: boolean): Scenario {
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
      const sub = scope.start(
        ctx,
        name,
        "http_subscriber",
        "services/http_subscriber/main.ts",
        {
          env: {
            ...subscriberEnv(ctx, port, "bench-e2e"),
            ...(packed ? { SUB_MAX_ACK_PENDING: "128" } : {}),
          },
          underTest: true,
        },
      );
      await sub.event("ready");
      const rcvSampler = scope.sample(rcv.child.pid);
      const subSampler = scope.sample(sub.pid);
      const cpu0 = rcvSampler.cpuSeconds() + subSampler.cpuSeconds();
      const half = Math.round(
        (rateOf(ctx, packed ? "tcp-1" : "tcp-1-per-message") ?? SEED_RATE) / 2,
      );
      const smoke = ctx.scale.name === "smoke";
      const rate = packed && !smoke
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
      const status = await gen.wait(ctx.scale.e2eSeconds * 1000 + 60_000);
      if (status.code !== 0) {
        throw new Error(`generator exited with ${status.code}: ${gen.stderr.slice(-500)}`);
      }
      const sent = Number(logLine(gen.stderr, "done")?.sent ?? 0);
      await waitLines(ctx, sent, [rcv.child], packed);
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
      };
      return result;
    },
  };
}

/** The hard limit of open files a child can raise its soft limit to. */
function hardFdLimit(): number {
  try {
    const out = new Deno.Command("bash", { args: ["-c", "ulimit -Hn"] }).outputSync();
    const text = new TextDecoder().decode(out.stdout).trim();
    return text === "unlimited" ? Infinity : Number(text);
  } catch {
    return 1024;
  }
}

const idle: Scenario = {
  name: "idle",
  description: "idle TCP connections held open to receive-tcp: its RSS",
  async run(ctx, scope) {
    const n = ctx.scale.idle;
    const need = n + 512;
    const hard = hardFdLimit();
    if (hard < need) {
      return skipped("idle", `open-file hard limit ${hard} < ${need} (raise it: ulimit -Hn)`);
    }
    await resetStream(ctx);
    const rcv = await startReceiver(ctx, scope, "idle", "tcp", {
      fdLimit: need,
      env: n > 19_000 ? { TCPRCVR_MAX_CONNECTIONS: String(n + 1000) } : {},
    });
    const sampler = scope.sample(rcv.child.pid);
    const fd0 = countFds(rcv.child.pid);
    const rss0 = sampler.sample()?.rssKb ?? 0;
    const clients = scope.start(ctx, "idle", "idle_clients", "tools/bench/idle_clients.ts", {
      args: ["--port", String(rcv.port), "--connections", String(n)],
      fdLimit: need,
    });
    const open = await clients.event("open", 120_000);
    const opened = Number(open.n);
    if (opened < n) throw new Error(`only ${opened} of ${n} connections opened: ${open.error}`);
    const deadline = Date.now() + 30_000;
    while (countFds(rcv.child.pid) < fd0 + n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const held = countFds(rcv.child.pid) - fd0;
    if (held < n) throw new Error(`receiver holds ${held} of ${n} connections`);
    await new Promise((r) => setTimeout(r, 2_000));
    const now = sampler.sample()?.rssKb ?? 0;
    sampler.stop();
    const peakMb = sampler.peakRssKb / 1024;
    await clients.stop();
    await rcv.child.stop();
    return {
      scenario: "idle",
      status: "ok",
      peak_rss_mb: peakMb,
      targets: [target(`< 300 MB RSS with ${n} connections`, peakMb, 300, "<")],
      extra: {
        connections: held,
        rss_before_mb: rss0 / 1024,
        rss_held_mb: now / 1024,
        kb_per_connection: (now - rss0) / n,
      },
    };
  },
};

const micro: Scenario = {
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

/** Every scenario, in the order they run (later ones compare with earlier ones). */
export const SCENARIOS: Scenario[] = [
  baseline,
  limitCore,
  limitPacked,
  tcpScenario("tcp-1-per-message", 1, (s) => s.tcp1, { packed: false }),
  tcpScenario("tcp-1", 1, (s) => s.tcp1),
  tcpScenario("tcp-1-tls", 1, (s) => s.tcp1, { tls: true }),
  tcpScenario("tcp-16-per-message", 16, (s) => s.tcp16, { packed: false }),
  tcpScenario("tcp-16", 16, (s) => s.tcp16),
  http32Scenario("http-32-per-message", false),
  http32Scenario("http-32", true),
  httpBatch,
  subscriberScenario("ndjson", false),
  subscriberScenario("ndjson"),
  subscriberScenario("es-bulk"),
  subscriberScenario("loki"),
  subscriberScenario("splunk-hec"),
  endToEndScenario("end-to-end-per-message", false),
  endToEndScenario("end-to-end", true),
  idle,
  micro,
];
