/**
 * The TCP receiver as a function, {@link runTcpReceiver}, which `main.ts`
 * calls with its config.
 *
 * @module
 */
import { SignatureVerifier } from "../heka/hmac.ts";
import { MetricTypes } from "../metrics/mod.ts";
import { errorMessage } from "../log/mod.ts";
import { loadTls, watchTls } from "../net/startup.ts";
import { openReceiver, type ReceiverIdentity, serveReceiver } from "../receiver/mod.ts";
import { type TcpReceiverConfig, tcpReceiverSpec } from "./config.ts";
import { FrameHandler } from "./frame_handler.ts";
import { TcpListener, type TcpListenerOptions } from "./listener.ts";
import { hostPort } from "../runtime/ready.ts";
import { ExitError } from "../runtime/exit.ts";

/**
 * Runs the TCP receiver with `cfg` until SIGTERM/SIGINT. Throws an
 * {@link ExitError} when it cannot start (a bad setting or file, no store).
 */
export async function runTcpReceiver(cfg: TcpReceiverConfig): Promise<void> {
  const id: ReceiverIdentity = {
    program: "tcp_receiver",
    sender: "tcp-receiver",
    prefix: "TCPRCVR_",
  };
  const tls = loadTls(id.program, id.prefix, cfg.tlsCert, cfg.tlsKey, cfg.tlsClientCa);
  if (cfg.tlsOnly && !tls) {
    throw new ExitError(
      `${id.program}: TCPRCVR_TLS_ONLY needs TCPRCVR_TLS_CERT and TCPRCVR_TLS_KEY`,
      2,
    );
  }
  const parts = await openReceiver(id, cfg, tcpReceiverSpec);
  const { log, metrics } = parts;

  const verifier = new SignatureVerifier({
    signers: cfg.signers,
    requireSigned: cfg.requireSigned,
  });
  const handler = new FrameHandler(parts.gate, verifier, parts.sink, metrics, log);
  const common: Omit<TcpListenerOptions, "hostname" | "port"> = {
    maxMessageSize: cfg.maxMessageSize,
    maxConnections: cfg.maxConnections,
    idleTimeoutMs: cfg.idleTimeout,
    keepAlive: cfg.keepAlive,
  };
  const listeners: TcpListener[] = [];
  if (!cfg.tlsOnly) {
    const plain = new TcpListener(
      { hostname: cfg.bindAddress.hostname, port: cfg.bindAddress.port, ...common },
      handler,
      metrics.registry,
      log,
    );
    listeners.push(plain);
    log.info("listening", { address: `${plain.addr.hostname}:${plain.addr.port}` });
  }
  let tlsWatch: { close(): void } | undefined;
  let secureAddr: string | undefined;
  if (tls) {
    const secure = await TcpListener.open(
      {
        hostname: cfg.tlsBindAddress.hostname,
        port: cfg.tlsBindAddress.port,
        ...common,
        tls: tls.material,
      },
      handler,
      metrics.registry,
      log,
    ).catch((err) => {
      throw new ExitError(
        `${id.program}: cannot listen on TCPRCVR_TLS_BIND_ADDRESS: ${errorMessage(err)}`,
        1,
      );
    });
    listeners.push(secure);
    secureAddr = hostPort(secure.addr);
    tlsWatch = watchTls(tls, (m) => secure.setTls(m), log);
    log.info(cfg.tlsOnly ? "listening" : "listening for TLS", {
      address: `${secure.addr.hostname}:${secure.addr.port}`,
      tls: "true",
      client_certificates: tls.material.ca ? "required" : "not requested",
    });
  }

  serveReceiver(id, cfg, parts, {
    listen: hostPort(listeners[0].addr),
    listenTls: secureAddr,
    sources: [
      {
        type: MetricTypes.Connections,
        aggregate: "Total",
        value: () => listeners.reduce((n, l) => n + l.connections, 0),
      },
    ],
    health: () => ({ refusedBy: handler.refusedBy }),
    close: async () => {
      tlsWatch?.close();
      await Promise.all(listeners.map((l) => l.close()));
    },
  });
}
