/**
 * Waiting in tests: polling a condition, and a receiver's `/health`.
 *
 * Two ways to wait, one module: {@link waitUntil} throws naming what never
 * happened; {@link pollUntil} answers whether it happened, for a test that
 * asserts with its own message (a process's stderr, say).
 *
 * @module
 */

import { sleep } from "../../services/runtime/async.ts";

/** Polls `cond` every 25 ms until it holds; throws naming `what` after `ms`. */
export async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  if (!(await pollUntil(cond, ms, 25))) {
    throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }
}

/**
 * Polls `cond` every `everyMs` until it holds or `ms` passed; resolves with
 * whether it held (checked once more at the deadline).
 */
export async function pollUntil(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  everyMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(everyMs);
  }
  return await cond();
}

/** A receiver's `/health` JSON, from the stats address of its readiness line. */
export async function receiverHealth(stats: string | undefined): Promise<Record<string, unknown>> {
  if (!stats) throw new Error("no stats address in the readiness line");
  const r = await fetch(`http://${stats}/health`);
  return await r.json();
}
