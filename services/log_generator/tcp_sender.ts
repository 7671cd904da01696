/**
 * Sending Heka stream framing over N TCP connections. Each connection
 * fills one reusable buffer with stamped frames and awaits its write
 * before the next, so a receiver that stops reading (backpressure) slows
 * the generator instead of growing its memory.
 *
 * @module
 */
import { errorMessage, type Logger } from "../log/mod.ts";
import { backoff } from "../runtime/async.ts";
import type { Pacer, SendStats } from "./pacer.ts";
import type { MessageStamper } from "./stamp.ts";

/** Options of {@link runTcpSender}. */
export interface TcpSenderOptions {
  hostname: string;
  port: number;
  /** Connections in parallel. */
  connections: number;
  stamper: MessageStamper;
  pacer: Pacer;
  stats: SendStats;
  log: Logger;
  /** Bytes per write at most (default 64 KiB; at least one frame). */
  writeBytes?: number;
}

/** Writes all of `data`. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await conn.write(data.subarray(at));
}

/** Sends until the pacer's budget is spent (or it is stopped); resolves when every connection closed. */
export async function runTcpSender(o: TcpSenderOptions): Promise<void> {
  await Promise.all(Array.from({ length: o.connections }, (_, i) => runConnection(o, i)));
}

async function connect(o: TcpSenderOptions, id: number): Promise<Deno.TcpConn | undefined> {
  for (let attempt = 1; !o.pacer.done; attempt++) {
    try {
      const conn = await Deno.connect({ hostname: o.hostname, port: o.port });
      conn.setNoDelay(true);
      if (attempt > 1) o.log.info("connected", { connection: id });
      return conn;
    } catch (err) {
      o.stats.errors++;
      if (attempt === 1 || attempt % 10 === 0) {
        o.log.warn("cannot connect; retrying", { connection: id, error: errorMessage(err) });
      }
      await o.pacer.sleep(backoff(attempt, 50, 1000));
    }
  }
  return undefined;
}

async function runConnection(o: TcpSenderOptions, id: number): Promise<void> {
  const { stamper, pacer, stats } = o;
  const buf = new Uint8Array(Math.max(o.writeBytes ?? 65536, stamper.maxFrameSize));
  const perWrite = Math.max(1, Math.floor(buf.length / stamper.maxFrameSize));
  let conn = await connect(o, id);
  while (conn) {
    const n = await pacer.take(perWrite);
    if (n === 0) break;
    const now = Date.now();
    let end = 0;
    for (let i = 0; i < n; i++) end = stamper.writeFrame(buf, end, now);
    try {
      await writeAll(conn, buf.subarray(0, end));
      stats.sent += n;
      stats.bytes += end;
    } catch (err) {
      stats.errors++;
      stats.failed += n;
      o.log.warn("write failed; reconnecting", { connection: id, error: errorMessage(err) });
      try {
        conn.close();
      } catch {
        // already closed
      }
      conn = await connect(o, id);
    }
  }
  if (conn) {
    try {
      // Everything written is in the kernel's hands; a FIN after it, not a reset.
      await conn.closeWrite();
      conn.close();
    } catch {
      // peer already gone
    }
  }
}
