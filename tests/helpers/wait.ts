/**
 * Waiting in tests: polling a condition, and a receiver's `/health`.
 *
 * @module
 */

/** Polls `cond` every 25 ms until it holds; throws naming `what` after `ms`. */
export async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A receiver's `/health` JSON, from the stats address of its readiness line. */
export async function receiverHealth(stats: string | undefined): Promise<Record<string, unknown>> {
  if (!stats) throw new Error("no stats address in the readiness line");
  const r = await fetch(`http://${stats}/health`);
  return await r.json();
}
