/**
 * WebSocket clients for stats proxy tests: one that reads everything (and
 * can wait for a condition), and a raw TCP one that upgrades by hand and
 * then never reads.
 *
 * @module
 */
import type { MetricEvent } from "../../services/metrics/event.ts";

/** Deno's WebSocket also takes request headers (the DOM typings do not know it). */
const DenoWebSocket = WebSocket as unknown as new (
  url: string,
  options: { headers: Record<string, string> },
) => WebSocket;

/** A WebSocket client that records every event it receives. */
export class RecordingClient {
  readonly events: MetricEvent[] = [];
  /** When each event arrived (performance.now()). */
  readonly arrivals: number[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;
  #waiters: (() => void)[] = [];

  constructor(url: string, headers?: Record<string, string>) {
    this.ws = headers ? new DenoWebSocket(url, { headers }) : new WebSocket(url);
    const open = Promise.withResolvers<void>();
    const closed = Promise.withResolvers<CloseEvent>();
    this.opened = open.promise;
    this.closed = closed.promise;
    this.ws.onopen = () => open.resolve();
    this.ws.onerror = () => open.reject(new Error(`WebSocket to ${url} failed`));
    this.ws.onclose = (e) => {
      closed.resolve(e);
      this.#wake();
    };
    this.ws.onmessage = (m) => {
      this.events.push(JSON.parse(m.data as string));
      this.arrivals.push(performance.now());
      this.#wake();
    };
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Waits until `pred` holds (checked on every message), or throws after `ms`. */
  async waitFor(pred: (events: MetricEvent[]) => boolean, ms = 5000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!pred(this.events)) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`condition not met after ${ms} ms (${this.events.length} events)`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        timer = setTimeout(r, Math.min(left, 100));
      });
      clearTimeout(timer);
    }
  }

  /** Closes the socket and waits for the close. */
  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}

/** A WebSocket upgrade done by hand over TCP: the status line, and the open connection. */
export interface RawUpgrade {
  status: number;
  /** The raw response head. */
  head: string;
  conn: Deno.TcpConn;
}

/**
 * Sends a WebSocket upgrade request by hand and reads only the response
 * head; afterwards the caller may simply never read again (a stuck browser).
 */
export async function rawUpgrade(
  port: number,
  path = "/messages",
  headers: Record<string, string> = {},
): Promise<RawUpgrade> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
      `Sec-WebSocket-Version: 13\r\n${extra}\r\n`,
  ));
  // read just the head, byte by byte, so no frame after it is consumed
  const bytes: number[] = [];
  const one = new Uint8Array(1);
  while (!(bytes.length >= 4 && bytes.slice(-4).join() === "13,10,13,10")) {
    const n = await conn.read(one);
    if (n === null) break;
    bytes.push(one[0]);
  }
  const head = new TextDecoder().decode(new Uint8Array(bytes));
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, conn };
}

/** A valid MetricEvent for tests. */
export function metricEvent(over: Partial<MetricEvent> = {}): MetricEvent {
  return {
    Timestamp: Math.floor(Date.now() / 1000),
    Value: 1,
    Sender: "tcp-receiver",
    SourceIP: "test-host",
    MetricType: "Throughput",
    Aggregate: "Total",
    ...over,
  };
}
