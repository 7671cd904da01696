/**
 * How a `nats-server -js` is launched and when it is ready: the command line
 * (loopback, port, store dir, optional monitor port, name, config file) and
 * the readiness wait. `deno task start` runs it under its supervisor; tests
 * and the bench run it through `testing/nats_server.ts`. Both take the
 * binary from {@link findNatsServer} (`NATS_SERVER_BIN`, or the newest).
 *
 * @module
 */
import { sleep, withTimeout } from "./async.ts";

export { findNatsServer, type NatsServerBin, requireNatsServer } from "./nats_server_bin.ts";

/** Where and how one nats-server runs. */
export interface NatsServerLaunch {
  /** Client port. */
  port: number;
  /** JetStream store directory. */
  storeDir: string;
  /** Address to listen on (default `127.0.0.1`). */
  hostname?: string;
  /** HTTP monitoring port (`/healthz`, `/jsz`); none when omitted. */
  monitorPort?: number;
  /** Server name (needed in clusters). */
  name?: string;
  /** A config file passed with `-c`. */
  configFile?: string;
  /** Extra command-line arguments (auth, TLS, cluster). */
  args?: string[];
}

/** The command-line arguments of `nats-server` for `launch` (JetStream always on). */
export function natsServerArgs(launch: NatsServerLaunch): string[] {
  const args = ["-js", "-a", launch.hostname ?? "127.0.0.1", "-p", String(launch.port)];
  if (launch.monitorPort !== undefined) args.push("-m", String(launch.monitorPort));
  args.push("-sd", launch.storeDir);
  if (launch.name) args.push("-n", launch.name);
  if (launch.configFile) args.push("-c", launch.configFile);
  args.push(...(launch.args ?? []));
  return args;
}

/** What a running server on a port says of itself (its INFO line), or undefined if none. */
export async function probeNats(
  hostname: string,
  port: number,
): Promise<{ jetstream: boolean; version: string } | undefined> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname, port });
  } catch {
    return undefined;
  }
  try {
    const buf = new Uint8Array(4096);
    let text = "";
    const deadline = Date.now() + 2000;
    while (!text.includes("\r\n") && Date.now() < deadline) {
      const n = await withTimeout(conn.read(buf), 2000, null);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const m = /^INFO\s+(\{.*\})/.exec(text);
    if (!m) return { jetstream: false, version: "not NATS" };
    const info = JSON.parse(m[1]);
    return { jetstream: info.jetstream === true, version: String(info.version ?? "?") };
  } catch {
    return undefined;
  } finally {
    conn.close();
  }
}

/**
 * Waits until the server of `launch` has JetStream enabled: with a monitor
 * port, `/healthz?js-enabled-only=true` answers 200 (no client connection
 * is made); without one, its INFO line says `"jetstream":true`. Throws
 * after `ms`, or as soon as `exited()` says the process is gone.
 */
export async function waitNatsReady(
  launch: NatsServerLaunch,
  ms = 15_000,
  exited: () => boolean = () => false,
): Promise<void> {
  const hostname = launch.hostname === "0.0.0.0" || !launch.hostname
    ? "127.0.0.1"
    : launch.hostname;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !exited()) {
    if (launch.monitorPort !== undefined) {
      try {
        const r = await fetch(
          `http://${hostname}:${launch.monitorPort}/healthz?js-enabled-only=true`,
        );
        await r.body?.cancel();
        if (r.ok) return;
      } catch {
        // not up yet
      }
    } else if ((await probeNats(hostname, launch.port))?.jetstream) return;
    await sleep(50);
  }
  throw new Error(
    exited()
      ? `nats-server on port ${launch.port} exited before it was ready`
      : `nats-server on port ${launch.port} not ready after ${ms} ms`,
  );
}
