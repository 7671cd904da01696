/**
 * The stats proxy: subscribes to the MetricEvents every service publishes
 * on core NATS, validates them, keeps the last N, and relays them to
 * browsers over WebSocket (`GET /messages`); serves `GET /config`,
 * `GET /health` and the dashboard (`GET /`). With a token (`PROXY_TOKEN`)
 * the data needs it: `Authorization: Bearer`, or for the browser's
 * WebSocket the subprotocol `bearer.<base64url(token)>` (browsers cannot
 * set headers on a WebSocket); the page itself and a terse `/health` stay
 * open.
 *
 * The answers' headers and the dashboard files are `http_responses.ts`'s,
 * the WebSocket's token `socket_token.ts`'s.
 *
 * @module
 */
import type { NatsConnection, Subscription } from "nats";
import { type BrokerOptions, connectBroker } from "../broker/mod.ts";
import { errorMessage, type Logger } from "../log/mod.ts";
import { metricEventSchema, STATS_SUBJECT } from "../metrics/event.ts";
import type { DashboardAssets } from "./assets.ts";
import { type ClientInfo, WsClient } from "./client.ts";
import { MetricCatalog, Ring } from "./history.ts";
import { isCrossOrigin, originAllowed } from "./origin.ts";
import type { BearerAuth } from "../net/bearer_auth.ts";
import { type HttpServer, serveHttp } from "../net/http_server.ts";
import type { TlsMaterial } from "../net/tls_files.ts";
import { withTimeout } from "../runtime/async.ts";
import { STATS_PROXY_PORT } from "../config/ports.ts";
import { assetResponse, errorResponse, SECURITY_HEADERS } from "./http_responses.ts";
import { checkSocketToken, offeredProtocols, WS_PROTOCOL } from "./socket_token.ts";

/** Options of {@link StatsProxy.start}. */
export interface StatsProxyOptions {
  /** Interface to listen on (default `0.0.0.0`). */
  hostname?: string;
  /** Port (default 9010; 0 picks a free one). */
  port?: number;
  /** How to reach NATS; the proxy connects (in the background) and closes the connection on stop. */
  broker?: BrokerOptions;
  /** An existing connection to use instead of `broker`; left open on stop. */
  nats?: NatsConnection;
  /** Subject of the MetricEvents (default `stats-events`). */
  subject?: string;
  /** Events kept and replayed to new clients (default 500). */
  history?: number;
  /** Normalized browser origins allowed besides the proxy's own; `*` allows any. */
  allowedOrigins?: string[];
  /** Unsent bytes per client before events are queued (default 1 MiB). */
  clientBuffer?: number;
  /** Events queued per slow client before the oldest are dropped (default 2000). */
  clientQueue?: number;
  /** The dashboard's files; without them `/` explains how to build it. */
  assets?: DashboardAssets;
  /** Token check of `/messages`, `/config` and the details of `/health` (`PROXY_TOKEN`). */
  auth?: BearerAuth;
  /** Serve HTTPS (and WSS) with this certificate (`PROXY_TLS_CERT`, `PROXY_TLS_KEY`). */
  tls?: TlsMaterial;
  log: Logger;
}

/** The NATS side as `/health` reports it. */
export type NatsState = "connecting" | "connected" | "reconnecting" | "closed";

/** The `GET /health` answer. */
export interface ProxyHealth {
  status: "ok" | "unavailable";
  nats: NatsState;
  subject: string;
  uptimeSeconds: number;
  events: { received: number; valid: number; invalid: number; history: number };
  clients: { connected: number; dropped: number; list: ClientInfo[] };
  dashboard: "ready" | "missing";
  /** Requests refused 401 by reason, when a token is required. */
  unauthorizedBy?: Record<string, number>;
}

/** Payloads larger than this cannot be a valid MetricEvent and are not parsed. */
const MAX_EVENT_BYTES = 8192;
/** How often queued events are retried for slow clients. */
const FLUSH_INTERVAL_MS = 25;

/** A running stats proxy. */
export class StatsProxy {
  readonly #o: StatsProxyOptions;
  readonly #log: Logger;
  readonly #subject: string;
  readonly #history: Ring<string>;
  readonly #catalog = new MetricCatalog();
  readonly #clients = new Set<WsClient>();
  readonly #backlogged = new Set<WsClient>();
  readonly #decoder = new TextDecoder();
  readonly #started = Date.now();
  #server!: HttpServer;
  #nc: NatsConnection | undefined;
  #sub: Subscription | undefined;
  #natsState: NatsState = "connecting";
  #flushTimer: ReturnType<typeof setInterval> | undefined;
  #nextClientId = 1;
  #stopped = false;
  #received = 0;
  #valid = 0;
  #invalid = 0;
  #droppedGone = 0;

