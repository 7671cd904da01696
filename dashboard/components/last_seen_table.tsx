/**
 * When each sender (on each host) was last heard of.
 *
 * @module
 */
import { formatAgo, formatClock, formatNumber } from "../format.ts";
import type { SourceRow } from "../state.ts";
import { statusTable } from "./status_table.tsx";

/** The last-seen table. */
export const LastSeenTable = statusTable<SourceRow>({
  empty: "No sender has reported yet.",
  testId: "last-seen-table",
  rowTestId: "last-seen-row",
  rowKey: (r) => `${r.sender}\u0000${r.host}`,
  columns: [
    { label: "Sender", cell: (r) => <td class="strong">{r.sender}</td> },
    { label: "Host", cell: (r) => <td class="mono">{r.host || "—"}</td> },
    { label: "Last event", cell: (r) => <td class="mono">{formatClock(r.lastTimestamp)}</td> },
    {
      label: "Ago",
      num: true,
      cell: (r) => <td class="num" data-testid="last-seen-ago">{formatAgo(r.agoSeconds)}</td>,
    },
    { label: "Events", num: true, cell: (r) => <td class="num">{formatNumber(r.events)}</td> },
  ],
});
