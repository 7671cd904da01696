/**
 * The HTTP receiver as a function, {@link runHttpReceiver}, which `main.ts`
 * calls with its config.
 *
 * @module
 */
import { counterRate, MetricTypes } from "../metrics/mod.ts";
import { serveHttp } from "../net/http_server.ts";
import { loadBearerAuth, loadTls, watchTls } from "../net/startup.ts";
import { openReceiver, type ReceiverIdentity, serveReceiver } from "../receiver/mod.ts";
import { Logger } from "../log/mod.ts";
import { type HttpReceiverConfig, httpReceiverSpec } from "./config.ts";
import { createHandler } from "./handler.ts";
import { hostPort } from "../runtime/ready.ts";
import { withTimeout } from "../runtime/async.ts";

/**
 * Runs the HTTP receiver with `cfg` until SIGTERM/SIGINT. Throws an
 * `ExitError` when it cannot start (a bad setting or file, no store).
 */
export async function runHttpReceiver(cfg: HttpReceiverConfig): Promise<void> {
  const id: ReceiverIdentity = {
    program: "http_receiver",
    sender: "http-receiver",
    prefix: "RCVR_",
  };
  const tls = loadTls(id.program, id.prefix, cfg.tlsCert, cfg.tlsKey);
  const auth = loadBearerAuth(id.program, "RCVR_AUTH_TOKENS", cfg.authTokens, {
    log: new Logger(id.program, cfg.loggingLevel),
  });
  const parts = await openReceiver(id, cfg, httpReceiverSpec);
  const { log } = parts;
  auth?.countIn(parts.metrics.registry);

  const server = serveHttp({
    address: cfg.bindAddress,
    tls: tls?.material,
    log,
    onListen: (a) =>
      log.info("listening", {
        address: `${a.hostname}:${a.port}`,
        tls: tls ? "true" : "false",
        auth: auth ? `${auth.size} tokens` : "none",
      }),
    handler: createHandler({
      gate: parts.gate,
      publisher: parts.store.publisher,
      sink: parts.sink,
      metrics: parts.metrics,
      maxMessageSize: cfg.maxMessageSize,
      maxStreamBytes: cfg.maxStreamBytes,
      requestTimeoutMs: cfg.requestTimeout,
      bodyTimeoutMs: cfg.bodyTimeout,
      auth,
      statsAuth: parts.statsAuth,
    }),
  });
  const tlsWatch = tls ? watchTls(tls, (m) => server.setTls(m), log) : undefined;

  serveReceiver(id, cfg, parts, {
    listen: hostPort(server.addr),
    sources: auth
      ? [counterRate(MetricTypes.Unauthorized, () => {
        const r = auth.refusedBy;
        return r.missing + r.malformed + r.wrong;
      })]
      : [],
    health: () => auth ? { unauthorizedBy: auth.refusedBy } : {},
    // Finishes requests in flight (each waits for its ack), refuses new ones;
    // a client that never finishes its request cannot hold the shutdown.
    close: () => {
      tlsWatch?.close();
      auth?.close();
      return withTimeout(server.shutdown(), cfg.shutdownRequestTimeout);
    },
  });
}
