/**
 * Per subscriber: its output format, delivery rate, batches, lag, backlog,
 * and the retries, failures and dead letters since the page opened; for
 * stores that answer per item (ES bulk), the items retried alone and
 * refused.
 *
 * @module
 */
import type { JSX } from "preact";
import { formatSeconds } from "../format.ts";
import type { SubscriberRow } from "../state.ts";
import { LEVELS } from "../theme.ts";
import { countColumn, senderColumn, statusTable } from "./status_table.tsx";

/** The lag cell: coloured, with the level's symbol, once above the warn level. */
function LagCell(p: { row: SubscriberRow }): JSX.Element {
  const { lag, lagLevel } = p.row;
  const flagged = lag !== null && lagLevel !== "ok";
  return (
    <td class="num" style={flagged ? { color: LEVELS[lagLevel].color } : undefined}>
      {formatSeconds(lag)}
      {flagged && ` ${LEVELS[lagLevel].symbol}`}
    </td>
  );
}

/** The subscribers table. */
export const SubscribersTable = statusTable<SubscriberRow>({
  empty: "No subscriber has reported yet.",
  testId: "subscribers-table",
  rowTestId: "subscriber-row",
  rowKey: (r) => r.label,
  columns: [
    senderColumn("Subscriber", (r) => (
      <>
        {r.host} · <span data-testid="subscriber-format">{r.format}</span>
      </>
    )),
    countColumn("msgs/s", (r) => r.rate, { strong: true }),
    countColumn("Batches/s", (r) => r.batchesPerSecond),
    countColumn("Batch size", (r) => r.batchSize),
    { label: "Lag", num: true, cell: (r) => <LagCell row={r} /> },
    countColumn("Pending", (r) => r.pending, { testId: "subscriber-pending" }),
    countColumn("Retries", (r) => r.retries, { bad: true }),
    countColumn("Failed", (r) => r.failures, { bad: true, testId: "subscriber-failures" }),
    countColumn("Dead letters", (r) => r.deadLettered, {
      bad: true,
      testId: "subscriber-dead-lettered",
    }),
    countColumn("Item retries", (r) => r.itemRetries, {
      title: "items a store failed one by one, sent again alone",
      testId: "subscriber-item-retries",
    }),
    countColumn("Items refused", (r) => r.itemsRefused, {
      title: "items a store refused one by one (dead letters)",
      bad: true,
      testId: "subscriber-items-refused",
    }),
  ],
});
