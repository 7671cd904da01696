/**
 * `SUB_FORMAT=ndjson` (the default): one JSON object per line, as
 * {@link JsonLineWriter} writes it; what Sumo Logic, Loggly and
 * ClickHouse's `FORMAT JSONEachRow` take.
 *
 * @module
 */
import { JsonLineWriter } from "../../heka/json.ts";
import type { JsonEncoderOptions } from "../../heka/json_options.ts";
import { ConcatenatingBuilder, type OutputFormat } from "./format.ts";

/** The NDJSON format. */
export function ndjsonFormat(json: JsonEncoderOptions): OutputFormat {
  return {
    name: "ndjson",
    encoder: new JsonLineWriter(json),
    request: new ConcatenatingBuilder("application/json"),
  };
}
