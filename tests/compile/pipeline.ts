/**
 * A short pipeline for compiled binaries: a real nats-server, the TCP
 * receiver started from a given command line, a few Heka messages, and the
 * stream checked. The command is a parameter so the same check runs on
 * `bin/tcp_receiver` and on `deno run services/tcp_receiver/main.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect } from "nats";
import { frameMessage } from "../../services/heka/framing.ts";
import { makeMessage, readStream, streamMessages } from "../helpers/messages.ts";
import { freePort, NatsServer, waitForPort } from "../../testing/mod.ts";
import { concat } from "../helpers/receivers.ts";

/** A started command with its stderr collected. */
export interface RunningCommand {
  child: Deno.ChildProcess;
  stderr: () => string;
  /** Waits until stderr matches (or throws after `ms`, showing it). */
  waitFor: (pattern: RegExp, ms?: number) => Promise<void>;
  /** SIGTERM (SIGKILL after 15 s) and wait for the exit. */
  stop: () => Promise<Deno.CommandStatus>;
}

/** Starts `command[0]` with the rest as arguments and `env` added. */
export function startCommand(command: string[], env: Record<string, string>): RunningCommand {
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => exited = s);
  const pump = (async () => {
    const d = new TextDecoder();
    for await (const chunk of child.stderr) text += d.decode(chunk, { stream: true });
  })().catch(() => {});
  return {
    child,
    stderr: () => text,
    async waitFor(pattern, ms = 20_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline && !exited) {
        if (pattern.test(text)) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      if (pattern.test(text)) return;
      throw new Error(
        `${pattern} not seen (exited: ${JSON.stringify(exited)}); stderr:\n${text.slice(-3000)}`,
      );
    },
    async stop() {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // gone
        }
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, 15_000);
      const s = await status;
      clearTimeout(timer);
      await pump;
      return s;
    },
  };
}

/**
 * Runs the TCP receiver from `command` against a fresh nats-server, sends
 * `count` framed messages and checks the stream holds exactly them.
 */
export async function tcpReceiverPipeline(command: string[], count = 5): Promise<void> {
  const nats = await NatsServer.start();
  const port = freePort();
  const receiver = startCommand(command, {
    TCPRCVR_NATS_URL: nats.url,
    TCPRCVR_CLIENT_ID: "compiled-tcp",
    TCPRCVR_BIND_ADDRESS: `127.0.0.1:${port}`,
    TCPRCVR_STATS_ADDRESS: "off",
  });
  const nc = await connect({ servers: nats.url });
  try {
    await receiver.waitFor(/msg=listening/);
    await waitForPort(port);
    const sent = Array.from({ length: count }, (_, i) => makeMessage(i));
    const bytes = concat(sent.map((m) => frameMessage(m.bytes)));
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    for (let w = 0; w < bytes.length;) w += await conn.write(bytes.subarray(w));
    conn.close();
    const deadline = Date.now() + 10_000;
    while (await streamMessages(nc, "LAGERMEISTER") < count && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const stored = await readStream(nc, "LAGERMEISTER");
    assert.equal(stored.length, count);
    for (let i = 0; i < count; i++) assert.deepEqual(stored[i].data, sent[i].bytes);
  } finally {
    await nc.close();
    const status = await receiver.stop();
    await nats.dispose();
    assert.equal(status.code, 0, `the receiver exited with ${status.code}:\n${receiver.stderr()}`);
  }
}
