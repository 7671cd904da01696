/**
 * The human-readable message layout of `heka-cat --format text`, after
 * Heka's own heka-cat.
 *
 * @module
 */
import { formatTimestamp } from "../heka/timestamp.ts";
import { fieldValues, formatUuid, type HekaMessage, severityOf } from "../heka/message.ts";

const TYPE_NAMES = ["STRING", "BYTES", "INTEGER", "DOUBLE", "BOOL"];

/** Formats one message as a block of `Name: value` lines. */
export function formatText(m: HekaMessage): string {
  const lines = [
    `Timestamp: ${m.timestamp === undefined ? "" : formatTimestamp(m.timestamp)}`,
    `Type: ${m.type ?? ""}`,
    `Hostname: ${m.hostname ?? ""}`,
    `Pid: ${m.pid ?? 0}`,
    `UUID: ${formatUuid(m.uuid)}`,
    `Logger: ${m.logger ?? ""}`,
    `Payload: ${m.payload ?? ""}`,
    `EnvVersion: ${m.envVersion ?? ""}`,
    `Severity: ${severityOf(m)}`,
    `Fields:`,
  ];
  for (const f of m.fields) {
    const values = fieldValues(f).map((v) =>
      v instanceof Uint8Array ? v.toBase64() : typeof v === "string" ? JSON.stringify(v) : String(v)
    );
    const rep = f.representation ? ` representation: ${JSON.stringify(f.representation)}` : "";
    lines.push(
      `    name: ${JSON.stringify(f.name)} type: ${
        TYPE_NAMES[f.valueType] ?? f.valueType
      }${rep} value: [${values.join(", ")}]`,
    );
  }
  return lines.join("\n") + "\n";
}
