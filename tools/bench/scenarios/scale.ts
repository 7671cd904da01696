/**
 * How much work each bench scenario does: `full`, `quick` and `smoke`.
 *
 * @module
 */

/** How much work each scenario does. */
export interface Scale {
  name: string;
  /** Runs of each repeatable scenario (the median is reported). */
  repeat: number;
  baseline: number;
  tcp1: number;
  tcp16: number;
  http32: number;
  subscriber: number;
  /** Seconds the end-to-end generator runs. */
  e2eSeconds: number;
  idle: number;
  microMb: number;
  microSeconds: number;
}

/** `full` (default), `quick` (under a minute) and `smoke` (tests). */
export const SCALES: Record<"full" | "quick" | "smoke", Scale> = {
  full: {
    name: "full",
    repeat: 3,
    baseline: 300_000,
    tcp1: 300_000,
    tcp16: 300_000,
    http32: 100_000,
    subscriber: 200_000,
    e2eSeconds: 15,
    idle: 10_000,
    microMb: 128,
    microSeconds: 1,
  },
  quick: {
    name: "quick",
    repeat: 1,
    baseline: 80_000,
    tcp1: 80_000,
    tcp16: 80_000,
    http32: 25_000,
    subscriber: 60_000,
    e2eSeconds: 5,
    idle: 10_000,
    microMb: 16,
    microSeconds: 0.3,
  },
  smoke: {
    name: "smoke",
    repeat: 1,
    baseline: 2_000,
    tcp1: 2_000,
    tcp16: 2_000,
    http32: 500,
    subscriber: 2_000,
    e2eSeconds: 2,
    idle: 200,
    microMb: 2,
    microSeconds: 0.05,
  },
};
