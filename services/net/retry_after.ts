/**
 * `Retry-After`: how long a server asked a client to wait (RFC 9110
 * §10.2.3), read the same way by every program that POSTs (the
 * subscriber's poster, the log generator).
 *
 * @module
 */

/**
 * Parses a `Retry-After` header (delay seconds or an HTTP date) into
 * milliseconds from `now`; undefined when absent or malformed.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
