/**
 * The subscriber's configuration: the `SUB_*` env vars of the original
 * Lagermeister (same names, same meaning, mapped onto JetStream) plus the
 * new ones, and what `--help` says of them. The settings derived from them
 * are `settings.ts`'s.
 *
 * @module
 */
import { z } from "zod";
import {
  type BindAddress,
  boolVar,
  type ConfigOf,
  durationVar,
  enumVar,
  type EnvVar,
  intVar,
  jsonRecordVar,
  listVar,
  optionalBindAddressVar,
  parseBindAddress,
  type ProgramInfo,
  REDACTED,
  stringVar,
  tokensVar,
  urlVar,
} from "../config/mod.ts";
import { brokerVars } from "../broker/mod.ts";
import { LOG_LEVELS } from "../log/mod.ts";
import { DEFAULT_ES_INDEX, DEFAULT_LOKI_LABELS, FORMAT_NAMES } from "./formats/mod.ts";

/** Words that turn the stats endpoint off (an empty value means "the default"). */
const OFF_WORDS = new Set(["off", "none", "-"]);

/** `SUB_STATS_ADDRESS`: a bind address, or `off`. */
function statsAddressVar(): EnvVar<BindAddress | undefined> {
  const base = optionalBindAddressVar("SUB_STATS_ADDRESS", {
    default: ":34998",
    description:
      "address of the stats endpoint (/metrics, /debug/vars, /health); off turns it off (an empty value means the default)",
  });
  return {
    ...base,
    expected: "an address like :34998 or 127.0.0.1:34998, or off",
    schema: z.string().transform((raw, ctx) => {
      if (OFF_WORDS.has(raw.trim().toLowerCase())) return undefined;
      const addr = parseBindAddress(raw);
      if (addr === undefined) {
        ctx.addIssue({ code: "custom", message: "invalid" });
        return z.NEVER;
      }
      return addr;
    }),
  };
}

const broker = brokerVars("SUB_");

/**
 * The subscriber's env vars, in `--help` order: the original README's
 * first, then the ones added for JetStream, batching and delivery.
 */
export const subscriberSpec = {
  clusterId: stringVar("SUB_CLUSTER_ID", {
    default: "test-cluster",
    description:
      "accepted and ignored: JetStream has no cluster id (kept so NATS Streaming deployments start unchanged)",
  }),
  clientId: stringVar("SUB_CLIENT_ID", {
    description:
      "NATS connection name, and the suffix of a SUB_DURABLE consumer's name (default: http_subscriber-<host>-<pid>)",
  }),
  startSeq: intVar("SUB_START_SEQ", {
    min: 0,
    description: "start at this stream sequence (new consumers only; 0 = not set)",
  }),
  startDelta: durationVar("SUB_START_DELTA", {
    min: 1,
    description: "start with messages stored within this duration before now, e.g. 30m",
  }),
  deliverAll: boolVar("SUB_DELIVER_ALL", {
    description: "start with the first message in the stream",
  }),
  deliverLast: boolVar("SUB_DELIVER_LAST", {
    description: "start with the last message stored on SUB_SUBJECT",
  }),
  durable: stringVar("SUB_DURABLE", {
    description:
      "durable consumer: the stream remembers the position across restarts (named <durable>-<client id>)",
  }),
  qgroup: stringVar("SUB_QGROUP", {
    description:
      "queue group: every subscriber with this group shares one durable consumer and splits the work",
  }),
  unsubscribe: boolVar("SUB_UNSUBSCRIBE", {
    description:
      "delete the durable consumer on exit (a group's only when no other member is pulling)",
  }),
  natsUrl: broker.natsUrl,
  subject: stringVar("SUB_SUBJECT", {
    default: "lagermeister-test",
    description: "subject to consume Heka messages from (may use * and > wildcards)",
  }),
  stubHttp: boolVar("SUB_STUB_HTTP", {
    default: false,
    description: "post to an in-process stub answering 200 after 50-700 ms instead of the remote",
  }),
  remoteUrl: urlVar("SUB_REMOTE_URL", {
    description:
      "URL batches are POSTed to (required unless SUB_STUB_HTTP=true); its path and query are never printed",
  }),
  loggingLevel: enumVar("SUB_LOGGING_LEVEL", LOG_LEVELS, {
    default: "info",
    description: "log level: error, warn, info or debug",
  }),
  batchTimeout: durationVar("SUB_BATCH_TIMEOUT", {
    default: "10s",
    min: 1,
    description: "send a batch at the latest this long after its first message arrived",
  }),
  batchSize: intVar("SUB_BATCH_SIZE", {
    default: 100,
    min: 1,
    description: "send a batch when it holds this many messages",
  }),
  fields: listVar("SUB_FIELDS", {
    description:
      "JSON keys to write, in order: Uuid, Timestamp, Type, Logger, Severity, Payload, EnvVersion, Pid, Hostname, Fields (default: all)",
  }),
  dynamicFields: listVar("SUB_DYNAMIC_FIELDS", {
    description: "dynamic fields to write when Fields is selected (default: all)",
  }),
  stream: stringVar("SUB_STREAM", {
    default: "LAGERMEISTER",
    description: "JetStream stream holding SUB_SUBJECT; created (file storage) when missing",
  }),
  batchBytes: intVar("SUB_BATCH_BYTES", {
    default: 1_048_576,
    min: 1,
    description: "send a batch before its body would grow beyond this many bytes",
  }),
  posters: intVar("SUB_POSTERS", {
    default: 25,
    min: 1,
    max: 1000,
    description: "POSTs in flight at once",
  }),
  requestTimeout: durationVar("SUB_REQUEST_TIMEOUT", {
    default: "30s",
    min: 1,
    description: "give up on one POST attempt after this long (then retry)",
  }),
  gzip: boolVar("SUB_GZIP", {
    default: false,
    description: "gzip request bodies (Content-Encoding: gzip)",
  }),
  rejectAttempts: intVar("SUB_REJECT_ATTEMPTS", {
    default: 3,
    min: 1,
    description:
      "attempts of a batch the remote rejects (4xx other than 408/429) before it goes to dead-letter",
  }),
  retryMin: durationVar("SUB_RETRY_MIN", {
    default: "250ms",
    min: 1,
    description: "first retry backoff; doubles per attempt, with jitter",
  }),
  retryMax: durationVar("SUB_RETRY_MAX", {
    default: "30s",
    min: 1,
    description: "longest retry backoff (network errors, timeouts, 408, 429, 5xx retry forever)",
  }),
  deadLetterSubject: stringVar("SUB_DEAD_LETTER_SUBJECT", {
    description:
      "subject rejected and undecodable messages are stored on (default: <SUB_SUBJECT>.dead)",
  }),
  ackWait: durationVar("SUB_ACK_WAIT", {
    min: 1000,
    description:
      "JetStream ack wait (default: SUB_BATCH_TIMEOUT + 2 x SUB_REQUEST_TIMEOUT + 30s); held messages are kept alive",
  }),
  maxAckPending: intVar("SUB_MAX_ACK_PENDING", {
    min: 1,
    description:
      "unacknowledged messages the consumer hands out (default: SUB_BATCH_SIZE x (SUB_POSTERS + 2))",
  }),
  shutdownTimeout: durationVar("SUB_SHUTDOWN_TIMEOUT", {
    default: "30s",
    description: "on SIGTERM/SIGINT, wait this long for in-flight batches before exiting",
  }),
  format: enumVar("SUB_FORMAT", FORMAT_NAMES, {
    default: "ndjson",
    description:
      "request body: ndjson (one JSON object per line; also ClickHouse JSONEachRow), es-bulk (Elasticsearch/OpenSearch _bulk), loki (Loki push API), splunk-hec (Splunk HTTP Event Collector)",
  }),
  headers: jsonRecordVar("SUB_HEADERS", {
    example: '{"Authorization":"Bearer …"}',
    description: "extra request headers as a JSON object, e.g. for auth; the values are secrets",
  }),
  esIndex: stringVar("SUB_ES_INDEX", {
    default: DEFAULT_ES_INDEX,
    description:
      "es-bulk: index of each document; %Y %m %d %H are taken from the message Timestamp (UTC)",
  }),
  lokiLabels: listVar("SUB_LOKI_LABELS", {
    default: DEFAULT_LOKI_LABELS,
    description:
      "loki: message fields that label the streams (Type, Logger, Hostname, Severity, EnvVersion, Pid); every distinct combination is a stream",
  }),
  splunkToken: stringVar("SUB_SPLUNK_TOKEN", {
    description: "splunk-hec: HEC token, sent as Authorization: Splunk <token> (a secret)",
    redact: () => REDACTED,
  }),
  statsAddress: statsAddressVar(),
  statsToken: tokensVar("SUB_STATS_TOKEN", {
    description:
      "bearer token(s) for /debug/vars and /metrics (comma list or @file, re-read on SIGHUP); /health stays open but shows only its status without one",
  }),
  natsCreds: broker.natsCreds,
  natsTlsCa: broker.natsTlsCa,
  natsTlsCert: broker.natsTlsCert,
  natsTlsKey: broker.natsTlsKey,
  natsReconnectWait: broker.natsReconnectWait,
};

