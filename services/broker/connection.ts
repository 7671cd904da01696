/**
 * Connecting to NATS: server lists (clusters), credentials from URLs,
 * creds files and TLS, reconnecting forever. Every program connects here.
 *
 * @module
 */
import { connect, credsAuthenticator, type NatsConnection } from "nats";
import type { ConnectionOptions } from "nats";
import { Socket } from "node:net";
import { durationVar, natsUrlVar, stringVar } from "../config/mod.ts";
import { REDACTED, redactUrl } from "../config/redact.ts";
import { errorMessage, type Logger } from "../log/mod.ts";
import { backoff, sleep, withTimeout } from "../runtime/async.ts";

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

/** While the first connection keeps failing the same way, the failure is logged this often. */
const RETRY_LOG_EVERY_MS = 30_000;

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

/** What a server says about itself in its first (`INFO`) line, before any TLS or auth. */
export interface ServerInfo {
  /** The server wants credentials. */
  auth_required?: boolean;
  /** Clients must use TLS. */
  tls_required?: boolean;
  /** Clients must present a certificate the server trusts. */
  tls_verify?: boolean;
  /** nats-server version. */
  version?: string;
}

/**
 * Reads the `INFO` line a NATS server sends first, over plain TCP (used to
 * explain failed connections). Undefined when nothing usable arrives in `ms`.
 */
export async function probeServerInfo(server: string, ms = 2000): Promise<ServerInfo | undefined> {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(server) ? server : `nats://${server}`);
  } catch {
    return undefined;
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port || 4222);
  let conn: Deno.TcpConn | undefined;
  let done = false;
  const read = async (): Promise<ServerInfo | undefined> => {
    const c = await Deno.connect({ hostname, port });
    if (done) { // timed out meanwhile
      c.close();
      return undefined;
    }
    conn = c;
    const buf = new Uint8Array(16 * 1024);
    let text = "";
    while (!text.includes("\r\n") && text.length < buf.length) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const m = /^INFO\s+(\{.*\})\s*\r?\n/.exec(text);
    return m ? JSON.parse(m[1]) as ServerInfo : undefined;
  };
  try {
    return await withTimeout(read(), ms);
  } catch {
    return undefined;
  } finally {
    done = true;
    try {
      conn?.close();
    } catch {
      // already closed
    }
  }
}

/** Why a connection attempt failed, for the log. */
export interface ConnectFailure {
  /** auth: credentials refused; tls: certificates; unreachable: no answer; other. */
  kind: "auth" | "tls" | "unreachable" | "other";
  /** The client's error (never holds credentials). */
  error: string;
  /** What to change, when it can be told. */
  hint?: string;
}

const TLS_ERROR =
  /certificate|\btls\b|ssl|handshake|self[- ]signed|altname|UNABLE_TO_|CERT_|alert/i;

/**
 * Explains a failed connection attempt: `err` as thrown by nats.js, the
 * options used, and the server's INFO when it could be read.
 */
export function explainConnectError(
  err: unknown,
  o: BrokerOptions,
  info?: ServerInfo,
): ConnectFailure {
  const code = typeof err === "object" && err !== null && "code" in err
    ? String((err as { code: unknown }).code)
    : "";
  const message = errorMessage(err);
  const error = code && !message.includes(code) ? `${message} (${code})` : message;
  const creds = splitCredentials(o.servers);
  const hasCredentials = Boolean(creds.user || creds.token || o.credsFile);
  const hasCert = Boolean(o.tlsCertFile);
  if (code === "AUTHORIZATION_VIOLATION" || /authorization violation/i.test(message)) {
    return {
      kind: "auth",
      error,
      hint: hasCredentials
        ? "the server refused the credentials: check user:password@ or token@ in *_NATS_URL, or the *_NATS_CREDS file"
        : "the server requires authentication: put user:password@ or token@ in *_NATS_URL, or set *_NATS_CREDS",
    };
  }
  if (code === "AUTHENTICATION_EXPIRED" || code === "ACCOUNT_EXPIRED") {
    return {
      kind: "auth",
      error,
      hint: "the credentials have expired: renew the *_NATS_CREDS file",
    };
  }
  if (code === "SERVER_OPT_NA" && /tls/i.test(message)) {
    return {
      kind: "tls",
      error,
      hint: "TLS was asked for (tls:// or *_NATS_TLS_*) but the server does not offer TLS",
    };
  }
  if (
    /ALTNAME|NotValidForName|not in the cert|does not match|hostname/i.test(error) &&
    TLS_ERROR.test(error)
  ) {
    return {
      kind: "tls",
      error,
      hint:
        "the server certificate does not name this host: use a host name or IP of its subjectAltName in *_NATS_URL",
    };
  }
  if (TLS_ERROR.test(error)) {
    return {
      kind: "tls",
      error,
      hint: o.tlsCaFile
        ? "TLS failed: check that *_NATS_TLS_CA signed the server certificate and, if the server verifies clients, *_NATS_TLS_CERT/_KEY"
        : "the server certificate could not be verified: set *_NATS_TLS_CA to the CA file that signed it",
    };
  }
  if (info?.tls_verify && !hasCert) {
    return {
      kind: "tls",
      error,
      hint: "the server requires a TLS client certificate: set *_NATS_TLS_CERT and *_NATS_TLS_KEY",
    };
  }
  if (info?.tls_verify && (code === "TIMEOUT" || code === "CONNECTION_TIMEOUT")) {
    return {
      kind: "tls",
      error,
      hint:
        "the server verifies client certificates and may have refused *_NATS_TLS_CERT (is it signed by a CA the server trusts?)",
    };
  }
  if (code === "CONNECTION_REFUSED" || code === "TIMEOUT" || code === "CONNECTION_TIMEOUT") {
    return { kind: "unreachable", error };
  }
  return { kind: "other", error };
}

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
      nc = await connect(opts);
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
