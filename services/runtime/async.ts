/**
 * The small async helpers every program uses, written once: {@link sleep},
 * {@link withTimeout}, {@link backoff} and {@link errorMessage}.
 *
 * @module
 */

/**
 * Resolves after `ms` with true, or early with false when `signal` aborts
 * (at once if it already has). The timer never outlives the wait.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve(!signal?.aborted);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

/**
 * Races `promise` against a timer: its value, or `onTimeout` (default
 * undefined) after `ms`. The timer is cleared either way; the promise is
 * not cancelled.
 */
export async function withTimeout<T, U = undefined>(
  promise: Promise<T>,
  ms: number,
  onTimeout?: U,
): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<U>((resolve) => timer = setTimeout(() => resolve(onTimeout as U), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Exponential backoff for the `attempt`-th retry (1-based): `min × 2^(attempt-1)`
 * capped at `max`; with `jitter` (0–1) a random part of it is taken off
 * (`jitter` 0.5: 50–100 % of the delay).
 */
export function backoff(
  attempt: number,
  minMs: number,
  maxMs: number,
  jitter = 0,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return exp * (1 - jitter) + random() * exp * jitter;
}

/**
 * The message of a thrown value, whatever was thrown. A JetStream API error
 * from nats.js (whose message is only a status such as `503`) gets the
 * server's description appended: `503: maximum bytes exceeded`.
 */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const description = (err as { api_error?: { description?: unknown } }).api_error?.description;
  if (typeof description !== "string" || err.message.includes(description)) return err.message;
  return `${err.message}: ${description}`;
}
