/**
 * A numeric table cell; counts of bad things are highlighted once non-zero.
 *
 * @module
 */
import type { JSX } from "preact";
import { formatNumber } from "../format.ts";

/** Props of {@link CountCell}. */
export interface CountCellProps {
  value: number | null;
  /** Highlights non-zero values (errors, drops). */
  bad?: boolean;
  strong?: boolean;
  testId?: string;
}

/** A right-aligned number cell. */
export function CountCell(p: CountCellProps): JSX.Element {
  const cls = ["num", p.bad && (p.value ?? 0) > 0 ? "bad" : "", p.strong ? "strong" : ""];
  return (
    <td class={cls.join(" ").trim()} data-testid={p.testId} data-value={p.value ?? ""}>
      {formatNumber(p.value)}
      {p.bad && (p.value ?? 0) > 0 && <span class="flag" aria-hidden="true">▲</span>}
    </td>
  );
}
