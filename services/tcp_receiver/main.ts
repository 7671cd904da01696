/**
 * `deno task receive-tcp`: the TCP receiver program.
 *
 * @module
 */
import { loadConfig } from "../config/mod.ts";
import { SignatureVerifier } from "../heka/hmac.ts";
import { MetricTypes } from "../metrics/mod.ts";
import { openReceiver, type ReceiverIdentity, serveReceiver } from "../receiver/mod.ts";
import { tcpReceiverInfo, tcpReceiverSpec } from "./config.ts";
import { FrameHandler } from "./frame_handler.ts";
import { TcpListener } from "./listener.ts";
import { hostPort } from "../runtime/ready.ts";

const id: ReceiverIdentity = {
  program: "tcp_receiver",
  sender: "tcp-receiver",
  prefix: "TCPRCVR_",
};
const cfg = loadConfig(tcpReceiverInfo, tcpReceiverSpec);
const parts = await openReceiver(id, cfg, tcpReceiverSpec);
const { log, metrics } = parts;

const verifier = new SignatureVerifier({ signers: cfg.signers, requireSigned: cfg.requireSigned });
const handler = new FrameHandler(parts.gate, verifier, parts.sink, metrics, log);
const listener = new TcpListener(
  {
    hostname: cfg.bindAddress.hostname,
    port: cfg.bindAddress.port,
    maxMessageSize: cfg.maxMessageSize,
    maxConnections: cfg.maxConnections,
    idleTimeoutMs: cfg.idleTimeout,
    keepAlive: cfg.keepAlive,
  },
  handler,
  metrics.registry,
  log,
);
log.info("listening", { address: `${listener.addr.hostname}:${listener.addr.port}` });

serveReceiver(id, cfg, parts, {
  listen: hostPort(listener.addr),
  sources: [
    { type: MetricTypes.Connections, aggregate: "Total", value: () => listener.connections },
  ],
  health: () => ({ refusedBy: handler.refusedBy }),
  close: () => listener.close(),
});
