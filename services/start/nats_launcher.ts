/**
 * Finding or starting the NATS server for `deno task start`.
 *
 * @module
 */
export { findNatsServer } from "../runtime/nats_server_bin.ts";
import { sleep } from "../runtime/async.ts";

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
      const n = await Promise.race([
        conn.read(buf),
        new Promise<null>((r) => setTimeout(() => r(null), 2000)),
      ]);
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

/** Waits until a port accepts connections. */
export async function waitForPort(hostname: string, port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname, port })).close();
      return true;
    } catch {
      await sleep(50);
    }
  }
  return false;
}
