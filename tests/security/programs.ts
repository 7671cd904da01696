/**
 * Every NATS-using program, started as a real child process with a given
 * way to reach NATS (URL, creds, TLS files), made to do its job minimally,
 * and its output checked for leaked secrets. Shared by the auth and TLS
 * tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { NatsConnection } from "nats";
import { frameMessage } from "../../services/heka/framing.ts";
import { makeMessage, streamMessages } from "../helpers/messages.ts";
import { freePort, ProgramProcess, waitForPort } from "../../testing/mod.ts";
import { concat, postMessage } from "../helpers/receivers.ts";
import { waitUntil } from "../helpers/wait.ts";

/** A program that connects to NATS, by its env prefix. */
export interface NatsProgram {
  /** Short name for messages. */
  name: string;
  /** Script path in the repository. */
  script: string;
  /** Env var prefix, e.g. `TCPRCVR_`. */
  prefix: string;
}

/** The programs that connect to NATS (the log generator and heka_cat do not). */
export const NATS_PROGRAMS: readonly NatsProgram[] = [
  { name: "tcp_receiver", script: "services/tcp_receiver/main.ts", prefix: "TCPRCVR_" },
  { name: "http_receiver", script: "services/http_receiver/main.ts", prefix: "RCVR_" },
  { name: "http_subscriber", script: "services/http_subscriber/main.ts", prefix: "SUB_" },
  { name: "stats_proxy", script: "services/stats_proxy/main.ts", prefix: "PROXY_" },
];

/** How a program reaches NATS: the `*_NATS_*` values without the prefix (`NATS_URL`, ...). */
export type NatsAccess = Record<string, string>;

/** `access` under a program's prefix. */
export function prefixed(prefix: string, access: NatsAccess): Record<string, string> {
  return Object.fromEntries(Object.entries(access).map(([k, v]) => [`${prefix}${k}`, v]));
}

/** Env of a program apart from NATS access: ports, ids, quick batching, no stats port. */
export function baseEnv(p: NatsProgram, port: number): Record<string, string> {
  switch (p.prefix) {
    case "TCPRCVR_":
    case "RCVR_":
      return {
        [`${p.prefix}CLIENT_ID`]: `sec-${p.name}`,
        [`${p.prefix}BIND_ADDRESS`]: `127.0.0.1:${port}`,
        [`${p.prefix}STATS_ADDRESS`]: "off",
        [`${p.prefix}NATS_RECONNECT_WAIT`]: "100ms",
      };
    case "SUB_":
      return {
        SUB_CLIENT_ID: "sec-subscriber",
        SUB_STUB_HTTP: "true",
        SUB_DELIVER_ALL: "true",
        SUB_BATCH_TIMEOUT: "200ms",
        SUB_STATS_ADDRESS: "off",
        SUB_NATS_RECONNECT_WAIT: "100ms",
      };
    default:
      return {
        PROXY_HTTP_PORT: String(port),
        PROXY_BIND_ADDRESS: "127.0.0.1",
        PROXY_NATS_RECONNECT_WAIT: "100ms",
      };
  }
}

/** A started program and the port it serves on (receivers, proxy). */
export interface StartedProgram {
  program: NatsProgram;
  proc: ProgramProcess;
  port: number;
}

/** Starts a program with `access` (unprefixed `NATS_*` values) and extra env. */
export function startProgram(
  p: NatsProgram,
  access: NatsAccess,
  extra: Record<string, string> = {},
): StartedProgram {
  const port = freePort();
  const proc = ProgramProcess.start(p.script, {
    ...baseEnv(p, port),
    ...prefixed(p.prefix, access),
    ...extra,
  });
  return { program: p, proc, port };
}

/** Stops every started program (SIGTERM; SIGKILL when one hangs), never throwing. */
export async function stopAll(started: StartedProgram[]): Promise<void> {
  await Promise.all(started.map((s) => s.proc.stop("SIGTERM", 15_000).catch(() => s.proc.kill())));
}

/** Fails when any secret appears in a program's stdout or stderr. */
export function assertNoSecrets(started: StartedProgram[], secrets: string[]): void {
  for (const s of started) {
    for (const secret of secrets) {
      assert.ok(
        !s.proc.stderr.includes(secret) && !s.proc.stdout.includes(secret),
        `${s.program.name} printed a secret (${secret.slice(0, 3)}…)`,
      );
    }
  }
}

/** The highest stream sequence any consumer of `stream` has acknowledged. */
async function ackedUpTo(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await nc.jetstreamManager();
  let best = 0;
  for await (const c of jsm.consumers.list(stream)) best = Math.max(best, c.ack_floor.stream_seq);
  return best;
}

