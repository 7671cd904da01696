/**
 * Per receiver: current input rate, and what it accepted, rejected and
 * filtered since the page opened.
 *
 * @module
 */
import type { ReceiverRow } from "../state.ts";
import { countColumn, senderColumn, statusTable } from "./status_table.tsx";

/** The receivers table. */
export const ReceiversTable = statusTable<ReceiverRow>({
  empty: "No receiver has reported yet.",
  testId: "receivers-table",
  rowTestId: "receiver-row",
  rowKey: (r) => r.label,
  columns: [
    senderColumn("Receiver"),
    countColumn("msgs/s", (r) => r.rate, { strong: true }),
    countColumn("Accepted", (r) => r.received),
    countColumn("Invalid", (r) => r.invalid, { bad: true, testId: "receiver-invalid" }),
    countColumn("Refused", (r) => r.refused, { bad: true, testId: "receiver-refused" }),
    countColumn("Filtered", (r) => r.filtered),
    countColumn("Conns", (r) => r.connections),
  ],
});
