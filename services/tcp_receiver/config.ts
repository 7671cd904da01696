/**
 * Configuration of the TCP receiver (`TCPRCVR_*`, names and defaults of the
 * original).
 *
 * @module
 */
import {
  bindAddressVar,
  boolVar,
  type ConfigOf,
  durationVar,
  intVar,
  jsonRecordVar,
  type ProgramInfo,
  stringVar,
} from "../config/mod.ts";
import { receiverVars } from "../receiver/mod.ts";
import { TCP_RECEIVER_PORT, TCP_RECEIVER_TLS_PORT } from "../config/ports.ts";

/** What `--help` says. */
export const tcpReceiverInfo: ProgramInfo = {
  name: "tcp_receiver",
  task: "receive-tcp",
  summary:
    "receives Heka-framed protobuf messages over TCP and stores them in a NATS JetStream stream",
  notes: [
    "Backpressure: when JetStream is slow or down the receiver stops reading sockets",
    "(clients' writes block) instead of dropping messages.",
    'Signed streams: TCPRCVR_SIGNERS=\'{"ops_1":"key"}\' verifies Heka HMAC headers',
    "(MD5 or SHA1) of signer ops, key version 1.",
    "",
    "TLS: TCPRCVR_TLS_CERT + TCPRCVR_TLS_KEY open a TLS port on TCPRCVR_TLS_BIND_ADDRESS",
    "(:35002) beside the plaintext one; TCPRCVR_TLS_ONLY=true opens no plaintext port.",
    "The files are read again when they change or on SIGHUP. TCPRCVR_TLS_CLIENT_CA requires",
    "client certificates signed by those CAs on the TLS port (README, Security).",
  ],
};

/** The env vars of the TCP receiver. */
export const tcpReceiverSpec = {
  bindAddress: bindAddressVar("TCPRCVR_BIND_ADDRESS", {
    default: `:${TCP_RECEIVER_PORT}`,
    description: "address to listen on for Heka streams",
  }),
  tlsBindAddress: bindAddressVar("TCPRCVR_TLS_BIND_ADDRESS", {
    default: `:${TCP_RECEIVER_TLS_PORT}`,
    description: "address of the TLS port (only with TCPRCVR_TLS_CERT and TCPRCVR_TLS_KEY)",
  }),
  tlsCert: stringVar("TCPRCVR_TLS_CERT", {
    description: "PEM certificate (chain) file: turns the TLS port on",
  }),
  tlsKey: stringVar("TCPRCVR_TLS_KEY", {
    description: "PEM private key file of TCPRCVR_TLS_CERT",
  }),
  tlsClientCa: stringVar("TCPRCVR_TLS_CLIENT_CA", {
    description:
      "PEM file of CAs: the TLS port then requires a client certificate signed by one of them",
  }),
  tlsOnly: boolVar("TCPRCVR_TLS_ONLY", {
    default: false,
    description: "listen for TLS only: no plaintext port on TCPRCVR_BIND_ADDRESS",
  }),
  ...receiverVars("TCPRCVR_", ":34999"),
  listenCount: intVar("TCPRCVR_LISTEN_COUNT", {
    default: 20,
    min: 1,
    description: "accepted for compatibility (one accept loop serves any number of connections)",
  }),
  keepAlive: boolVar("TCPRCVR_KEEPALIVE", {
    description: "enable TCP keepalive on client connections",
  }),
  keepAliveDuration: durationVar("TCPRCVR_KEEPALIVEDURATION", {
    description: "accepted for compatibility; the OS keepalive interval applies",
  }),
  signers: jsonRecordVar("TCPRCVR_SIGNERS", {
    example: '{"ops_1":"key"}',
    description: 'HMAC keys by Heka signer "name_version"',
  }),
  requireSigned: boolVar("TCPRCVR_REQUIRE_SIGNED", {
    default: false,
    description: "drop messages that carry no valid signature",
  }),
  idleTimeout: durationVar("TCPRCVR_IDLE_TIMEOUT", {
    default: "5m",
    description:
      "close a connection that sends nothing, or leaves a frame unfinished, this long (0 = never)",
  }),
  maxConnections: intVar("TCPRCVR_MAX_CONNECTIONS", {
    default: 20000,
    min: 1,
    description: "connections at most; more are closed at once and counted",
  }),
};

/** The parsed TCP receiver config. */
export type TcpReceiverConfig = ConfigOf<typeof tcpReceiverSpec>;
