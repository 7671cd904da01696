/**
 * Configuration of the HTTP receiver (`RCVR_*`, names and defaults of the
 * original).
 *
 * @module
 */
import {
  bindAddressVar,
  type ConfigOf,
  durationVar,
  intVar,
  type ProgramInfo,
  stringVar,
  tokensVar,
} from "../config/mod.ts";
import { receiverVars } from "../receiver/mod.ts";

/** What `--help` says. */
export const httpReceiverInfo: ProgramInfo = {
  name: "http_receiver",
  task: "receive-http",
  summary:
    "receives Heka protobuf messages by HTTP POST and stores them in a NATS JetStream stream",
  notes: [
    "POST / with one protobuf Message as the body: 200 only after JetStream stored it;",
    "400 undecodable or incomplete, 405 not POST, 413 too large, 503 + Retry-After while",
    "the broker is unavailable (retry: the message uuid makes retries safe). GET /health.",
    "POST / with Content-Type application/x-heka-stream: a Heka stream of many messages;",
    "200 once all accepted ones are stored, the JSON body counts stored, filtered, refused.",
    "",
    "HTTPS: RCVR_TLS_CERT + RCVR_TLS_KEY (PEM), read again when they change or on SIGHUP.",
    "Tokens: RCVR_AUTH_TOKENS=@/etc/lagermeister/tokens (one per line, re-read on SIGHUP);",
    "POST without `Authorization: Bearer <token>` or with a wrong one is answered 401.",
  ],
};

/** The env vars of the HTTP receiver. */
export const httpReceiverSpec = {
  bindAddress: bindAddressVar("RCVR_BIND_ADDRESS", {
    default: ":35001",
    description: "address to listen on",
  }),
  tlsCert: stringVar("RCVR_TLS_CERT", {
    description: "PEM certificate (chain) file: serve HTTPS instead of HTTP",
  }),
  tlsKey: stringVar("RCVR_TLS_KEY", {
    description: "PEM private key file of RCVR_TLS_CERT",
  }),
  authTokens: tokensVar("RCVR_AUTH_TOKENS", {
    description:
      "bearer tokens a POST must carry (comma list, or @file with one per line, re-read on SIGHUP); unset = no authentication",
  }),
  ...receiverVars("RCVR_", ":34997"),
  requestTimeout: durationVar("RCVR_REQUEST_TIMEOUT", {
    default: "5s",
    min: 1,
    description: "longest wait for the JetStream ack before answering 503",
  }),
  bodyTimeout: durationVar("RCVR_BODY_TIMEOUT", {
    default: "10s",
    min: 1,
    description: "a request body not fully received within this is answered 408",
  }),
  shutdownRequestTimeout: durationVar("RCVR_SHUTDOWN_REQUEST_TIMEOUT", {
    default: "10s",
    description:
      "on SIGTERM/SIGINT, wait this long for requests in flight to finish before draining the store",
  }),
  maxStreamBytes: intVar("RCVR_MAX_STREAM_BYTES", {
    default: 16 * 1024 * 1024,
    min: 64,
    max: 1024 * 1024 * 1024,
    description: "largest body of Content-Type application/x-heka-stream (many messages)",
  }),
};

/** The parsed HTTP receiver config. */
export type HttpReceiverConfig = ConfigOf<typeof httpReceiverSpec>;
