/**
 * Connecting to NATS: server lists (clusters), credentials from URLs,
 * creds files and TLS, reconnecting forever. Every program connects here.
 *
 * @module
 */
import { connect, credsAuthenticator, type NatsConnection } from "nats";
import type { ConnectionOptions } from "nats";
import { durationVar, natsUrlVar, stringVar } from "../config/mod.ts";
import { redactUrl } from "../config/redact.ts";
import { errorMessage, type Logger } from "../log/mod.ts";

/** How to reach NATS. */
export interface BrokerOptions {
  /** Server URLs; user:password or token in the first URL are used for auth. */
  servers: string[];
  /** The connection name (the `*_CLIENT_ID`). */
  name: string;
  /** Path of a NATS `.creds` file (JWT + NKey seed). */
  credsFile?: string;
  /** TLS: CA bundle, client cert and key files. Setting any of them turns TLS on. */
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Time between reconnect attempts to the same server. */
  reconnectWaitMs?: number;
}

/** The env vars every program uses to reach NATS, with its prefix (e.g. `SUB_`). */
export function brokerVars(prefix: string) {
  return {
    natsUrl: natsUrlVar(`${prefix}NATS_URL`, {
      default: "nats://localhost:4222",
      description:
        "NATS server URL(s), comma-separated for a cluster; nats://user:pass@host or nats://token@host to authenticate",
    }),
    natsCreds: stringVar(`${prefix}NATS_CREDS`, {
      description: "path of a NATS .creds file (JWT + NKey) to authenticate with",
    }),
    natsTlsCa: stringVar(`${prefix}NATS_TLS_CA`, {
      description: "CA certificate file to verify the NATS server (turns TLS on)",
    }),
    natsTlsCert: stringVar(`${prefix}NATS_TLS_CERT`, {
      description: "client certificate file for NATS TLS (with _TLS_KEY)",
    }),
    natsTlsKey: stringVar(`${prefix}NATS_TLS_KEY`, {
      description: "client key file for NATS TLS",
    }),
    natsReconnectWait: durationVar(`${prefix}NATS_RECONNECT_WAIT`, {
      default: "250ms",
      description: "pause between reconnect attempts to one server (reconnects never give up)",
    }),
  };
}

/** The parsed values of {@link brokerVars}. */
export interface BrokerConfig {
  natsUrl: string[];
  natsCreds: string;
  natsTlsCa: string;
  natsTlsCert: string;
  natsTlsKey: string;
  natsReconnectWait: number;
}

/** BrokerOptions from a program's parsed {@link brokerVars}. */
export function brokerOptions(cfg: BrokerConfig, name: string): BrokerOptions {
  return {
    servers: cfg.natsUrl,
    name,
    credsFile: cfg.natsCreds || undefined,
    tlsCaFile: cfg.natsTlsCa || undefined,
    tlsCertFile: cfg.natsTlsCert || undefined,
    tlsKeyFile: cfg.natsTlsKey || undefined,
    reconnectWaitMs: cfg.natsReconnectWait,
  };
}

/** Splits credentials out of server URLs (nats.js does not read them from URLs). */
export function splitCredentials(
  servers: string[],
): { servers: string[]; user?: string; pass?: string; token?: string } {
  let user: string | undefined;
  let pass: string | undefined;
  let token: string | undefined;
  const plain = servers.map((s, i) => {
    if (!/^[a-z]+:\/\//i.test(s)) return s;
    const u = new URL(s);
    if (i === 0 || (user === undefined && token === undefined)) {
      if (u.username && u.password) {
        user = decodeURIComponent(u.username);
        pass = decodeURIComponent(u.password);
      } else if (u.username) token = decodeURIComponent(u.username);
    }
    const scheme = u.protocol === "tls:" ? "tls" : u.protocol === "ws:" ? "ws" : "nats";
    return `${scheme}://${u.host}`;
  });
  return { servers: plain, user, pass, token };
}

/** nats.js connection options for a BrokerOptions (exposed for tests). */
export async function connectionOptions(o: BrokerOptions): Promise<ConnectionOptions> {
  const creds = splitCredentials(o.servers);
  const opts: ConnectionOptions = {
    servers: creds.servers,
    name: o.name,
    user: creds.user,
    pass: creds.pass,
    token: creds.token,
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: o.reconnectWaitMs ?? 250,
    reconnectJitter: 100,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    maxPingOut: 3,
  };
  if (o.credsFile) {
    opts.authenticator = credsAuthenticator(await Deno.readFile(o.credsFile));
  }
  if (o.tlsCaFile || o.tlsCertFile || o.tlsKeyFile) {
    opts.tls = {
      caFile: o.tlsCaFile,
      certFile: o.tlsCertFile,
      keyFile: o.tlsKeyFile,
    };
  }
  return opts;
}

/**
 * Connects to NATS, waiting for the first server to come up, then
 * reconnecting forever; connection state changes are logged.
 */
export async function connectBroker(o: BrokerOptions, log: Logger): Promise<NatsConnection> {
  const opts = await connectionOptions(o);
  log.info("connecting to NATS", { servers: o.servers.map(redactUrl).join(",") });
  const nc = await connect(opts);
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
          log.error("NATS error", { error: String(s.data) });
          break;
      }
    }
  })().catch((err) => log.debug("NATS status loop ended", { error: errorMessage(err) }));
  return nc;
}
