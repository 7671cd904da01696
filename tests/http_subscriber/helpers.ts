/**
 * Helpers for the subscriber's tests: a real local HTTP sink, the
 * subscriber as a real child process, Heka messages published straight
 * into JetStream.
 *
 * @module
 */
import type { JetStreamClient, NatsConnection, StoredMsg } from "nats";
import { encodeMessage } from "../../services/heka/codec.ts";
import { formatUuid, newField, newMessage } from "../../services/heka/message.ts";
import { ensureStream } from "../../services/broker/mod.ts";
import { Logger } from "../../services/log/mod.ts";
import { sleep } from "../../services/runtime/async.ts";
import type { ReadyLine } from "../../services/runtime/ready.ts";
import { ProgramProcess } from "../../testing/program_process.ts";

/** A quiet logger for test code. */
export const testLog = new Logger("test", "error");

export { pollUntil } from "../helpers/wait.ts";
export { sleep };

export { Sink, type SinkBehavior, type SinkRequest } from "../../testing/sink.ts";

/**
 * The subscriber as a child process (`deno run --allow-all
 * services/http_subscriber/main.ts`, over `testing/`'s ProgramProcess)
 * with an environment of only what a test gives it.
 */
export class SubscriberProcess {
  readonly #proc: ProgramProcess;

  private constructor(proc: ProgramProcess) {
    this.#proc = proc;
  }

  /** Spawns the subscriber with these env vars (on top of PATH/HOME; stats endpoint off). */
  static spawn(env: Record<string, string>, args: string[] = []): SubscriberProcess {
    const base: Record<string, string> = { SUB_STATS_ADDRESS: "off" };
    for (const k of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "XDG_CACHE_HOME"]) {
      const v = Deno.env.get(k);
      if (v !== undefined) base[k] = v;
    }
    return new SubscriberProcess(
      ProgramProcess.start("services/http_subscriber/main.ts", { ...base, ...env }, args, {
        name: "http_subscriber",
        clearEnv: true,
      }),
    );
  }

  /** Everything written to stderr so far. */
  get stderr(): string {
    return this.#proc.stderr;
  }

  /** Everything written to stdout so far. */
  get stdout(): string {
    return this.#proc.stdout;
  }

  /** Resolves with the exit status. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#proc.status;
  }

  get pid(): number {
    return this.#proc.pid;
  }

  /** Waits until stderr matches; throws with the captured stderr after the timeout. */
  waitForLog(re: RegExp, timeoutMs = 15_000): Promise<void> {
    return this.#proc.waitFor(re, timeoutMs);
  }

  /**
   * Waits for the readiness line (`{"event":"ready",…}` on stdout: consuming)
   * and returns it; throws with the captured stderr after the timeout.
   */
  waitReady(timeoutMs = 15_000): Promise<ReadyLine> {
    return this.#proc.waitReady(timeoutMs);
  }

  /** Sends a signal (ignores a process already gone). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    this.#proc.signal(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status once output is read. */
  async stop(graceMs = 10_000): Promise<Deno.CommandStatus> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    try {
      return await this.#proc.exit();
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for exit and the end of the output. */
  exited(): Promise<Deno.CommandStatus> {
    return this.#proc.exit();
  }
}

/** A test message: its protobuf bytes and what the subscriber should print for it. */
export interface TestMessage {
  bytes: Uint8Array;
  uuid: string;
  payload: string;
}

/** A Heka message with a random uuid, the given payload and string fields. */
export function hekaMessage(payload: string, fields: Record<string, string> = {}): TestMessage {
  const m = newMessage();
  m.uuid = crypto.getRandomValues(new Uint8Array(16));
  m.timestamp = BigInt(Date.now()) * 1_000_000n;
  m.type = "test";
  m.logger = "subscriber-test";
  m.severity = 6;
  m.hostname = "test-host";
  m.pid = 42;
  m.payload = payload;
  for (const [name, value] of Object.entries(fields)) {
    const f = newField(name);
    f.valueString.push(value);
    m.fields.push(f);
  }
  return { bytes: new Uint8Array(encodeMessage(m)), uuid: formatUuid(m.uuid), payload };
}

/** `n` messages with payloads `${prefix}-${i}` padded to about `size` bytes. */
export function hekaMessages(n: number, prefix = "msg", size = 0): TestMessage[] {
  const out: TestMessage[] = [];
  for (let i = 0; i < n; i++) {
    const head = `${prefix}-${i}`;
    const pad = size > head.length ? " " + "x".repeat(size - head.length - 1) : "";
    out.push(hekaMessage(head + pad));
  }
  return out;
}

/** Creates the stream covering `subject` (as a receiver would). */
export async function makeStream(
  nc: NatsConnection,
  stream: string,
  subject: string,
): Promise<void> {
  await ensureStream(nc, { name: stream, subjects: [subject] }, testLog);
}

/** Publishes messages to JetStream (up to `window` awaiting their ack at once). */
export async function publishAll(
  js: JetStreamClient,
  subject: string,
  msgs: readonly { bytes: Uint8Array; uuid?: string }[],
  window = 256,
): Promise<void> {
  for (let i = 0; i < msgs.length; i += window) {
    await Promise.all(
      msgs.slice(i, i + window).map((m) =>
        js.publish(subject, m.bytes, m.uuid ? { msgID: m.uuid } : undefined)
      ),
    );
  }
}

/**
 * Waits (up to `timeoutMs`) until the durable `consumer` has delivered
 * everything and holds nothing unacked; returns whether it did.
 */
export async function consumerSettled(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  timeoutMs = 5000,
): Promise<boolean> {
  const jsm = await nc.jetstreamManager();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await jsm.consumers.info(stream, consumer);
    if (info.num_ack_pending === 0 && info.num_pending === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

/**
 * Every message the stream holds on `subject`, read by sequence. (Not with
 * an ordered consumer: on nats-server 2.9.10 its repeated fetches skipped
 * messages now and then.)
 */
export async function storedOn(
  nc: NatsConnection,
  stream: string,
  subject: string,
): Promise<StoredMsg[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(stream);
  const out: StoredMsg[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m.subject === subject) out.push(m);
  }
  return out;
}

/** Something a test closes at its end: a sink, a NATS connection. */
export interface Closable {
  close(): Promise<unknown> | unknown;
}

/**
 * A test's tear-down: kills the subscribers it left running (SIGKILL; one
 * a test stopped is already gone), then closes sinks and connections in
 * order, then stops the NATS server.
 */
export async function tearDown(
  subs: readonly (SubscriberProcess | undefined)[],
  closables: readonly Closable[],
  server: { dispose(): Promise<void> },
): Promise<void> {
  for (const sub of subs) {
    if (sub === undefined) continue;
    sub.kill("SIGKILL");
    await sub.exited();
  }
  for (const c of closables) await c.close();
  await server.dispose();
}

/** The parsed JSON lines (throws on a line that is not a JSON object). */
export function parseLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.map((l) => {
    const v = JSON.parse(l);
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new Error(`not a JSON object: ${l.slice(0, 80)}`);
    }
    return v as Record<string, unknown>;
  });
}
