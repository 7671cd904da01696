/**
 * Helpers for the subscriber's tests: a real local HTTP sink, the
 * subscriber as a real child process, Heka messages published straight
 * into JetStream.
 *
 * @module
 */
import type { JetStreamClient, NatsConnection } from "nats";
import { encodeMessage } from "../../services/heka/codec.ts";
import { formatUuid, newField, newMessage } from "../../services/heka/message.ts";
import { ensureStream } from "../../services/broker/mod.ts";
import { Logger } from "../../services/log/mod.ts";
import { findReadyLine, type ReadyLine } from "../../services/runtime/ready.ts";

/** Path of the subscriber's entry point. */
export const SUBSCRIBER_MAIN = new URL("../../services/http_subscriber/main.ts", import.meta.url)
  .pathname;

/** The project root (where deno.json is). */
export const PROJECT_ROOT = new URL("../../", import.meta.url).pathname;

/** A quiet logger for test code. */
export const testLog = new Logger("test", "error");

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until true or the timeout; returns whether it became true. */
export async function waitUntil(
  cond: () => boolean,
  timeoutMs: number,
  everyMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}

export { Sink, type SinkBehavior, type SinkRequest } from "../../testing/sink.ts";

/** The subscriber as a child process (`deno run --allow-all services/http_subscriber/main.ts`). */
export class SubscriberProcess {
  /** Everything written to stderr so far. */
  stderr = "";
  /** Everything written to stdout so far. */
  stdout = "";
  readonly status: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  readonly #readers: Promise<void>[];

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.status = child.status;
    this.#readers = [
      this.#read(child.stderr, (t) => this.stderr += t),
      this.#read(child.stdout, (t) => this.stdout += t),
    ];
  }

  /** Spawns the subscriber with these env vars (on top of PATH/HOME; stats endpoint off). */
  static spawn(env: Record<string, string>, args: string[] = []): SubscriberProcess {
    const base: Record<string, string> = { NO_COLOR: "1", SUB_STATS_ADDRESS: "off" };
    for (const k of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "XDG_CACHE_HOME"]) {
      const v = Deno.env.get(k);
      if (v !== undefined) base[k] = v;
    }
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", SUBSCRIBER_MAIN, ...args],
      cwd: PROJECT_ROOT,
      env: { ...base, ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new SubscriberProcess(child);
  }

  get pid(): number {
    return this.#child.pid;
  }

  async #read(stream: ReadableStream<Uint8Array>, add: (t: string) => void): Promise<void> {
    const dec = new TextDecoder();
    for await (const chunk of stream) add(dec.decode(chunk, { stream: true }));
  }

  /** Waits until stderr matches; throws with the captured stderr after the timeout. */
  async waitForLog(re: RegExp, timeoutMs = 15_000): Promise<void> {
    let exited = false;
    this.status.then(() => exited = true);
    const ok = await waitUntil(() => re.test(this.stderr) || exited, timeoutMs);
    if (!ok || !re.test(this.stderr)) {
      throw new Error(`subscriber log never matched ${re}; stderr:\n${this.stderr}`);
    }
  }

  /**
   * Waits for the readiness line (`{"event":"ready",…}` on stdout: consuming)
   * and returns it; throws with the captured stderr after the timeout.
   */
  async waitReady(timeoutMs = 15_000): Promise<ReadyLine> {
    let exited = false;
    this.status.then(() => exited = true);
    await waitUntil(() => findReadyLine(this.stdout) !== undefined || exited, timeoutMs);
    const line = findReadyLine(this.stdout);
    if (!line) throw new Error(`subscriber never became ready; stderr:\n${this.stderr}`);
    return line;
  }

  /** Sends a signal (ignores a process already gone). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already exited
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status once output is read. */
  async stop(graceMs = 10_000): Promise<Deno.CommandStatus> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    const status = await this.status;
    clearTimeout(timer);
    await Promise.all(this.#readers).catch(() => {});
    return status;
  }

  /** Waits for exit and the end of the output. */
  async exited(): Promise<Deno.CommandStatus> {
    const status = await this.status;
    await Promise.all(this.#readers).catch(() => {});
    return status;
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
