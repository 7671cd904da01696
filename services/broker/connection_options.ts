/**
 * How to reach NATS: the `*_NATS_*` env vars every program shares, the
 * {@link BrokerOptions} made of them, and the nats.js connection options
 * (credentials split out of URLs, creds file, TLS files read once up front).
 *
 * @module
 */
import { credsAuthenticator } from "nats";
import type { ConnectionOptions } from "nats";
import { durationVar, natsUrlVar, stringVar } from "../config/mod.ts";
import { errorMessage } from "../log/mod.ts";

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
  /** How long one connection attempt (TCP, TLS, CONNECT/PONG) may take; 10 s by default. */
  connectTimeoutMs?: number;
}

/** Bytes nats.js buffers before writing inline (its default is 32 KiB). */
const PENDING_LIMIT = 256 * 1024;

/** Default of {@link BrokerOptions.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

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
    // connectBroker retries the first connection itself, logging why each attempt failed.
    waitOnFirstConnect: false,
    // Without this nats.js gives up for good after the same auth error twice in a row.
    ignoreAuthErrorAbort: true,
    timeout: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    pingInterval: 10_000,
    maxPingOut: 3,
  };
  // Hidden nats.js option: bytes buffered before an inline socket write
  // (default 32 KiB). Fewer, larger writes when publishing fast (+15-20% in
  // the TCP receiver); a quiet connection still flushes at the end of each task.
  (opts as { pendingLimit?: number }).pendingLimit = PENDING_LIMIT;
  if (o.credsFile) {
    opts.authenticator = credsAuthenticator(await readConfigFile("NATS creds", o.credsFile));
  }
  const tlsScheme = creds.servers.some((s) => /^tls:\/\//i.test(s));
  if (o.tlsCaFile || o.tlsCertFile || o.tlsKeyFile || tlsScheme) {
    if (Boolean(o.tlsCertFile) !== Boolean(o.tlsKeyFile)) {
      throw new Error("NATS TLS: a client certificate needs both the _TLS_CERT and _TLS_KEY files");
    }
    // Read once now so a wrong path fails at start instead of on every attempt;
    // nats.js reads the files again on each (re)connect, so renewed certificates are used.
    if (o.tlsCaFile) await readConfigFile("NATS TLS CA", o.tlsCaFile);
    if (o.tlsCertFile) await readConfigFile("NATS TLS certificate", o.tlsCertFile);
    if (o.tlsKeyFile) await readConfigFile("NATS TLS key", o.tlsKeyFile);
    const tls: NonNullable<ConnectionOptions["tls"]> = {};
    if (o.tlsCaFile) tls.caFile = o.tlsCaFile;
    if (o.tlsCertFile) tls.certFile = o.tlsCertFile;
    if (o.tlsKeyFile) tls.keyFile = o.tlsKeyFile;
    opts.tls = tls;
  }
  return opts;
}

async function readConfigFile(what: string, path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    throw new Error(`cannot read the ${what} file ${path}: ${errorMessage(err)}`);
  }
}
