/**
 * TcpListener: the socket side of the TCP receiver. Accepts connections,
 * reads each into its own FrameSplitter, and stops reading a socket while
 * the frame handler is blocked (backpressure: the client's writes block).
 * Closes connections idle or stuck mid-frame for too long. With a
 * certificate it listens for TLS instead (one listener per port: plaintext
 * and TLS each have their own), and can switch to a renewed certificate.
 * With client CAs (`tls.ca`) it requires a client certificate
 * ({@link ClientCertListener}).
 *
 * @module
 */
import { FrameSplitter } from "../heka/framing.ts";
import type { TlsMaterial } from "../net/tls_files.ts";
import { type ClientCertConn, ClientCertListener } from "../net/client_cert_listener.ts";
import { errorMessage, type Logger } from "../log/mod.ts";
import type { Counter, MetricsRegistry } from "../metrics/mod.ts";
import type { FrameHandler } from "./frame_handler.ts";
import { sleep } from "../runtime/async.ts";
import { ReadBufferPool, type ReadLease } from "./read_buffers.ts";

/** Options of a {@link TcpListener}. */
export interface TcpListenerOptions {
  hostname: string;
  port: number;
  maxMessageSize: number;
  maxConnections: number;
  /** 0 = never close idle connections. */
  idleTimeoutMs: number;
  keepAlive: boolean;
  /** Listen for TLS with this certificate (else plaintext); with `ca`, require client certificates. */
  tls?: TlsMaterial;
}

const MIN_READ = 4096;
const MAX_READ = 256 * 1024;
/** Free full-size read buffers kept for reuse at most (4 MiB). */
const POOL_KEEP = 16;

interface Client {
  conn: Deno.TcpConn | Deno.TlsConn | ClientCertConn;
  peer: string;
  /** performance.now() of the last byte read. */
  lastRead: number;
  /** performance.now() when the splitter last held no partial frame. */
  lastClean: number;
  /** Waiting for the broker (backpressure): not idle, whatever the clock says. */
  waiting: boolean;
}

/** Accepts Heka streams and feeds their frames to a {@link FrameHandler}. */
export class TcpListener {
  #listener: Deno.Listener<Deno.TcpConn> | Deno.TlsListener | ClientCertListener;
  readonly #clients = new Set<Client>();
  readonly #handler: FrameHandler;
  readonly #o: TcpListenerOptions;
  readonly #log: Logger;
  readonly #sweeper: ReturnType<typeof setInterval> | undefined;
  readonly #connectionsTotal: Counter;
  readonly #rejectedConnections: Counter;
  readonly #garbageBytes: Counter;
  readonly #invalidFrames: Counter;
  readonly #oversized: Counter;
  readonly #idleClosed: Counter;
  readonly #tlsFailed: Counter | undefined;
  /** Full-size read buffers for a sink that keeps views (see read_buffers.ts). */
  readonly #buffers = new ReadBufferPool(MAX_READ, POOL_KEEP);
  #lastTlsLog = 0;
  #accepting: Promise<void>;
  #closed = false;

