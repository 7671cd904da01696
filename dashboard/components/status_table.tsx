/**
 * The markup every per-source table shares: a placeholder while there are
 * no rows, a header of labelled columns, one row per source and a status
 * (freshness) column last. The receivers, subscribers and last-seen tables
 * differ only in their columns.
 *
 * @module
 */
import { type ComponentChildren, Fragment, type JSX } from "preact";
import type { Freshness } from "../state.ts";
import { CountCell, type CountCellProps } from "./count_cell.tsx";
import { FreshnessBadge } from "./status_badge.tsx";

/** One column of a {@link StatusTable}. */
export interface Column<R> {
  /** Header text. */
  label: string;
  /** Right-aligned (a number). */
  num?: boolean;
  /** Header tooltip. */
  title?: string;
  /** The row's `<td>` of this column. */
  cell: (row: R) => JSX.Element;
}

/** The first column: the sender in bold, `detail(row)` (by default its host) below it. */
export function senderColumn<R extends { sender: string; host: string }>(
  label: string,
  detail: (row: R) => ComponentChildren = (r) => r.host,
): Column<R> {
  return {
    label,
    cell: (r) => (
      <td>
        <div class="strong">{r.sender}</div>
        <div class="mono sub">{detail(r)}</div>
      </td>
    ),
  };
}

/** A right-aligned count column of `value(row)` ({@link CountCell}: `bad`, `strong`, `testId`). */
export function countColumn<R>(
  label: string,
  value: (row: R) => number | null,
  o: Omit<CountCellProps, "value"> & { title?: string } = {},
): Column<R> {
  const { title, ...cell } = o;
  return { label, num: true, title, cell: (r) => <CountCell value={value(r)} {...cell} /> };
}

/** Props of {@link StatusTable}. */
export interface StatusTableProps<R extends { freshness: Freshness }> {
  rows: readonly R[];
  /** Shown instead of the table while there are no rows. */
  empty: string;
  /** `data-testid` of the table and of each row. */
  testId: string;
  rowTestId: string;
  rowKey: (row: R) => string;
  columns: readonly Column<R>[];
}

/** A table of sources with a Status column last. */
export function StatusTable<R extends { freshness: Freshness }>(
  p: StatusTableProps<R>,
): JSX.Element {
  if (p.rows.length === 0) return <p class="empty">{p.empty}</p>;
  return (
    <div class="table-wrap">
      <table class="table" data-testid={p.testId}>
        <thead>
          <tr>
            {p.columns.map((c) => (
              <th key={c.label} scope="col" class={c.num ? "num" : undefined} title={c.title}>
                {c.label}
              </th>
            ))}
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr key={p.rowKey(r)} data-testid={p.rowTestId}>
              {p.columns.map((c) => <Fragment key={c.label}>{c.cell(r)}</Fragment>)}
              <td>
                <FreshnessBadge freshness={r.freshness} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A table component over {@link StatusTable}: everything but the rows fixed,
 * so each table is its columns and names.
 */
export function statusTable<R extends { freshness: Freshness }>(
  spec: Omit<StatusTableProps<R>, "rows">,
): (p: { rows: readonly R[] }) => JSX.Element {
  return (p) => <StatusTable {...spec} rows={p.rows} />;
}
