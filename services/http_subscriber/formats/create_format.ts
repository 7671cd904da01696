/**
 * {@link createFormat}: the output format `SUB_FORMAT` names, built from
 * its validated settings.
 *
 * @module
 */
import type { JsonEncoderOptions } from "../../heka/json_options.ts";
import { esBulkFormat } from "./es_bulk.ts";
import type { FormatName, OutputFormat } from "./format.ts";
import { lokiFormat } from "./loki.ts";
import { ndjsonFormat } from "./ndjson.ts";
import { splunkHecFormat } from "./splunk_hec.ts";

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
