/**
 * Test-only conveniences over the JSON line writer: {@link JsonLineEncoder}
 * for decoded messages and {@link parseFieldList} for comma-separated field
 * lists. Product code writes lines with `JsonLineWriter` straight from the
 * bytes it holds.
 *
 * @module
 */
import { encodeMessage } from "../../services/heka/codec.ts";
import { JsonLineWriter } from "../../services/heka/json.ts";
import {
  checkFieldList,
  type JsonEncoderOptions,
  type JsonFieldName,
} from "../../services/heka/json_options.ts";
import type { HekaMessage } from "../../services/heka/message.ts";

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Parses a comma-separated field list such as `SUB_FIELDS`
 * (`"Uuid,Timestamp,Payload,Fields"`): names are trimmed, matched
 * case-insensitively and returned in canonical spelling, duplicates removed.
 * Throws RangeError naming the valid names for an unknown name or an empty
 * list.
 */
export function parseFieldList(text: string): JsonFieldName[] {
  return checkFieldList(text.split(",").map((s) => s.trim()).filter((s) => s !== ""));
}

/**
 * The subscriber's line shape for decoded messages, as a string. It
 * re-encodes the message and runs {@link JsonLineWriter} on the bytes, so
 * there is one JSON implementation. Strings are written as their UTF-8 on
 * the wire (lone surrogates, which decoded messages never hold, become
 * U+FFFD) and integers as the message's numbers.
 */
export class JsonLineEncoder {
  /** The selected keys, canonical spelling, in output order. */
  readonly fields: readonly JsonFieldName[];
  /** The dynamic field whitelist, or undefined for all. */
  readonly dynamicFields: ReadonlySet<string> | undefined;
  readonly #writer: JsonLineWriter;

  /** Validates the options; throws RangeError on an unknown or empty field list. */
  constructor(options: JsonEncoderOptions = {}) {
    this.#writer = new JsonLineWriter(options);
    this.fields = this.#writer.fields;
    this.dynamicFields = this.#writer.dynamicFields;
  }

  /** The options this encoder was built with, canonical (for a {@link JsonLineWriter}). */
  get options(): JsonEncoderOptions {
    return {
      fields: this.fields,
      dynamicFields: this.dynamicFields === undefined ? undefined : [...this.dynamicFields],
    };
  }

  /** One JSON object for `msg`, without a newline. */
  encode(msg: HekaMessage): string {
    return utf8.decode(this.#writer.encode(encodeMessage(msg)));
  }
}
