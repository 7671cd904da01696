/**
 * The lag gauge: how far the subscriber is behind, on a half dial with the
 * Warn and Error zones marked, the value in words and a status label.
 *
 * @module
 */
import type { JSX } from "preact";
import { formatSeconds } from "../format.ts";
import type { Level, Threshold } from "../state.ts";
import { LEVELS } from "../theme.ts";
import { LevelBadge } from "./status_badge.tsx";

/** Props of {@link LagGauge}. */
export interface LagGaugeProps {
  /** Seconds; null when no subscriber reports lag. */
  lag: number | null;
  threshold: Threshold;
  level: Level;
}

const CX = 100;
const CY = 96;
const R = 78;

function point(v: number, max: number): [number, number] {
  const a = Math.PI * (1 - Math.min(Math.max(v / max, 0), 1));
  return [CX + R * Math.cos(a), CY - R * Math.sin(a)];
}

function arc(from: number, to: number, max: number): string {
  const [x0, y0] = point(from, max);
  const [x1, y1] = point(to, max);
  return `M ${x0.toFixed(2)} ${y0.toFixed(2)} A ${R} ${R} 0 0 1 ${x1.toFixed(2)} ${y1.toFixed(2)}`;
}

/** A half-dial gauge of the lag against its thresholds. */
export function LagGauge(p: LagGaugeProps): JSX.Element {
  const { Warn, Error } = p.threshold;
  const max = Math.max(Error * 1.5, (p.lag ?? 0) * 1.1);
  const color = LEVELS[p.level].color;
  const [wx, wy] = point(Warn, max);
  const [ex, ey] = point(Error, max);
  return (
    <div class="gauge" data-testid="lag-gauge" data-level={p.level} data-value={p.lag ?? ""}>
      <div class="tile-label">
        <span>Lag</span>
        {p.lag !== null ? <LevelBadge level={p.level} /> : <span class="muted">no data</span>}
      </div>
      <svg
        viewBox="0 0 200 112"
        role="img"
        aria-label={`Lag ${formatSeconds(p.lag)}, ${
          LEVELS[p.level].text
        }; warn at ${Warn} s, error at ${Error} s`}
      >
        <path d={arc(0, Warn, max)} class="gauge-zone" stroke={LEVELS.ok.color} />
        <path d={arc(Warn, Error, max)} class="gauge-zone" stroke={LEVELS.warn.color} />
        <path d={arc(Error, max, max)} class="gauge-zone" stroke={LEVELS.error.color} />
        {p.lag !== null && p.lag > 0 && (
          <path d={arc(0, Math.max(p.lag, max * 0.004), max)} class="gauge-value" stroke={color} />
        )}
        <line
          x1={wx}
          y1={wy}
          x2={CX + (wx - CX) * 1.2}
          y2={CY + (wy - CY) * 1.2}
          class="gauge-tick"
        />
        <line
          x1={ex}
          y1={ey}
          x2={CX + (ex - CX) * 1.2}
          y2={CY + (ey - CY) * 1.2}
          class="gauge-tick"
        />
        <text x={CX + (wx - CX) * 1.27} y={CY + (wy - CY) * 1.27} class="gauge-tick-label">
          {Warn}s
        </text>
        <text x={CX + (ex - CX) * 1.27} y={CY + (ey - CY) * 1.27} class="gauge-tick-label">
          {Error}s
        </text>
        <text x={CX} y={CY - 14} class="gauge-value-text" fill={p.lag === null ? undefined : color}>
          {formatSeconds(p.lag)}
        </text>
        <text x={CX} y={CY + 6} class="gauge-caption">
          warn {Warn} s · error {Error} s
        </text>
      </svg>
    </div>
  );
}
