/**
 * A status label: symbol + word + colour, so it reads without colour too.
 *
 * @module
 */
import type { JSX } from "preact";
import type { Freshness, Level } from "../state.ts";
import { FRESHNESS, LEVELS } from "../theme.ts";

/** A level (OK / WARN / ERROR) badge. */
export function LevelBadge(p: { level: Level; label?: string }): JSX.Element {
  const l = LEVELS[p.level];
  return (
    <span class={`badge badge-${p.level}`} style={{ color: l.color }} data-level={p.level}>
      <span aria-hidden="true">{l.symbol}</span> {p.label ?? l.text}
    </span>
  );
}

/** A freshness (live / late / silent) badge. */
export function FreshnessBadge(p: { freshness: Freshness }): JSX.Element {
  const f = FRESHNESS[p.freshness];
  return (
    <span
      class={`badge badge-${p.freshness}`}
      style={{ color: f.color }}
      data-freshness={p.freshness}
    >
      <span aria-hidden="true">{f.symbol}</span> {f.text}
    </span>
  );
}
