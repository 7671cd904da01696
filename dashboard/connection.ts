/**
 * The dashboard's WebSocket to the stats proxy (`/messages`): parses each
 * MetricEvent, reports its state (connecting / connected / reconnecting),
 * and reconnects by itself with exponential backoff and jitter. No DOM
 * needed: the WebSocket class and timers are injectable for tests.
 *
 * @module
 */
import type { MetricEvent } from "../services/metrics/event.ts";

/** Where the connection stands. */
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "stopped";

/** The connection's state as the header shows it. */
export interface ConnectionState {
  status: ConnectionStatus;
  /** Failed attempts in a row (0 once connected). */
  attempt: number;
  /** When the next attempt starts (ms since epoch), while reconnecting. */
  retryAt?: number;
  /** When the status last changed (ms since epoch). */
  since: number;
  /** Events received over this connection. */
  events: number;
}

/** Backoff between reconnect attempts. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ± this fraction of randomness, so many dashboards do not reconnect in lockstep. */
  jitter: number;
}

/** The default backoff: 0.5 s, 1 s, 2 s, … up to 10 s, ±20 %. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 10_000, factor: 2, jitter: 0.2 };

/** The delay before reconnect attempt `attempt` (1-based). */
export function backoffDelay(
  attempt: number,
  b: Backoff = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const base = Math.min(b.maxMs, b.initialMs * b.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 + b.jitter * (2 * random() - 1)));
}

/** The minimal WebSocket surface used (the browser's, or a test double). */
export interface SocketLike {
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  close(code?: number, reason?: string): void;
}

/** Options of a {@link StatsConnection}. */
export interface StatsConnectionOptions {
  /** `ws://host:port/messages`. */
  url: string;
  onEvent: (e: MetricEvent) => void;
  /** Called on every (re)connect, before the replayed history arrives. */
  onOpen?: () => void;
  onState?: (s: ConnectionState) => void;
  backoff?: Backoff;
  /** The proxy's token (`PROXY_TOKEN`), sent as a WebSocket subprotocol. */
  token?: string;
  /** Creates the socket (default: `new WebSocket(url, protocols)`). */
  createSocket?: (url: string, protocols: string[]) => SocketLike;
  now?: () => number;
  random?: () => number;
}

const AGGREGATES = new Set(["Total", "Average"]);

/**
 * Parses one WebSocket message into a MetricEvent; undefined when it is not
 * one. The proxy has validated events with the shared zod schema already;
 * this light check keeps zod out of the browser bundle.
 */
export function parseEvent(data: unknown): MetricEvent | undefined {
  if (typeof data !== "string") return undefined;
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const e = v as Record<string, unknown>;
  if (
    typeof e.Timestamp !== "number" || !Number.isFinite(e.Timestamp) ||
    typeof e.Value !== "number" || !Number.isFinite(e.Value) ||
    typeof e.Sender !== "string" || e.Sender === "" ||
    typeof e.SourceIP !== "string" ||
    typeof e.MetricType !== "string" || e.MetricType === "" ||
    typeof e.Aggregate !== "string" || !AGGREGATES.has(e.Aggregate)
  ) return undefined;
  const t = e.Threshold as Record<string, unknown> | undefined;
  if (t !== undefined && (typeof t?.Warn !== "number" || typeof t?.Error !== "number")) {
    return undefined;
  }
  return e as unknown as MetricEvent;
}

/**
 * The WebSocket subprotocols that carry a token: `lagermeister` (which the
 * proxy answers with) and `bearer.<base64url(token)>`. Browsers cannot set
 * an Authorization header on a WebSocket, and a query parameter would land
 * in access logs.
 */
export function tokenProtocols(token: string | undefined): string[] {
  if (!token) return [];
  const b64 = btoa(String.fromCharCode(...new TextEncoder().encode(token)))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  return ["lagermeister", `bearer.${b64}`];
}

/** The headers of a request to the proxy with its token. */
export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The `/messages` URL on the page's own origin. */
export function messagesUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/messages`;
}

/** A self-healing WebSocket to the stats proxy. */
export class StatsConnection {
  readonly #o: StatsConnectionOptions;
  readonly #now: () => number;
  #socket: SocketLike | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #state: ConnectionState;
  /** Messages that were not MetricEvents. */
  invalid = 0;

  constructor(o: StatsConnectionOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#state = { status: "connecting", attempt: 0, since: this.#now(), events: 0 };
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  #set(patch: Partial<ConnectionState>): void {
    const changed = patch.status !== undefined && patch.status !== this.#state.status;
    this.#state = { ...this.#state, ...patch, ...(changed ? { since: this.#now() } : {}) };
    this.#o.onState?.(this.#state);
  }

  /** Opens the connection (and keeps it open until {@link stop}). */
  start(): void {
    if (this.#state.status === "stopped") this.#set({ status: "connecting", attempt: 0 });
    this.#connect();
  }

  #connect(): void {
    this.#timer = undefined;
    let socket: SocketLike;
    try {
      const create = this.#o.createSocket ?? ((url, protocols) => new WebSocket(url, protocols));
      socket = create(this.#o.url, tokenProtocols(this.#o.token));
    } catch {
      this.#retry();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      this.#o.onOpen?.();
      this.#set({ status: "connected", attempt: 0, retryAt: undefined, events: 0 });
    };
    socket.onmessage = (ev) => {
      const e = parseEvent(ev.data);
      if (!e) {
        this.invalid++;
        return;
      }
      this.#state.events++;
      this.#o.onEvent(e);
    };
    socket.onerror = () => {
      // a close event follows; it schedules the retry
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (this.#state.status !== "stopped") this.#retry();
    };
  }

  #retry(): void {
    const attempt = this.#state.attempt + 1;
    const delay = backoffDelay(attempt, this.#o.backoff, this.#o.random);
    this.#set({ status: "reconnecting", attempt, retryAt: this.#now() + delay });
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  /** Reconnects now instead of waiting for the backoff. */
  retryNow(): void {
    if (this.#state.status !== "reconnecting" || this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#connect();
  }

  /** Closes the connection for good. */
  stop(): void {
    this.#set({ status: "stopped", retryAt: undefined });
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const s = this.#socket;
    this.#socket = undefined;
    s?.close(1000, "dashboard closed");
  }
}

/** The parts of the proxy's `/health` the dashboard shows. */
export interface ProxyStatus {
  nats: string;
  invalid: number;
  clients: number;
  dropped: number;
}

/** Reads the proxy's `/health`; undefined when it cannot be reached. */
export async function fetchProxyStatus(
  base = "",
  fetchFn: typeof fetch = fetch,
  token?: string,
): Promise<ProxyStatus | undefined> {
  try {
    const r = await fetchFn(`${base}/health`, { cache: "no-store", headers: authHeaders(token) });
    const h = await r.json() as {
      nats?: string;
      events?: { invalid?: number };
      clients?: { connected?: number; dropped?: number };
    };
    return {
      nats: h.nats ?? "unknown",
      invalid: h.events?.invalid ?? 0,
      clients: h.clients?.connected ?? 0,
      dropped: h.clients?.dropped ?? 0,
    };
  } catch {
    return undefined;
  }
}
