/**
 * Heka's wire formats, in one face: the message model, the protobuf codec,
 * stream framing, chunks (packed storage), HMAC signatures, the message
 * matcher and the NDJSON writer. Pure: bytes in, values out; no I/O.
 *
 * @module
 */
export {
  DEFAULT_SEVERITY,
  FIELD_MEMBERS,
  FieldMember,
  type FieldMemberSpec,
  fieldValues,
  formatUuid,
  type HekaField,
  type HekaMessage,
  MESSAGE_FIELDS,
  MessageField,
  type MessageFieldSpec,
  newField,
  newMessage,
  parseUuid,
  severityOf,
  ValueType,
  WireType,
  type WireValue,
} from "./message.ts";
export {
  decodeHeader,
  decodeMessage,
  encodeHeader,
  encodeMessage,
  HekaDecodeError,
  type HekaHeader,
  HmacHash,
  scanMessage,
  validateMessage,
} from "./codec.ts";
export {
  DEFAULT_MAX_MESSAGE_SIZE,
  frameMessage,
  frameMessages,
  FrameSplitter,
  type FrameSplitterOptions,
  type FrameSplitterStats,
  type HekaFrame,
  MAX_HEADER_SIZE,
  RECORD_SEPARATOR,
  UNIT_SEPARATOR,
} from "./framing.ts";
export {
  type ChunkContents,
  COUNT_HEADER,
  FORMAT_HEADER,
  framedSize,
  HEKA_STREAM_CONTENT_TYPE,
  HEKA_STREAM_FORMAT,
  isChunk,
  splitChunk,
  writeFrame,
} from "./chunk.ts";
export {
  type HmacSigner,
  isAccepted,
  SignatureVerifier,
  type SignatureVerifierOptions,
  signMessage,
  type VerifyResult,
} from "./hmac.ts";
export {
  compileMatcher,
  matchAll,
  MatcherSyntaxError,
  type MessageMatcher,
} from "./matcher/mod.ts";
export {
  canonicalFieldName,
  JSON_FIELD_NAMES,
  type JsonEncoderOptions,
  type JsonFieldName,
} from "./json_options.ts";
export { JsonLineWriter } from "./json.ts";
export { formatTimestamp } from "./timestamp.ts";