/**
 * Runs every NATS program against a server with `access` and proves each
 * works: the TCP receiver stores 3 framed messages, the HTTP receiver
 * stores a POST (200 comes after the JetStream ack), the subscriber
 * consumes all 4 (its consumer acks them after the stub's 200), the stats
 * proxy's `/health` says ok with NATS connected. `admin` (connected with
 * the same kind of access) reads the stream. Each program must log
 * `connected to NATS` and never print any of `secrets`. Stops everything.
 */
export async function exerciseAllPrograms(
  admin: NatsConnection,
  access: NatsAccess,
  secrets: string[],
): Promise<void> {
  const [tcpP, httpP, subP, proxyP] = NATS_PROGRAMS;
  const started: StartedProgram[] = [];
  try {
    // Receivers first: they create the stream and store 4 messages.
    const tcp = startProgram(tcpP, access);
    const http = startProgram(httpP, access);
    started.push(tcp, http);
    for (const r of [tcp, http]) {
      await r.proc.waitFor(/msg="connected to NATS"/);
      await r.proc.waitReady();
      await waitForPort(r.port);
    }
    const frames = [0, 1, 2].map((i) => frameMessage(makeMessage(i).bytes));
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
    const bytes = concat(frames);
    for (let w = 0; w < bytes.length;) w += await conn.write(bytes.subarray(w));
    conn.close();
    const posted = await postMessage(http.port, makeMessage(3).bytes);
    assert.equal(posted.status, 200, `HTTP receiver answered ${JSON.stringify(posted.json)}`);
    await waitUntil(
      "4 messages stored",
      async () => await streamMessages(admin, "LAGERMEISTER") >= 4,
      15_000,
    );
    assert.equal(await streamMessages(admin, "LAGERMEISTER"), 4);

    // Then the subscriber (consumes them all) and the stats proxy.
    const sub = startProgram(subP, access);
    const proxy = startProgram(proxyP, access);
    started.push(sub, proxy);
    await sub.proc.waitFor(/msg="connected to NATS"/);
    // 4 log messages: 4 stream sequences per message, fewer in chunks.
    const lastSeq = (await (await admin.jetstreamManager()).streams.info("LAGERMEISTER")).state
      .last_seq;
    await waitUntil(
      "subscriber acked all 4 messages",
      async () => await ackedUpTo(admin, "LAGERMEISTER") >= lastSeq,
      20_000,
    );
    await proxy.proc.waitFor(/msg="connected to NATS"/);
    let health: Record<string, unknown> = {};
    await waitUntil("stats proxy healthy", async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${proxy.port}/health`);
        health = await r.json();
        return r.ok;
      } catch {
        return false;
      }
    });
    assert.equal(health.status, "ok");
    assert.equal(health.nats, "connected");
    for (const s of started) assert.equal(s.proc.exited, undefined, `${s.program.name} exited`);
  } finally {
    await stopAll(started);
  }
  assertNoSecrets(started, secrets);
}

/**
 * Starts every NATS program with access the server refuses and proves each
 * logs a clear `cannot connect to NATS; retrying` line of `kind`, with
 * `hint`, keeps retrying (attempt `attempts` is logged and the process
 * still runs) and prints none of `secrets`.
 */
export async function expectRefusedByAll(
  access: NatsAccess,
  o: {
    kind: "auth" | "tls";
    hint: RegExp;
    secrets: string[];
    /** Which attempt must be logged too (3 by default: retried at least twice). */
    attempts?: number;
    /** How long to wait for each log line. */
    ms?: number;
  },
): Promise<void> {
  const started = NATS_PROGRAMS.map((p) => startProgram(p, access));
  try {
    const line = new RegExp(`msg="cannot connect to NATS; retrying".*kind=${o.kind}`);
    await Promise.all(started.map(async (s) => {
      await s.proc.waitFor(line, o.ms ?? 20_000);
      await s.proc.waitFor(
        new RegExp(`kind=${o.kind} hint=.*attempt=${o.attempts ?? 3} `),
        o.ms ?? 20_000,
      );
      const lines = s.proc.stderr.split("\n").filter((l) => line.test(l));
      assert.match(lines[0], o.hint, `${s.program.name}: ${lines[0]}`);
      assert.doesNotMatch(s.proc.stderr, /msg="connected to NATS"/);
      assert.equal(s.proc.exited, undefined, `${s.program.name} must keep retrying, not exit`);
    }));
  } finally {
    await stopAll(started);
  }
  assertNoSecrets(started, o.secrets);
}
