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
import { CountCell } from "./count_cell.tsx";
import { FreshnessBadge } from "./status_badge.tsx";

/** The subscribers table. */
export function SubscribersTable(p: { rows: SubscriberRow[] }): JSX.Element {
  if (p.rows.length === 0) return <p class="empty">No subscriber has reported yet.</p>;
  return (
    <div class="table-wrap">
      <table class="table" data-testid="subscribers-table">
        <thead>
          <tr>
            <th scope="col">Subscriber</th>
            <th scope="col" class="num">msgs/s</th>
            <th scope="col" class="num">Batches/s</th>
            <th scope="col" class="num">Batch size</th>
            <th scope="col" class="num">Lag</th>
            <th scope="col" class="num">Pending</th>
            <th scope="col" class="num">Retries</th>
            <th scope="col" class="num">Failed</th>
            <th scope="col" class="num">Dead letters</th>
            <th scope="col" class="num" title="items a store failed one by one, sent again alone">
              Item retries
            </th>
            <th scope="col" class="num" title="items a store refused one by one (dead letters)">
              Items refused
            </th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr key={r.label} data-testid="subscriber-row">
              <td>
                <div class="strong">{r.sender}</div>
                <div class="mono sub">
                  {r.host} · <span data-testid="subscriber-format">{r.format}</span>
                </div>
              </td>
              <CountCell value={r.rate} strong />
              <CountCell value={r.batchesPerSecond} />
              <CountCell value={r.batchSize} />
              <td
                class="num"
                style={r.lag !== null && r.lagLevel !== "ok"
                  ? { color: LEVELS[r.lagLevel].color }
                  : undefined}
              >
                {formatSeconds(r.lag)}
                {r.lag !== null && r.lagLevel !== "ok" && ` ${LEVELS[r.lagLevel].symbol}`}
              </td>
              <CountCell value={r.pending} testId="subscriber-pending" />
              <CountCell value={r.retries} bad />
              <CountCell value={r.failures} bad testId="subscriber-failures" />
              <CountCell value={r.deadLettered} bad testId="subscriber-dead-lettered" />
              <CountCell value={r.itemRetries} testId="subscriber-item-retries" />
              <CountCell value={r.itemsRefused} bad testId="subscriber-items-refused" />
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
