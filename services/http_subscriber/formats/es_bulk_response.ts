/**
 * Reads a `_bulk` answer. Elasticsearch answers 200 even when items
 * failed; then the body says `"errors":true` and `items[i]` holds, under
 * the action's name, the item's own `status` and `error` (Elasticsearch
 * docs, "Bulk API", response body). Items with 429 or 5xx are worth
 * sending again; other 4xx (e.g. `mapper_parsing_exception`) are refused
 * for their content.
 *
 * @module
 */
import { isRetryableStatus } from "../retry_policy.ts";
import type { ItemOutcome, ResponseInterpreter } from "./format.ts";

const ERRORS_TRUE = /"errors"\s*:\s*true/;
const OK: ItemOutcome = { kind: "ok" };
const REASON_MAX = 300;

interface BulkItemResult {
  status?: unknown;
  error?: unknown;
}

function reasonOf(error: unknown): string {
  if (error && typeof error === "object") {
    const e = error as { type?: unknown; reason?: unknown };
    const type = typeof e.type === "string" ? e.type : "error";
    const reason = typeof e.reason === "string" ? `: ${e.reason}` : "";
    return (type + reason).slice(0, REASON_MAX);
  }
  return typeof error === "string" ? error.slice(0, REASON_MAX) : "failed";
}

/** The per-item interpreter of `_bulk` answers. */
export class EsBulkResponseInterpreter implements ResponseInterpreter {
  interpret(text: string, count: number): ItemOutcome[] | undefined {
    if (!ERRORS_TRUE.test(text)) return undefined;
    const doc = JSON.parse(text) as { items?: unknown };
    const items = doc.items;
    if (!Array.isArray(items) || items.length !== count) {
      throw new Error(
        `bulk answer has ${
          Array.isArray(items) ? items.length : "no"
        } items for ${count} documents`,
      );
    }
    return items.map((item): ItemOutcome => {
      const result = item && typeof item === "object"
        ? Object.values(item as Record<string, unknown>)[0] as BulkItemResult | undefined
        : undefined;
      const status = typeof result?.status === "number" ? result.status : 0;
      if (status >= 200 && status < 300) return OK;
      const reason = `item ${status || "without status"}: ${reasonOf(result?.error)}`;
      if (status === 0 || isRetryableStatus(status)) return { kind: "retry", status, reason };
      return { kind: "refused", status, reason };
    });
  }
}
