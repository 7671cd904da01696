/**
 * One browser connected to `/messages`: events go straight to its socket
 * while the socket keeps up; when the browser reads slower than events
 * arrive, they wait in a bounded queue of its own, and past that its oldest
 * are dropped (and counted). A slow client never holds up the others and
 * never grows the proxy's memory beyond its limits.
 *
 * @module
 */
import { Ring } from "./history.ts";

/** How much one client may hold back. */
export interface ClientLimits {
  /** Unsent bytes (`WebSocket.bufferedAmount`) above which events are queued instead of sent. */
  maxBuffered: number;
  /** Events queued for the client; the oldest are dropped beyond this. */
  maxQueue: number;
}

/** What `/health` shows of a client. */
export interface ClientInfo {
  id: number;
  remote: string;
  connectedAt: string;
  sent: number;
  queued: number;
  bufferedBytes: number;
  dropped: number;
}

/** A WebSocket client of the stats proxy with its bounded send queue. */
export class WsClient {
  /** Events handed to the socket. */
  sent = 0;
  /** Events dropped because the client fell too far behind. */
  dropped = 0;
  readonly connectedAt: Date = new Date();
  readonly #queue: Ring<string>;

  constructor(
    readonly id: number,
    readonly socket: WebSocket,
    readonly remote: string,
    readonly limits: ClientLimits,
  ) {
    this.#queue = new Ring(limits.maxQueue);
  }

  /** Events waiting for the socket to drain. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Whether the socket can take more now. */
  get #hasRoom(): boolean {
    return this.socket.bufferedAmount < this.limits.maxBuffered;
  }

  /**
   * Sends one serialized event now when the socket has room and nothing is
   * queued; otherwise queues it, dropping the oldest queued event when the
   * queue is full. Returns whether events are left queued.
   */
  send(text: string): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    if (this.#queue.size === 0 && this.#hasRoom) {
      this.socket.send(text);
      this.sent++;
      return false;
    }
    if (this.#queue.push(text) !== undefined) this.dropped++;
    return true;
  }

  /** Moves queued events to the socket while it has room. Returns whether some remain. */
  flush(): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) {
      this.#queue.clear();
      return false;
    }
    while (this.#queue.size > 0 && this.#hasRoom) {
      this.socket.send(this.#queue.shift()!);
      this.sent++;
    }
    return this.#queue.size > 0;
  }

  /** Closes the socket (code 1001 "going away" by default) and forgets the queue. */
  close(code = 1001, reason = "stats proxy shutting down"): void {
    this.#queue.clear();
    try {
      if (
        this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING
      ) this.socket.close(code, reason);
    } catch {
      // already closing
    }
  }

  /** A snapshot for `/health`. */
  info(): ClientInfo {
    return {
      id: this.id,
      remote: this.remote,
      connectedAt: this.connectedAt.toISOString(),
      sent: this.sent,
      queued: this.#queue.size,
      bufferedBytes: this.socket.bufferedAmount,
      dropped: this.dropped,
    };
  }
}
