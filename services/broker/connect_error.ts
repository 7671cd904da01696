/**
 * Explaining a failed connection to NATS: what the server says of itself
 * before any TLS or auth ({@link probeServerInfo}), and what the failure
 * means and what to change ({@link explainConnectError}).
 *
 * @module
 */
import { errorMessage } from "../log/mod.ts";
import { withTimeout } from "../runtime/async.ts";
import { type BrokerOptions, splitCredentials } from "./connection_options.ts";

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
