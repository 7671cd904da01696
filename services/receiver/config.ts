/**
 * Env vars both receivers share, under their own prefix (`TCPRCVR_`,
 * `RCVR_`): where to store messages, what to accept, how to report.
 *
 * @module
 */
import {
  boolVar,
  durationVar,
  enumVar,
  intVar,
  optionalBindAddressVar,
  stringVar,
  tokensVar,
} from "../config/mod.ts";
import { brokerVars } from "../broker/mod.ts";
import { LOG_LEVELS } from "../log/mod.ts";

/** The env vars of {@link receiverVars} that describe the store and the filter. */
export function receiverVars(prefix: string, statsDefault: string) {
  return {
    ...brokerVars(prefix),
    clusterId: stringVar(`${prefix}CLUSTER_ID`, {
      default: "test-cluster",
      description: "accepted for compatibility; JetStream has no cluster id (ignored)",
    }),
    clientId: stringVar(`${prefix}CLIENT_ID`, {
      required: true,
      description: "NATS connection name of this receiver",
    }),
    subject: stringVar(`${prefix}SUBJECT`, {
      default: "lagermeister-test",
      description: "subject messages are published to",
    }),
    stream: stringVar(`${prefix}STREAM`, {
      default: "LAGERMEISTER",
      description: "JetStream stream; created (file storage) if missing, never purged",
    }),
    replicas: intVar(`${prefix}STREAM_REPLICAS`, {
      default: 1,
      min: 1,
      max: 5,
      description: "replicas when this receiver creates the stream (3 in a cluster)",
    }),
    duplicateWindow: durationVar(`${prefix}DUPLICATE_WINDOW`, {
      default: "2m",
      min: 1,
      description: "when creating the stream: window in which a resent uuid is stored once",
    }),
    matchSpec: stringVar(`${prefix}MATCH_SPEC`, {
      description: "Heka message matcher; messages that do not match are counted and not stored",
    }),
    maxMessageSize: intVar(`${prefix}MAX_MESSAGE_SIZE`, {
      default: 65536,
      min: 64,
      max: 64 * 1024 * 1024,
      description: "largest accepted message in bytes (Heka's default 64 KiB)",
    }),
    publishWindow: intVar(`${prefix}PUBLISH_WINDOW`, {
      default: 1024,
      min: 1,
      description: "publishes awaiting a JetStream ack at most; beyond it clients are slowed",
    }),
    ackTimeout: durationVar(`${prefix}ACK_TIMEOUT`, {
      default: "5s",
      min: 1,
      description: "resend a publish not acknowledged within this",
    }),
    pack: boolVar(`${prefix}PACK`, {
      default: true,
      description:
        "store chunks: many messages per JetStream message, as a Heka stream; false stores one message each (Nats-Msg-Id = uuid)",
    }),
    packBytes: intVar(`${prefix}PACK_BYTES`, {
      default: 256 * 1024,
      min: 1024,
      max: 64 * 1024 * 1024,
      description: "a chunk closes at this size (clamped to what the NATS server accepts)",
    }),
    packLinger: durationVar(`${prefix}PACK_LINGER`, {
      default: "5ms",
      description: "a chunk closes this long after its first message at the latest",
    }),
    packInflightBytes: intVar(`${prefix}PACK_INFLIGHT_BYTES`, {
      default: 16 * 1024 * 1024,
      min: 1024,
      description: "chunk bytes awaiting a JetStream ack at most; beyond it clients are slowed",
    }),
    statsAddress: optionalBindAddressVar(`${prefix}STATS_ADDRESS`, {
      default: statsDefault,
      description: "address of /debug/vars, /metrics and /health; off turns it off",
    }),
    statsToken: tokensVar(`${prefix}STATS_TOKEN`, {
      description:
        "bearer token(s) for /debug/vars and /metrics (comma list or @file); /health stays open but shows only its status without one",
    }),
    shutdownTimeout: durationVar(`${prefix}SHUTDOWN_TIMEOUT`, {
      default: "30s",
      description:
        "on SIGTERM/SIGINT, wait this long for JetStream to acknowledge what was accepted; exit 1 if some is not",
    }),
    loggingLevel: enumVar(`${prefix}LOGGING_LEVEL`, LOG_LEVELS, {
      default: "info",
      description: "error, warn, info or debug",
    }),
  };
}
