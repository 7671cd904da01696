/**
 * Connecting to NATS: waiting for the first server (retrying forever and
 * logging why attempts fail), then reconnecting forever and logging state
 * changes. Every program connects here. The options are
 * `connection_options.ts`'s, the explanations of failures
 * `connect_error.ts`'s.
 *
 * @module
 */
import type { NatsConnection } from "nats";
import { Socket } from "node:net";
import { REDACTED, redactUrl } from "../config/redact.ts";
import { errorMessage, type Logger } from "../log/mod.ts";
import { backoff, sleep } from "../runtime/async.ts";
import { explainConnectError, probeServerInfo } from "./connect_error.ts";
import { type BrokerOptions, connectionOptions } from "./connection_options.ts";
import { connectNats } from "./nats_transport.ts";

/** While the first connection keeps failing the same way, the failure is logged this often. */
const RETRY_LOG_EVERY_MS = 30_000;

const GUARDED = Symbol.for("lagermeister.lateSocketErrorGuard");

/**
 * Keeps late socket errors from killing the process. nats.js removes every
 * listener from a socket it is done with, then destroys it; under Deno's
 * Node compatibility a read error that arrives afterwards (ECONNRESET when a
 * server refuses the credentials and closes while our PING is unread) is
 * emitted with no `error` listener and becomes an uncaught exception — Node
 * itself drops errors of destroyed sockets. After this, a socket whose
 * listeners were all removed swallows such errors. Idempotent.
 */
export function guardLateSocketErrors(): void {
  const proto = Socket.prototype as Socket & { [GUARDED]?: boolean };
  if (proto[GUARDED]) return;
  const removeAll = proto.removeAllListeners;
  const ignore = () => {};
  proto.removeAllListeners = function (this: Socket, event?: string | symbol): Socket {
    const out = event === undefined ? removeAll.call(this) : removeAll.call(this, event);
    if (event === undefined || event === "error") this.on("error", ignore);
    return out;
  };
  proto[GUARDED] = true;
}

/** Replaces every occurrence of a secret in `text` with `***`. */
function scrub(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join(REDACTED);
  return out;
}

/**
 * Connects to NATS, waiting for the first server to come up (retrying
 * forever, with a capped backoff, and logging why attempts fail: refused
 * credentials, TLS problems, no server), then reconnecting forever;
 * connection state changes are logged. Throws only for unusable options
 * (unreadable creds or TLS files).
 */
export async function connectBroker(o: BrokerOptions, log: Logger): Promise<NatsConnection> {
  const opts = await connectionOptions(o);
  const secrets = [opts.pass, opts.token];
  guardLateSocketErrors();
  log.info("connecting to NATS", { servers: o.servers.map(redactUrl).join(",") });
  const wait = Math.max(1, o.reconnectWaitMs ?? 250);
  let last = "";
  let lastLogAt = 0;
  let nc: NatsConnection | undefined;
  for (let attempt = 1; nc === undefined; attempt++) {
    try {
      nc = await connectNats(opts);
    } catch (err) {
      let why = explainConnectError(err, o);
      const changed = why.error !== last;
      last = why.error;
      const due = attempt <= 3 || changed || Date.now() - lastLogAt >= RETRY_LOG_EVERY_MS;
      if (due && (why.kind === "unreachable" || why.kind === "other")) {
        // The server's INFO tells e.g. that it wants a client certificate we do not send.
        why = explainConnectError(err, o, await probeServerInfo(opts.servers?.[0] ?? ""));
      }
      // Refused credentials or certificates do not fix themselves soon: back off to 2 s.
      const retryMs = why.kind === "auth" || why.kind === "tls"
        ? backoff(attempt, wait, Math.max(wait, 2000))
        : wait;
      if (due) {
        lastLogAt = Date.now();
        const fields = {
          error: scrub(why.error, secrets),
          kind: why.kind,
          hint: why.hint,
          attempt,
          retry_ms: retryMs,
        };
        if (why.kind === "unreachable") log.warn("NATS not reachable yet; retrying", fields);
        else log.error("cannot connect to NATS; retrying", fields);
      }
      await sleep(retryMs);
    }
  }
  log.info("connected to NATS", { server: nc.getServer() });
  (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case "disconnect":
          log.warn("NATS disconnected", { server: String(s.data) });
          break;
        case "reconnect":
          log.info("NATS reconnected", { server: String(s.data) });
          break;
        case "error":
          log.error("NATS error", { error: scrub(String(s.data), secrets) });
          break;
      }
    }
  })().catch((err) => log.debug("NATS status loop ended", { error: errorMessage(err) }));
  return nc;
}
