/**
 * The subscriber's output formats (`SUB_FORMAT`): NDJSON, Elasticsearch
 * bulk, Loki push and Splunk HEC, each an encoder, a request builder and,
 * where the store answers per item, a response interpreter.
 *
 * @module
 */
import type { JsonEncoderOptions } from "../../heka/json_options.ts";
import { esBulkFormat } from "./es_bulk.ts";
import type { FormatName, OutputFormat } from "./format.ts";
import { lokiFormat } from "./loki.ts";
import { ndjsonFormat } from "./ndjson.ts";
import { splunkHecFormat } from "./splunk_hec.ts";

export * from "./format.ts";
export * from "./ndjson.ts";
export * from "./es_bulk.ts";
export * from "./es_bulk_response.ts";
export * from "./loki.ts";
export * from "./splunk_hec.ts";

/** What a format is built from (validated settings). */
export interface FormatOptions {
  name: FormatName;
  json: JsonEncoderOptions;
  /** `SUB_ES_INDEX` (es-bulk). */
  esIndex: string;
  /** `SUB_LOKI_LABELS` (loki). */
  lokiLabels: readonly string[];
}

/** Builds the format; throws RangeError on an unusable index pattern or label. */
export function createFormat(o: FormatOptions): OutputFormat {
  switch (o.name) {
    case "ndjson":
      return ndjsonFormat(o.json);
    case "es-bulk":
      return esBulkFormat(o.json, o.esIndex);
    case "loki":
      return lokiFormat(o.json, o.lokiLabels);
    case "splunk-hec":
      return splunkHecFormat(o.json);
  }
}
