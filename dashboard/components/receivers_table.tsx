/**
 * Per receiver: current input rate, and what it accepted, rejected and
 * filtered since the page opened.
 *
 * @module
 */
import type { JSX } from "preact";
import type { ReceiverRow } from "../state.ts";
import { CountCell } from "./count_cell.tsx";
import { FreshnessBadge } from "./status_badge.tsx";

/** The receivers table. */
export function ReceiversTable(p: { rows: ReceiverRow[] }): JSX.Element {
  if (p.rows.length === 0) return <p class="empty">No receiver has reported yet.</p>;
  return (
    <div class="table-wrap">
      <table class="table" data-testid="receivers-table">
        <thead>
          <tr>
            <th scope="col">Receiver</th>
            <th scope="col" class="num">msgs/s</th>
            <th scope="col" class="num">Accepted</th>
            <th scope="col" class="num">Invalid</th>
            <th scope="col" class="num">Refused</th>
            <th scope="col" class="num">Filtered</th>
            <th scope="col" class="num">Conns</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr key={r.label} data-testid="receiver-row">
              <td>
                <div class="strong">{r.sender}</div>
                <div class="mono sub">{r.host}</div>
              </td>
              <CountCell value={r.rate} strong />
              <CountCell value={r.received} />
              <CountCell value={r.invalid} bad testId="receiver-invalid" />
              <CountCell value={r.refused} bad testId="receiver-refused" />
              <CountCell value={r.filtered} />
              <CountCell value={r.connections} />
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
