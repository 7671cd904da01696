/**
 * When each sender (on each host) was last heard of.
 *
 * @module
 */
import type { JSX } from "preact";
import { formatAgo, formatClock, formatNumber } from "../format.ts";
import type { SourceRow } from "../state.ts";
import { FreshnessBadge } from "./status_badge.tsx";

/** The last-seen table. */
export function LastSeenTable(p: { rows: SourceRow[] }): JSX.Element {
  if (p.rows.length === 0) return <p class="empty">No sender has reported yet.</p>;
  return (
    <div class="table-wrap">
      <table class="table" data-testid="last-seen-table">
        <thead>
          <tr>
            <th scope="col">Sender</th>
            <th scope="col">Host</th>
            <th scope="col">Last event</th>
            <th scope="col" class="num">Ago</th>
            <th scope="col" class="num">Events</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr key={`${r.sender}\u0000${r.host}`} data-testid="last-seen-row">
              <td class="strong">{r.sender}</td>
              <td class="mono">{r.host || "—"}</td>
              <td class="mono">{formatClock(r.lastTimestamp)}</td>
              <td class="num" data-testid="last-seen-ago">{formatAgo(r.agoSeconds)}</td>
              <td class="num">{formatNumber(r.events)}</td>
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
