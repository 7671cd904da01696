/**
 * `SUB_FORMAT=ndjson` (the default): one JSON object per line, as
 * {@link JsonLineWriter} writes it; what Sumo Logic, Loggly and
 * ClickHouse's `FORMAT JSONEachRow` take. Its records are written straight
 * into the batch body ({@link InPlaceRecordEncoder}).
 *
 * @module
 */
import { JsonLineWriter } from "../../heka/json.ts";
import type { JsonEncoderOptions } from "../../heka/json_options.ts";
import { ConcatenatingBuilder, type InPlaceRecordEncoder, type OutputFormat } from "./format.ts";

/** One JSON line per Heka message, written in place when the caller can take it. */
class NdjsonEncoder implements InPlaceRecordEncoder {
  readonly #writer: JsonLineWriter;

  constructor(json: JsonEncoderOptions) {
    this.#writer = new JsonLineWriter(json);
  }

  encode(messageBytes: Uint8Array): Uint8Array {
    return this.#writer.encode(messageBytes);
  }

  maxRecordBytes(messageLength: number): number {
    return JsonLineWriter.maxLineBytes(messageLength);
  }

  encodeInto(messageBytes: Uint8Array, out: Uint8Array, outView: DataView, at: number): number {
    return this.#writer.encodeInto(messageBytes, out, outView, at);
  }
}

/** The NDJSON format. */
export function ndjsonFormat(json: JsonEncoderOptions): OutputFormat {
  return {
    name: "ndjson",
    encoder: new NdjsonEncoder(json),
    request: new ConcatenatingBuilder("application/json"),
  };
}
