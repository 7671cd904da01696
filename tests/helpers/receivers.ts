/**
 * Starting the real receivers as child processes against a test's
 * nats-server, and talking to them like clients do.
 *
 * @module
 */
import { freePort, type NatsServer, ProgramProcess, waitForPort } from "../../testing/mod.ts";

/** A receiver child process, its port and its readiness line. */
export interface RunningReceiver {
  proc: ProgramProcess;
  /** The plaintext port (the TLS port when only TLS is served). */
  port: number;
  /** `host:port` of its stats endpoint, when it serves one. */
  stats?: string;
  /** The TLS port, when `TCPRCVR_TLS_CERT` is given. */
  tlsPort?: number;
}

/** Starts `services/tcp_receiver/main.ts` and waits until it listens. */
export async function startTcpReceiver(
  nats: NatsServer | string,
  env: Record<string, string> = {},
): Promise<RunningReceiver> {
  const port = freePort();
  const tlsPort = env.TCPRCVR_TLS_CERT ? freePort() : undefined;
  const proc = ProgramProcess.start("services/tcp_receiver/main.ts", {
    TCPRCVR_NATS_URL: typeof nats === "string" ? nats : nats.url,
    TCPRCVR_CLIENT_ID: "test-tcp",
    TCPRCVR_BIND_ADDRESS: `127.0.0.1:${port}`,
    ...(tlsPort ? { TCPRCVR_TLS_BIND_ADDRESS: `127.0.0.1:${tlsPort}` } : {}),
    TCPRCVR_STATS_ADDRESS: "off",
    TCPRCVR_NATS_RECONNECT_WAIT: "100ms",
    ...env,
  });
  const ready = await proc.waitReady();
  if (tlsPort) await waitForPort(tlsPort);
  if (env.TCPRCVR_TLS_ONLY === "true") return { proc, port: tlsPort!, tlsPort, stats: ready.stats };
  await waitForPort(port);
  return { proc, port, tlsPort, stats: ready.stats };
}

/** Starts `services/http_receiver/main.ts` and waits until it listens. */
export async function startHttpReceiver(
  nats: NatsServer | string,
  env: Record<string, string> = {},
): Promise<RunningReceiver> {
  const port = freePort();
  const proc = ProgramProcess.start("services/http_receiver/main.ts", {
    RCVR_NATS_URL: typeof nats === "string" ? nats : nats.url,
    RCVR_CLIENT_ID: "test-http",
    RCVR_BIND_ADDRESS: `127.0.0.1:${port}`,
    RCVR_STATS_ADDRESS: "off",
    RCVR_NATS_RECONNECT_WAIT: "100ms",
    ...env,
  });
  const ready = await proc.waitReady();
  await waitForPort(port);
  return { proc, port, stats: ready.stats };
}

/** Random bytes that contain no record separator (0x1E). */
export function garbage(n: number): Uint8Array {
  const g = crypto.getRandomValues(new Uint8Array(n));
  for (let i = 0; i < n; i++) if (g[i] === 0x1e) g[i] = 0x20;
  return g;
}

/** Writes `data` to a TCP port in random chunk sizes (1 byte to `maxChunk`). */
export async function writeInChunks(
  port: number,
  data: Uint8Array,
  maxChunk = 9000,
): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    let at = 0;
    while (at < data.length) {
      const n = Math.min(data.length - at, 1 + Math.floor(Math.random() ** 2 * maxChunk));
      let w = 0;
      while (w < n) w += await conn.write(data.subarray(at + w, at + n));
      at += n;
    }
  } finally {
    conn.close();
  }
}

/** Concatenates byte arrays. */
export { concatBytes as concat } from "../../services/net/bytes.ts";

/** POSTs one body to the HTTP receiver. */
export async function postMessage(
  port: number,
  body: Uint8Array,
  init: RequestInit = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    body: body as Uint8Array<ArrayBuffer>,
    ...init,
  });
  const text = await r.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: r.status, json, headers: r.headers };
}
