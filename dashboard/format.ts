/**
 * Number and time formatting for the dashboard: compact counts (12.3k),
 * rates, bytes, seconds, "x s ago".
 *
 * @module
 */

/** What is shown when there is no value. */
export const NO_VALUE = "—";

/** A count or rate, compact above 10,000 (12.3k, 4.5M); one decimal below 10 when fractional. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(a >= 1e10 ? 0 : 1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  if (Number.isInteger(v) || a >= 10) return Math.round(v).toLocaleString("en-US");
  return v.toFixed(a >= 1 ? 1 : 2);
}

/** Bytes in binary units (1.5 MiB). */
export function formatBytes(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let n = v;
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n.toFixed(Math.abs(n) >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Seconds, with a unit: 0.42 s, 12.0 s, 3m 20s. */
export function formatSeconds(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  if (v >= 120) return `${Math.floor(v / 60)}m ${Math.round(v % 60)}s`;
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} s`;
}

/** An axis label in seconds: 0 s, 2.5 s, 10 s. */
export function formatSecondsAxis(v: number): string {
  return `${Number(v.toFixed(2))} s`;
}

/** "just now", "12 s ago", "3 min ago", "2 h ago". */
export function formatAgo(seconds: number): string {
  if (seconds < 1) return "just now";
  if (seconds < 120) return `${Math.floor(seconds)} s ago`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

/** Local wall-clock time of a unix-seconds timestamp (HH:MM:SS). */
export function formatClock(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
