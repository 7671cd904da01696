/**
 * The poster's retry rules: which statuses are retried without limit, how
 * long to wait before the next attempt (exponential backoff with jitter,
 * over `runtime/async.ts` `backoff`). `Retry-After` is read by
 * `net/retry_after.ts`.
 *
 * @module
 */
import { backoff } from "../runtime/async.ts";

/**
 * Exponential backoff with jitter for the `attempt`-th retry (1-based):
 * `min × 2^(attempt-1)` capped at `max`, then a random 50–100 % of it.
 */
export function backoffDelay(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  return backoff(attempt, minMs, maxMs, 0.5, random);
}

/** Whether an HTTP status is worth retrying without limit. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
