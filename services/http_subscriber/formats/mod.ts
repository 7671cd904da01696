/**
 * The subscriber's output formats (`SUB_FORMAT`): NDJSON, Elasticsearch
 * bulk, Loki push and Splunk HEC, each an encoder, a request builder and,
 * where the store answers per item, a response interpreter.
 *
 * @module
 */
export {
  ByteSink,
  ConcatenatingBuilder,
  FORMAT_NAMES,
  type FormatName,
  type InPlaceRecordEncoder,
  type ItemOutcome,
  type OutputFormat,
  type RecordEncoder,
  recordRanges,
  type RequestBuilder,
  type ResponseInterpreter,
  selectRecords,
  writesInPlace,
} from "./format.ts";
export { ndjsonFormat } from "./ndjson.ts";
export {
  checkIndexPattern,
  DEFAULT_ES_INDEX,
  EsBulkEncoder,
  esBulkFormat,
  formatIndex,
} from "./es_bulk.ts";
export { EsBulkResponseInterpreter } from "./es_bulk_response.ts";
export {
  checkLokiLabels,
  DEFAULT_LOKI_LABELS,
  LOKI_LABEL_FIELDS,
  LokiEncoder,
  lokiFormat,
  LokiRequestBuilder,
} from "./loki.ts";
export { SplunkHecEncoder, splunkHecFormat } from "./splunk_hec.ts";
export { createFormat, type FormatOptions } from "./create_format.ts";
