/**
 * The broker side of every program: connecting to NATS, the JetStream
 * stream, and the fast publisher.
 *
 * @module
 */
export { connectBroker, guardLateSocketErrors } from "./connection.ts";
export {
  type BrokerConfig,
  type BrokerOptions,
  brokerOptions,
  brokerVars,
  connectionOptions,
  DEFAULT_CONNECT_TIMEOUT_MS,
  splitCredentials,
} from "./connection_options.ts";
export {
  type ConnectFailure,
  explainConnectError,
  probeServerInfo,
  type ServerInfo,
} from "./connect_error.ts";
export { ensureStream, type StreamSpec, subjectCovered } from "./stream.ts";
export {
  JetStreamPublisher,
  type PublisherOptions,
  type PublisherStats,
  type PublishExtras,
  publishHeaderBytes,
  type PublishOutcome,
} from "./publisher.ts";
export { StreamStats } from "./stream_stats.ts";
export { releaseFrame } from "./whole_frames.ts";
export { DEFAULT_MAX_PAYLOAD, serverMaxPayload } from "./max_payload.ts";
export {
  FRAME_HEAD_ROOM,
  FRAME_TAIL_ROOM,
  type FramedPublish,
  framedPublisher,
} from "./framed_publish.ts";
