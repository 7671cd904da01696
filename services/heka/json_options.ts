/**
 * The options of the JSON line writer: which keys to write, in which order,
 * and which dynamic fields. Names are the JSON keys of Heka's `Message`
 * fields (message.ts {@link MESSAGE_FIELDS}), matched case-insensitively.
 *
 * @module
 */
import { MESSAGE_FIELDS } from "./message.ts";

/** One of {@link JSON_FIELD_NAMES}; `"Fields"` stands for all dynamic fields. */
export type JsonFieldName = typeof MESSAGE_FIELDS[number]["jsonKey"];

/** Every name the `fields` option (and `SUB_FIELDS`) accepts, in default order. */
export const JSON_FIELD_NAMES: readonly JsonFieldName[] = MESSAGE_FIELDS.map((f) => f.jsonKey);

/** Options of `JsonLineWriter`. */
export interface JsonEncoderOptions {
  /**
   * Which keys to write, in this order; names as in {@link JSON_FIELD_NAMES}
   * (matched case-insensitively; `"DynamicFields"` is accepted for
   * `"Fields"`, as the original spelled it). Default: all, in that order.
   */
  fields?: readonly string[];
  /**
   * Whitelist of dynamic field names (exact match). Undefined or empty: all
   * (an empty list meant "all" in the original too; leave `"Fields"` out of
   * `fields` to write none).
   */
  dynamicFields?: readonly string[];
}

const CANONICAL: ReadonlyMap<string, JsonFieldName> = new Map<string, JsonFieldName>([
  ...JSON_FIELD_NAMES.map((n) => [n.toLowerCase(), n] as [string, JsonFieldName]),
  ["dynamicfields", "Fields"],
]);

/** The canonical spelling of a field-list name, or undefined when unknown. */
export function canonicalFieldName(name: string): JsonFieldName | undefined {
  return CANONICAL.get(name.trim().toLowerCase());
}

/**
 * The names of a `fields` option in canonical spelling, duplicates removed.
 * Throws RangeError naming the valid names for an unknown name or an empty
 * list.
 */
export function checkFieldList(names: readonly string[]): JsonFieldName[] {
  const out: JsonFieldName[] = [];
  for (const name of names) {
    const canonical = canonicalFieldName(name);
    if (canonical === undefined) {
      throw new RangeError(
        `unknown field ${JSON.stringify(name)}; valid names: ${JSON_FIELD_NAMES.join(", ")}`,
      );
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  if (out.length === 0) {
    throw new RangeError(`field list is empty; valid names: ${JSON_FIELD_NAMES.join(", ")}`);
  }
  return out;
}
