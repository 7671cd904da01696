/**
 * A TLS listener that requires and verifies client certificates. Deno's own
 * `Deno.listenTls` cannot ask for one (denoland/deno#26825), so this uses
 * `node:tls` (`requestCert` + `rejectUnauthorized`): a client without a
 * certificate signed by one of the given CAs fails the handshake and is
 * never handed out. Connections look like a `Deno.Conn` to readers
 * (`read`/`close`), with backpressure: the socket is paused while unread
 * data piles up.
 *
 * @module
 */
import tls from "node:tls";
import type { TlsMaterial } from "./tls_files.ts";

/** Options of {@link ClientCertListener.listen}. */
export interface ClientCertListenerOptions {
  hostname: string;
  port: number;
  /** Server certificate and key, and `ca`: the CAs a client certificate must chain to. */
  tls: TlsMaterial & { ca: string };
  /** Called for every failed handshake (no or a wrong client certificate, not TLS). */
  onHandshakeError?: (err: Error, peer: string) => void;
}

/** Unread bytes per connection before its socket is paused. */
const HIGH_WATER = 256 * 1024;

/** One verified client connection. */
export class ClientCertConn {
  readonly remoteAddr: Deno.NetAddr;
  /** The client certificate's subject CN. */
  readonly peerName: string;
  readonly #socket: tls.TLSSocket;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    this.remoteAddr = {
      transport: "tcp",
      hostname: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    };
    this.peerName = String(socket.getPeerCertificate()?.subject?.CN ?? "");
    socket.on("data", (d: Uint8Array) => {
      this.#chunks.push(d);
      this.#buffered += d.length;
      if (this.#buffered > HIGH_WATER) socket.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (err: Error) => {
      this.#error = err;
      this.#notify();
    });
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** Reads into `buf`; `null` at the end of the stream. Throws the socket's error. */
  async read(buf: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((r) => this.#wake = r);
    }
    let n = 0;
    while (n < buf.length && this.#chunks.length > 0) {
      const c = this.#chunks[0];
      const take = Math.min(c.length, buf.length - n);
      buf.set(take === c.length ? c : c.subarray(0, take), n);
      n += take;
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    this.#buffered -= n;
    if (this.#buffered <= HIGH_WATER / 2 && this.#socket.isPaused()) this.#socket.resume();
    return n;
  }

  /** Closes the connection at once. */
  close(): void {
    this.#ended = true;
    this.#socket.destroy();
    this.#notify();
  }
}

/** Accepts TLS connections whose client certificate verified. */
export class ClientCertListener {
  readonly #server: tls.Server;
  readonly #ready: ClientCertConn[] = [];
  #waiting: { resolve: (c: ClientCertConn) => void; reject: (e: Error) => void } | undefined;
  #closed = false;
  #addr!: Deno.NetAddr;

  private constructor(o: ClientCertListenerOptions) {
    this.#server = tls.createServer({
      cert: o.tls.cert,
      key: o.tls.key,
      ca: o.tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
    }, (socket) => {
      const conn = new ClientCertConn(socket);
      if (this.#waiting) {
        const w = this.#waiting;
        this.#waiting = undefined;
        w.resolve(conn);
      } else this.#ready.push(conn);
    });
    this.#server.on("tlsClientError", (err: Error, socket: tls.TLSSocket) => {
      // After a failed handshake node:tls under Deno may no longer know the peer.
      const peer = socket.remoteAddress
        ? `${socket.remoteAddress}:${socket.remotePort}`
        : "unknown";
      o.onHandshakeError?.(err, peer);
      socket.destroy();
    });
  }

  /** Listens; rejects when the address cannot be bound. */
  static listen(o: ClientCertListenerOptions): Promise<ClientCertListener> {
    const l = new ClientCertListener(o);
    return new Promise((resolve, reject) => {
      l.#server.once("error", reject);
      l.#server.listen(o.port, o.hostname, () => {
        l.#server.off("error", reject);
        const a = l.#server.address();
        if (a === null || typeof a === "string") {
          reject(new Error("listening address unknown"));
          return;
        }
        l.#addr = { transport: "tcp", hostname: a.address, port: a.port };
        resolve(l);
      });
    });
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  /** The next verified connection; throws `Deno.errors.BadResource` once closed. */
  accept(): Promise<ClientCertConn> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("listener closed"));
    const c = this.#ready.shift();
    if (c) return Promise.resolve(c);
    return new Promise((resolve, reject) => this.#waiting = { resolve, reject });
  }

  /** New connections get this certificate and CA list (open ones keep theirs). */
  setTls(material: TlsMaterial & { ca: string }): void {
    this.#server.setSecureContext({ cert: material.cert, key: material.key, ca: material.ca });
  }

  /** Stops listening (open connections stay). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const c of this.#ready.splice(0)) c.close();
    this.#waiting?.reject(new Deno.errors.BadResource("listener closed"));
    this.#waiting = undefined;
  }
}
