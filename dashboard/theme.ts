/**
 * Colours and line styles. Series colours are the Okabe–Ito palette
 * (distinguishable with the common colour-vision deficiencies), lifted for
 * a dark background; lines also differ by dash pattern, and every status
 * carries a text label and a symbol, never colour alone.
 *
 * @module
 */
import type { Freshness, Level } from "./state.ts";

/** Line colours, in the order series get them. */
export const SERIES_COLORS: readonly string[] = [
  "#56B4E9", // sky blue
  "#E69F00", // orange
  "#3CC9A0", // bluish green
  "#F0E442", // yellow
  "#D98CC0", // reddish purple
  "#6FA8F5", // blue
  "#F07B3F", // vermillion
  "#C8CDD4", // grey
];

/** Dash patterns (solid, dashed, dotted, dash-dot), so lines differ by more than colour. */
export const SERIES_DASHES: readonly (number[] | undefined)[] = [
  undefined,
  [8, 4],
  [2, 3],
  [10, 3, 2, 3],
];

/** Style of the i-th series of a chart. */
export function seriesStyle(i: number): { color: string; dash: number[] | undefined } {
  return {
    color: SERIES_COLORS[i % SERIES_COLORS.length],
    dash: SERIES_DASHES[i % SERIES_DASHES.length],
  };
}

/** Colour, symbol and word of each level. */
export const LEVELS: Record<Level, { color: string; symbol: string; text: string }> = {
  ok: { color: "#56B4E9", symbol: "●", text: "OK" },
  warn: { color: "#E69F00", symbol: "▲", text: "WARN" },
  error: { color: "#FF6E6E", symbol: "■", text: "ERROR" },
};

/** Colour, symbol and word of each freshness. */
export const FRESHNESS: Record<Freshness, { color: string; symbol: string; text: string }> = {
  live: { color: "#56B4E9", symbol: "●", text: "live" },
  late: { color: "#E69F00", symbol: "▲", text: "late" },
  silent: { color: "#FF6E6E", symbol: "■", text: "silent" },
};

/** Chart chrome on the dark theme. */
export const CHART = {
  axis: "#98A2B3",
  grid: "rgba(152, 162, 179, 0.12)",
  /** The panel colour, behind labels drawn on the plot. */
  background: "#131a22",
  font: "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
};