  constructor(
    o: TcpListenerOptions,
    handler: FrameHandler,
    registry: MetricsRegistry,
    log: Logger,
    listener?: ClientCertListener,
  ) {
    this.#o = o;
    this.#handler = handler;
    this.#log = log;
    this.#listener = listener ?? this.#listen(o.port, o.tls);
    this.#connectionsTotal = registry.counter("connections_accepted", "TCP connections accepted");
    this.#rejectedConnections = registry.counter(
      "connections_rejected",
      "TCP connections closed at once: over the connection limit",
    );
    this.#garbageBytes = registry.counter("garbage_bytes", "bytes skipped between frames");
    this.#invalidFrames = registry.counter("invalid_frames", "frames with an invalid header");
    this.#oversized = registry.counter("oversized", "frames over the maximum message size");
    this.#idleClosed = registry.counter("idle_closed", "connections closed idle or stuck");
    if (o.tls) {
      this.#tlsFailed = registry.counter(
        "tls_handshakes_failed",
        "TLS connections closed in the handshake (plaintext client, bad TLS, wrong certificate)",
      );
      registry.gauge("tls_connections", "open TLS connections", () => this.#clients.size);
    } else {
      registry.gauge("connections", "open TCP connections", () => this.#clients.size);
    }
    if (o.idleTimeoutMs > 0) {
      this.#sweeper = setInterval(
        () => this.#sweep(),
        Math.max(50, Math.min(5000, o.idleTimeoutMs / 4)),
      );
    }
    this.#accepting = this.#acceptLoop();
  }

  /**
   * Opens a listener; with client CAs (`o.tls.ca`) it binds through
   * `node:tls`, which is asynchronous. Rejects when the address is taken.
   */
  static async open(
    o: TcpListenerOptions,
    handler: FrameHandler,
    registry: MetricsRegistry,
    log: Logger,
  ): Promise<TcpListener> {
    const ca = o.tls?.ca;
    if (!o.tls || ca === undefined) return new TcpListener(o, handler, registry, log);
    // The listener reports handshake errors to the TcpListener built around it.
    const ref: { self?: TcpListener } = {};
    const l = await ClientCertListener.listen({
      hostname: o.hostname,
      port: o.port,
      tls: { ...o.tls, ca },
      onHandshakeError: (err, peer) => {
        if (ref.self) ref.self.#handshakeFailed(err, peer);
      },
    });
    ref.self = new TcpListener(o, handler, registry, log, l);
    return ref.self;
  }

  /** The bound address (port 0 resolves to a real port). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  /** Whether this listener speaks TLS. */
  get tls(): boolean {
    return this.#o.tls !== undefined;
  }

  /**
   * Serves new connections with a renewed certificate: the listening socket
   * is opened again on the same port (open connections stay as they are).
   */
  async setTls(material: TlsMaterial): Promise<void> {
    if (this.#closed || !this.#o.tls) return;
    const old = this.#listener;
    if (old instanceof ClientCertListener) {
      // node:tls swaps the certificate (and client CAs) in place.
      return old.setTls({ ...material, ca: material.ca ?? this.#o.tls.ca ?? "" });
    }
    const port = (old.addr as Deno.NetAddr).port;
    old.close();
    for (let attempt = 0;; attempt++) {
      try {
        this.#listener = this.#listen(port, material);
        return;
      } catch (err) {
        if (!(err instanceof Deno.errors.AddrInUse) || attempt >= 200) throw err;
        await sleep(10);
      }
    }
  }

  #listen(
    port: number,
    tls: TlsMaterial | undefined,
  ): Deno.Listener<Deno.TcpConn> | Deno.TlsListener {
    return tls
      ? Deno.listenTls({ hostname: this.#o.hostname, port, cert: tls.cert, key: tls.key })
      : Deno.listen({ hostname: this.#o.hostname, port, transport: "tcp" });
  }

  /** Open connections. */
  get connections(): number {
    return this.#clients.size;
  }

  /** Stops accepting and closes every connection; frames already handed over stay handed over. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const c of this.#clients) this.#drop(c);
    await this.#accepting;
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.TcpConn | Deno.TlsConn | ClientCertConn;
      const listener = this.#listener;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (this.#closed) return;
        if (listener !== this.#listener) continue; // replaced by setTls
        this.#log.warn("accept failed", { error: errorMessage(err) });
        await sleep(10);
        continue;
      }
      if (this.#clients.size >= this.#o.maxConnections) {
        this.#rejectedConnections.value++;
        try {
          conn.close();
        } catch {
          // gone
        }
        continue;
      }
      this.#connectionsTotal.value++;
      if (this.#o.keepAlive && "setKeepAlive" in conn) {
        try {
          conn.setKeepAlive(true);
        } catch {
          // not supported here
        }
      }
      if ("setNoDelay" in conn) {
        try {
          conn.setNoDelay(true);
        } catch {
          // fine either way
        }
      }
      const now = performance.now();
      const remote = conn.remoteAddr as Deno.NetAddr;
      const client: Client = {
        conn,
        peer: `${remote.hostname}:${remote.port}`,
        lastRead: now,
        lastClean: now,
        waiting: false,
      };
      this.#clients.add(client);
      this.#serve(client).catch((err) =>
        this.#log.debug("connection ended", { peer: client.peer, error: errorMessage(err) })
      ).finally(() => this.#drop(client));
    }
  }

  async #serve(c: Client): Promise<void> {
    const splitter = new FrameSplitter({ maxMessageSize: this.#o.maxMessageSize });
    const handler = this.#handler;
    const stats = splitter.stats;
    let garbage = 0;
    let invalid = 0;
    let oversized = 0;
    let size = MIN_READ;
    const reuse = handler.copiesFrames;
    let buf: Uint8Array | undefined;
    /** The pooled buffer of this read, when the sink keeps views (one message each). */
    let lease: ReadLease | undefined;
    if ("handshake" in c.conn) {
      // Idle sweeping covers a client that never finishes the handshake.
      try {
        await c.conn.handshake();
      } catch (err) {
        this.#handshakeFailed(err, c.peer);
        return;
      }
      c.lastRead = c.lastClean = performance.now();
    }
    try {
      while (!this.#closed) {
        if (handler.blocked) await this.#wait(c);
        // Frames are views into the read buffer. When the sink copies them
        // (packed), the buffer is read into again: a fresh 256 KiB buffer per
        // read costs page faults on every first write. Otherwise (one
        // message each) the views live until acknowledged: a full-size
        // buffer comes from the pool and goes back once all are released.
        if (reuse) {
          if (buf === undefined || buf.length !== size) buf = new Uint8Array(size);
        } else if (size === MAX_READ) {
          lease = this.#buffers.take();
          buf = lease.buf;
        } else {
          buf = new Uint8Array(size);
        }
        const n = await c.conn.read(buf);
        if (n === null) break;
        const now = performance.now();
        c.lastRead = now;
        // Grow for busy streams, shrink for trickles (idle sockets cost little).
        if (n === size) size = Math.min(size * 2, MAX_READ);
        else if (n < size / 4 && size > MIN_READ) size = size / 2;
        splitter.push(n === buf.length ? buf : buf.subarray(0, n));
        for (let f = splitter.next(); f !== null; f = splitter.next()) {
          if (lease !== undefined && lease.holds(f.message)) {
            lease.hold();
            handler.handle(f, c.peer, lease.release);
          } else handler.handle(f, c.peer);
          if (handler.blocked) await this.#wait(c);
        }
        if (reuse || lease !== undefined) splitter.detach();
        lease?.release();
        lease = undefined;
        if (splitter.buffered === 0) c.lastClean = now;
        if (stats.garbageBytes !== garbage) {
          this.#garbageBytes.value += stats.garbageBytes - garbage;
          garbage = stats.garbageBytes;
        }
        if (stats.invalidHeaders !== invalid) {
          this.#invalidFrames.value += stats.invalidHeaders - invalid;
          this.#handler.metrics.invalid.value += stats.invalidHeaders - invalid;
          invalid = stats.invalidHeaders;
        }
        if (stats.oversized !== oversized) {
          this.#oversized.value += stats.oversized - oversized;
          this.#handler.metrics.refused.value += stats.oversized - oversized;
          oversized = stats.oversized;
        }
      }
    } catch (err) {
      if (!this.#closed && !(err instanceof Deno.errors.BadResource)) throw err;
    } finally {
      lease?.release();
    }
  }

  #handshakeFailed(err: unknown, peer: string): void {
    this.#tlsFailed!.value++;
    const now = Date.now();
    if (now - this.#lastTlsLog >= 1000) {
      this.#lastTlsLog = now;
      this.#log.warn("TLS handshake failed", { peer, error: errorMessage(err) });
    }
  }

  async #wait(c: Client): Promise<void> {
    c.waiting = true;
    await this.#handler.ready();
    c.waiting = false;
    c.lastRead = c.lastClean = performance.now();
  }

  #drop(c: Client): void {
    if (!this.#clients.delete(c)) return;
    try {
      c.conn.close();
    } catch {
      // already closed
    }
  }

  #sweep(): void {
    const now = performance.now();
    const limit = this.#o.idleTimeoutMs;
    for (const c of this.#clients) {
      if (c.waiting) continue;
      if (now - c.lastRead > limit || now - c.lastClean > limit) {
        this.#idleClosed.value++;
        this.#log.debug("closing idle or stuck connection", { peer: c.peer });
        this.#drop(c);
      }
    }
  }
}
