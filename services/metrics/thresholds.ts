/**
 * Thresholds shared by the programs that report a metric and the dashboard
 * that colours it. No imports: the dashboard bundles this file.
 *
 * @module
 */

/** Seconds of subscriber lag at which the dashboard warns, and shows an error. */
export const LAG_THRESHOLD: { readonly Warn: number; readonly Error: number } = {
  Warn: 30,
  Error: 60,
};