  private constructor(o: StatsProxyOptions) {
    this.#o = o;
    this.#log = o.log;
    this.#subject = o.subject ?? STATS_SUBJECT;
    this.#history = new Ring(o.history ?? 500);
  }

  /**
   * Listens for HTTP at once, then subscribes to NATS (waiting in the
   * background while the broker is unreachable). Throws when the port is
   * taken.
   */
  static async start(o: StatsProxyOptions): Promise<StatsProxy> {
    const proxy = new StatsProxy(o);
    const listening = Promise.withResolvers<void>();
    proxy.#server = serveHttp({
      address: { hostname: o.hostname ?? "0.0.0.0", port: o.port ?? STATS_PROXY_PORT },
      tls: o.tls,
      log: o.log,
      onListen: () => listening.resolve(),
      onError: (err) => {
        o.log.error("request failed", { error: errorMessage(err) });
        return errorResponse(500, "internal error");
      },
      handler: (req, info) => proxy.#handle(req, info),
    });
    await listening.promise;
    if (o.nats) proxy.#attach(o.nats);
    else if (o.broker) {
      connectBroker(o.broker, o.log).then(
        (nc) => {
          if (proxy.#stopped) nc.close().catch(() => {});
          else proxy.#attach(nc);
        },
        (err) => o.log.error("NATS connection failed", { error: errorMessage(err) }),
      );
    }
    return proxy;
  }

  /** The address the proxy listens on. */
  get addr(): Deno.NetAddr {
    return this.#server.addr;
  }

  /** Serves new connections with a renewed certificate (HTTPS only). */
  setTls(material: TlsMaterial): Promise<void> {
    return this.#server.setTls(material);
  }

  /** `http(s)://HOST:PORT` to reach the proxy (loopback when bound to every interface). */
  get url(): string {
    const { hostname, port } = this.addr;
    const host = hostname === "0.0.0.0" || hostname === "::"
      ? "localhost"
      : hostname.includes(":")
      ? `[${hostname}]`
      : hostname;
    return `${this.#server.tls ? "https" : "http"}://${host}:${port}`;
  }

  #attach(nc: NatsConnection): void {
    this.#nc = nc;
    this.#natsState = nc.isClosed() ? "closed" : "connected";
    this.#sub = nc.subscribe(this.#subject, {
      callback: (err, msg) => {
        if (err) this.#log.warn("stats subscription error", { error: errorMessage(err) });
        else this.ingest(msg.data);
      },
    });
    this.#log.info("relaying stats", { subject: this.#subject });
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect" || s.type === "reconnecting") this.#natsState = "reconnecting";
        else if (s.type === "reconnect") this.#natsState = "connected";
      }
    })().catch(() => {});
    nc.closed().then(() => this.#natsState = "closed");
  }

  /**
   * Handles one NATS payload: a valid MetricEvent is remembered and sent to
   * every client; anything else is counted and dropped.
   */
  ingest(data: Uint8Array): void {
    this.#received++;
    if (data.length > MAX_EVENT_BYTES) return this.#reject(`too large (${data.length} bytes)`);
    let json: unknown;
    try {
      json = JSON.parse(this.#decoder.decode(data));
    } catch {
      return this.#reject("not JSON");
    }
    const r = metricEventSchema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      return this.#reject(`${issue.path.join(".") || "event"}: ${issue.message}`);
    }
    this.#valid++;
    const event = r.data;
    const text = JSON.stringify(event);
    this.#history.push(text);
    this.#catalog.add(event.MetricType, event.Sender);
    for (const c of this.#clients) {
      if (c.send(text)) this.#markBacklogged(c);
    }
  }

  #reject(reason: string): void {
    this.#invalid++;
    if (this.#log.enabled("debug")) {
      this.#log.debug("invalid stats event dropped", { reason, invalid: this.#invalid });
    }
  }

  #markBacklogged(c: WsClient): void {
    this.#backlogged.add(c);
    this.#flushTimer ??= setInterval(() => this.#flush(), FLUSH_INTERVAL_MS);
  }

  #flush(): void {
    for (const c of this.#backlogged) {
      if (!c.flush()) this.#backlogged.delete(c);
    }
    if (this.#backlogged.size === 0 && this.#flushTimer !== undefined) {
      clearInterval(this.#flushTimer);
      this.#flushTimer = undefined;
    }
  }

  /** The `/health` report. */
  health(): ProxyHealth {
    const list = [...this.#clients].map((c) => c.info());
    const dropped = list.reduce((n, c) => n + c.dropped, this.#droppedGone);
    return {
      status: this.#natsState === "connected" ? "ok" : "unavailable",
      nats: this.#natsState,
      subject: this.#subject,
      uptimeSeconds: Math.round((Date.now() - this.#started) / 1000),
      events: {
        received: this.#received,
        valid: this.#valid,
        invalid: this.#invalid,
        history: this.#history.size,
      },
      clients: { connected: list.length, dropped, list },
      dashboard: this.#o.assets?.files.size ? "ready" : "missing",
      ...(this.#o.auth ? { unauthorizedBy: this.#o.auth.refusedBy } : {}),
    };
  }

  #handle(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response {
    const path = new URL(req.url).pathname;
    if (!originAllowed(req, this.#o.allowedOrigins ?? [])) {
      this.#log.warn("request from a foreign origin refused", {
        origin: req.headers.get("origin") ?? "",
        path,
      });
      return errorResponse(403, "origin not allowed (see PROXY_ALLOWED_ORIGINS)");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return errorResponse(405, `${req.method} not allowed`, { allow: "GET, HEAD" });
    }
    const cors: Record<string, string> = isCrossOrigin(req)
      ? { "access-control-allow-origin": req.headers.get("origin")!, vary: "Origin" }
      : {};
    const auth = this.#o.auth;
    if (auth && (path === "/messages" || path === "/config" || path === "/health")) {
      if (path === "/health" && req.headers.get("authorization") === null) {
        const h = this.health();
        return Response.json({ status: h.status, nats: h.nats }, {
          status: h.status === "ok" ? 200 : 503,
          headers: { ...SECURITY_HEADERS, ...cors, "cache-control": "no-store" },
        });
      }
      const r = path === "/messages" ? checkSocketToken(req, auth) : auth.check(req);
      if (!r.ok) return auth.unauthorized(r.reason, { ...SECURITY_HEADERS, ...cors });
    }
    switch (path) {
      case "/messages":
        return this.#upgrade(req, info);
      case "/config":
        return Response.json(this.#catalog.toJSON(), {
          headers: { ...SECURITY_HEADERS, ...cors, "cache-control": "no-store" },
        });
      case "/health": {
        const h = this.health();
        return Response.json(h, {
          status: h.status === "ok" ? 200 : 503,
          headers: { ...SECURITY_HEADERS, ...cors, "cache-control": "no-store" },
        });
      }
    }
    return assetResponse(req, this.#o.assets, path);
  }

  #upgrade(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(426, "GET /messages is a WebSocket", { upgrade: "websocket" });
    }
    if (this.#stopped) return errorResponse(503, "stats proxy shutting down");
    const remote = `${info.remoteAddr.hostname}:${info.remoteAddr.port}`; // unreadable after the upgrade
    const offered = offeredProtocols(req);
    const { socket, response } = Deno.upgradeWebSocket(req, {
      idleTimeout: 60,
      // A browser closes a socket whose server picks none of the offered subprotocols.
      ...(offered.includes(WS_PROTOCOL) ? { protocol: WS_PROTOCOL } : {}),
    });
    const client = new WsClient(this.#nextClientId++, socket, remote, {
      maxBuffered: this.#o.clientBuffer ?? 1_048_576,
      maxQueue: this.#o.clientQueue ?? 2000,
    });
    socket.onopen = () => {
      this.#clients.add(client);
      this.#log.info("client connected", { client: client.id, remote });
      let backlog = false;
      for (const text of this.#history.toArray()) backlog = client.send(text) || backlog;
      if (backlog) this.#markBacklogged(client);
    };
    socket.onclose = () => {
      if (!this.#clients.delete(client)) return;
      this.#backlogged.delete(client);
      this.#droppedGone += client.dropped;
      this.#log.info("client disconnected", {
        client: client.id,
        remote,
        sent: client.sent,
        dropped: client.dropped,
      });
    };
    socket.onerror = (e) => {
      this.#log.debug("client socket error", {
        client: client.id,
        error: e instanceof ErrorEvent ? e.message : "error",
      });
    };
    return response;
  }

  /**
   * Stops: no new clients, NATS unsubscribed (and closed when the proxy
   * opened it), every client closed with 1001 so browsers reconnect, the
   * HTTP server shut down.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#flushTimer !== undefined) clearInterval(this.#flushTimer);
    this.#flushTimer = undefined;
    try {
      this.#sub?.unsubscribe();
    } catch {
      // connection already closed
    }
    for (const c of this.#clients) c.close();
    this.#clients.clear();
    this.#backlogged.clear();
    await withTimeout(this.#server.shutdown(), 2000);
    if (this.#nc && !this.#o.nats) await this.#nc.close().catch(() => {});
    this.#log.info("stats proxy stopped");
  }
}