/** The parsed `SUB_*` variables. */
export type SubscriberConfig = ConfigOf<typeof subscriberSpec>;

/** What `--help` says of the subscriber. */
export const subscriberInfo: ProgramInfo = {
  name: "http_subscriber",
  task: "subscribe",
  summary:
    "pulls Heka messages from JetStream, encodes them (NDJSON, Elasticsearch bulk, Loki push or Splunk HEC) and POSTs them in batches to SUB_REMOTE_URL with parallel posters.",
  notes: [
    "Consumer: without SUB_DURABLE or SUB_QGROUP an ephemeral consumer (gone after exit).",
    "SUB_DURABLE=d names the durable consumer d-<SUB_CLIENT_ID> (just d without a client id), as",
    "NATS Streaming keyed durables by client and name: keep SUB_CLIENT_ID stable across restarts.",
    "SUB_QGROUP=g: every member shares the durable consumer g (g-<durable> with SUB_DURABLE) and",
    "the stream hands each message to one of them.",
    "Start position (SUB_START_SEQ, SUB_START_DELTA, SUB_DELIVER_ALL, SUB_DELIVER_LAST; at most one,",
    "default: new messages only) applies when the consumer is created. A durable or group that",
    "already exists resumes where it left off, whatever the start options say.",
    "Delivery: a message is acked only after its batch got a 2xx. Network errors, timeouts, 408,",
    "429 (Retry-After honoured) and 5xx retry without limit; other 4xx go, after",
    "SUB_REJECT_ATTEMPTS, to the dead-letter subject (stored in SUB_STREAM unless another stream",
    "already covers it) with Lagermeister-Dead-Status and Lagermeister-Dead-Reason headers.",
    "SUB_FORMAT=es-bulk reads the per-item results of a 200 answer: items failed with 429/5xx are",
    "sent again alone, items refused for their content (other 4xx) are dead letters with the",
    "reason, and the batch is acked once every item is settled.",
    "",
    "Example:",
    "  SUB_CLIENT_ID=fwd1 SUB_DURABLE=sumo SUB_DELIVER_ALL=true \\",
    "  SUB_REMOTE_URL=https://collectors.example.com/receiver/v1/http/TOKEN deno task subscribe",
  ],
};
