/**
 * Sending one message per HTTP POST from N concurrent keep-alive clients,
 * counting answers by status code. A 503 is retried (same message, same
 * uuid) after its `Retry-After`; a network error is retried a few times
 * on a new connection; other answers are counted as errors.
 *
 * @module
 */
import { errorMessage, type Logger } from "../log/mod.ts";
import { backoff } from "../runtime/async.ts";
import { openPoster, type Poster } from "./http_client.ts";
import type { Pacer, SendStats } from "./pacer.ts";
import type { MessageStamper } from "./stamp.ts";

/** Options of {@link runHttpSender}. */
export interface HttpSenderOptions {
  url: URL;
  /** Concurrent clients, each with its own keep-alive connection. */
  clients: number;
  stamper: MessageStamper;
  pacer: Pacer;
  stats: SendStats;
  log: Logger;
  /** Longest wait for an answer (default 30 s). */
  timeoutMs?: number;
  /** Attempts on network errors before a message is given up (default 5). */
  maxNetworkAttempts?: number;
}

/** Sends until the pacer's budget is spent (or it is stopped). */
export async function runHttpSender(o: HttpSenderOptions): Promise<void> {
  await Promise.all(Array.from({ length: o.clients }, (_, i) => runClient(o, i)));
}

async function runClient(o: HttpSenderOptions, id: number): Promise<void> {
  const { pacer, stats, stamper } = o;
  const maxAttempts = o.maxNetworkAttempts ?? 5;
  let poster: Poster | undefined;
  let lastWarn = 0;
  while (await pacer.take(1) === 1) {
    const body = stamper.nextMessage();
    for (let networkAttempts = 0;;) {
      let result;
      try {
        if (poster === undefined || poster.closed) poster = await openPoster(o.url, o.timeoutMs);
        result = await poster.post(body);
      } catch (err) {
        stats.errors++;
        poster?.close();
        poster = undefined;
        networkAttempts++;
        if (performance.now() - lastWarn > 1000) {
          lastWarn = performance.now();
          o.log.warn("request failed", { client: id, error: errorMessage(err) });
        }
        if (networkAttempts >= maxAttempts || pacer.stopped) {
          stats.failed++;
          break;
        }
        await pacer.sleep(backoff(networkAttempts, 100, 1000));
        continue;
      }
      const code = String(result.status);
      stats.statuses[code] = (stats.statuses[code] ?? 0) + 1;
      if (result.status >= 200 && result.status < 300) {
        stats.sent++;
        stats.bytes += body.length;
        break;
      }
      if (result.status === 503) {
        stats.retried++;
        await pacer.sleep(result.retryAfterMs ?? 1000);
        if (!pacer.stopped) continue;
      } else {
        stats.errors++;
      }
      stats.failed++;
      break;
    }
  }
  poster?.close();
}
