/**
 * The broker side of every program: connecting to NATS, the JetStream
 * stream, and the fast publisher.
 *
 * @module
 */
export {
  type BrokerConfig,
  type BrokerOptions,
  brokerOptions,
  brokerVars,
  connectBroker,
  type ConnectFailure,
  connectionOptions,
  DEFAULT_CONNECT_TIMEOUT_MS,
  explainConnectError,
  guardLateSocketErrors,
  probeServerInfo,
  type ServerInfo,
  splitCredentials,
} from "./connection.ts";
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
export { DEFAULT_MAX_PAYLOAD, serverMaxPayload } from "./max_payload.ts";
