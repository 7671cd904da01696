/**
 * The stats proxy's configuration: the original's `PROXY_*` variables
 * (`PROXY_HTTP_PORT`, `PROXY_NATS_URL`, `PROXY_SUB_CHANNEL`) plus the new
 * ones for binding, origins, history and slow clients.
 *
 * @module
 */
import { z } from "zod";
import {
  type ConfigOf,
  enumVar,
  type EnvVar,
  intVar,
  parseList,
  type ProgramInfo,
  stringVar,
  tokensVar,
} from "../config/mod.ts";
import { brokerVars } from "../broker/mod.ts";
import { LOG_LEVELS } from "../log/mod.ts";
import { STATS_SUBJECT } from "../metrics/event.ts";
import { normalizeOrigin } from "./origin.ts";
import { STATS_PROXY_PORT } from "../config/ports.ts";

const HOST = /^(?:[A-Za-z0-9_.-]+|\[?[0-9A-Fa-f:.]+\]?)$/;

/** A host name or IP address to listen on (no port). */
function hostVar(name: string, o: { default: string; description: string }): EnvVar<string> {
  return {
    name,
    type: "String",
    expected: "a host name or IP address like 0.0.0.0 or 127.0.0.1",
    defaultText: o.default,
    defaultValue: o.default,
    required: false,
    description: o.description,
    schema: z.string().transform((raw, ctx) => {
      const s = raw.trim().replace(/^\[(.*)\]$/, "$1");
      if (!HOST.test(s)) {
        ctx.addIssue({ code: "custom", message: "invalid" });
        return z.NEVER;
      }
      return s;
    }),
  };
}

/** A comma-separated list of browser origins (or `*`), normalized. */
function originsVar(name: string, o: { description: string }): EnvVar<string[]> {
  return {
    name,
    type: "List",
    expected: "a comma-separated list of origins like https://ops.example.com (or *)",
    defaultText: undefined,
    defaultValue: [],
    required: false,
    description: o.description,
    schema: z.string().transform((raw, ctx) => {
      const out: string[] = [];
      for (const item of parseList(raw)) {
        const origin = normalizeOrigin(item);
        if (origin === undefined) {
          ctx.addIssue({ code: "custom", message: "invalid" });
          return z.NEVER;
        }
        out.push(origin);
      }
      return out;
    }),
  };
}

/** The stats proxy's env vars. */
export const proxySpec = {
  httpPort: intVar("PROXY_HTTP_PORT", {
    default: STATS_PROXY_PORT,
    min: 0,
    max: 65535,
    description: "HTTP port of the dashboard, /messages, /config and /health (0 picks a free one)",
  }),
  bindAddress: hostVar("PROXY_BIND_ADDRESS", {
    default: "0.0.0.0",
    description:
      "interface to listen on; 0.0.0.0 = every interface (as the original), 127.0.0.1 = this machine only",
  }),
  ...brokerVars("PROXY_"),
  subChannel: stringVar("PROXY_SUB_CHANNEL", {
    default: STATS_SUBJECT,
    description: "core NATS subject the MetricEvents arrive on",
  }),
  allowedOrigins: originsVar("PROXY_ALLOWED_ORIGINS", {
    description:
      "browser origins (https://ops.example.com) allowed besides the proxy's own; * allows any. Requests without an Origin header (curl, scripts) are always allowed",
  }),
  tlsCert: stringVar("PROXY_TLS_CERT", {
    description: "PEM certificate (chain) file: serve the dashboard over HTTPS (and WSS)",
  }),
  tlsKey: stringVar("PROXY_TLS_KEY", {
    description: "PEM private key file of PROXY_TLS_CERT",
  }),
  token: tokensVar("PROXY_TOKEN", {
    description:
      "bearer token(s) for /messages, /config and /health details (comma list or @file, re-read on SIGHUP); the dashboard asks for it once",
  }),
  history: intVar("PROXY_HISTORY", {
    default: 500,
    min: 0,
    max: 100_000,
    description: "how many recent events are kept and replayed to each new WebSocket client",
  }),
  clientBuffer: intVar("PROXY_CLIENT_BUFFER", {
    default: 1_048_576,
    min: 1024,
    description: "bytes a WebSocket client may have unsent before new events wait in its queue",
  }),
  clientQueue: intVar("PROXY_CLIENT_QUEUE", {
    default: 2000,
    min: 1,
    description:
      "events that may wait for one slow client; beyond that its oldest are dropped (and counted)",
  }),
  loggingLevel: enumVar("PROXY_LOGGING_LEVEL", LOG_LEVELS, {
    default: "info",
    description: "error, warn, info or debug (debug logs every invalid event)",
  }),
};

/** The parsed stats proxy config. */
export type ProxyConfig = ConfigOf<typeof proxySpec>;

/** What `--help` says of the stats proxy. */
export const proxyInfo: ProgramInfo = {
  name: "stats_proxy",
  task: "stats-proxy",
  summary:
    "relays the MetricEvents every service publishes on NATS to browsers over a WebSocket, and serves the dashboard",
  notes: [
    "Endpoints: GET / (dashboard), GET /messages (WebSocket: replays the last PROXY_HISTORY",
    "events, then streams live; one MetricEvent JSON per message), GET /config",
    "({MetricType: {Sender: true}}), GET /health (JSON; 503 while NATS is unreachable).",
    "",
    "Origins: a browser request whose Origin is neither the proxy's own host nor listed in",
    "PROXY_ALLOWED_ORIGINS is refused with 403 (protects /messages from cross-site pages).",
    "Behind a reverse proxy that rewrites Host, list the public origin there.",
    "",
    "Token: with PROXY_TOKEN, /messages and /config need `Authorization: Bearer <token>`",
    "(the dashboard sends it as the WebSocket subprotocol bearer.<base64url(token)>);",
    "/ and its files and a terse /health ({status, nats}) stay open. Send tokens over HTTPS:",
    "PROXY_TLS_CERT + PROXY_TLS_KEY (re-read when they change or on SIGHUP).",
    "",
    "The proxy serves the dashboard bundled at build time into dashboard/dist/ by",
    "`deno task bundle` (`deno task start` and `deno task compile` run it when stale);",
    "without it, / answers 503 saying so.",
    "",
    "Example: PROXY_NATS_URL=nats://10.0.0.5:4222 PROXY_BIND_ADDRESS=127.0.0.1 deno task stats-proxy",
  ],
};
