/**
 * One headline number with its label and an optional status.
 *
 * @module
 */
import type { ComponentChildren, JSX } from "preact";
import type { Level } from "../state.ts";
import { LevelBadge } from "./status_badge.tsx";

/** Props of {@link StatTile}. */
export interface StatTileProps {
  label: string;
  value: string;
  unit?: string;
  /** A second line under the value. */
  hint?: ComponentChildren;
  /** Shows a status badge and tints the tile. */
  level?: Level;
  /** Word of the status badge (default OK / WARN / ERROR). */
  levelLabel?: string;
  testId: string;
}

/** A headline number. */
export function StatTile(p: StatTileProps): JSX.Element {
  return (
    <div class={`tile ${p.level ? `tile-${p.level}` : ""}`} data-testid={p.testId}>
      <div class="tile-label">
        <span>{p.label}</span>
        {p.level && <LevelBadge level={p.level} label={p.levelLabel} />}
      </div>
      <div class="tile-value">
        <span data-testid={`${p.testId}-value`}>{p.value}</span>
        {p.unit && <span class="tile-unit">{p.unit}</span>}
      </div>
      {p.hint && <div class="tile-hint">{p.hint}</div>}
    </div>
  );
}
