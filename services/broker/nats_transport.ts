/**
 * The connection to NATS: nats.js's own Node transport (plain TCP or TLS),
 * whose reads reach the protocol parser regrouped into whole frames
 * ({@link FrameAssembler}, `whole_frames.ts`: a large message is copied
 * once instead of being gathered in a doubling buffer).
 *
 * Over plain TCP the socket reads into memory the assembler gives it
 * (Node's `onread`): the rest of a large message straight into its frame,
 * other bytes into the unused tail of a read buffer. Node's usual reads
 * (a fresh 64 KiB buffer per read, through the stream machinery, then
 * copied into the frame) cost about 3 CPU-seconds per GB here, these about
 * 0.2: for the subscriber, which reads every log line from NATS, that was
 * most of its CPU. Where TLS is used (asked for in the options, or offered
 * by the server) the connection is made and read as nats.js does.
 *
 * This uses nats.js's transport hook (`setTransportFactory`, which
 * `connect` from "nats" sets to `NodeTransport` on every call) and the
 * NodeTransport's fields (`socket`, `yields`, `signal`), pinned with
 * npm:nats 2.29.
 *
 * @module
 */
import { createConnection, type NetConnectOpts, type Socket } from "node:net";
import type { ConnectionOptions, NatsConnection, ServerInfo } from "nats";
import {
  DataBuffer,
  deferred,
  extractProtocolMessage,
  INFO,
  NatsConnectionImpl,
  setTransportFactory,
} from "nats/lib/nats-base-client/internal_mod.js";
import { nodeResolveHost, NodeTransport } from "nats/lib/src/node_transport.js";
import { FrameAssembler } from "./whole_frames.ts";

/** Node's `onread` socket option (not in the type definitions used here). */
interface OnRead {
  buffer: () => Uint8Array;
  callback: (bytesRead: number, buffer: Uint8Array) => boolean | void;
}

/** nats.js's Node transport, its reads regrouped into whole protocol frames. */
class WholeFrameTransport extends NodeTransport {
  readonly #assembler = new FrameAssembler();
  /** The socket reads into the assembler's memory (plain TCP); false once TLS is in play. */
  #direct = false;
  #hp: { hostname: string; port: number } | undefined;
  /** The server's INFO, read by {@link peekInfo} on a direct socket. */
  #info = deferred<ServerInfo>();
  #infoSeen = false;

  override dial(hp: { hostname: string; port: number }): Promise<Socket> {
    this.#hp = hp;
    if (this.options.tls !== undefined && this.options.tls !== null) return super.dial(hp);
    this.#direct = true;
    // Rejected when the socket closes early, awaited only once connected: never unhandled.
    this.#info.catch(() => {});
    const d = deferred<Socket>();
    let dialError: Error | undefined;
    const emit = (piece: Uint8Array) => {
      // What the transport's "data" handler does with a read, for whole frames.
      this.yields.push(piece);
      this.signal.resolve();
    };
    const onread: OnRead = {
      buffer: () => this.#assembler.readTarget(),
      callback: (n) => {
        this.#assembler.read(n, emit);
        if (!this.#infoSeen) this.#findInfo();
      },
    };
    const socket = createConnection(
      { port: hp.port, host: hp.hostname, onread } as NetConnectOpts,
      () => {
        d.resolve(socket);
        socket.removeAllListeners();
      },
    );
    socket.on("error", (err) => dialError = err);
    socket.on("close", () => {
      socket.removeAllListeners();
      d.reject(dialError);
      this.#info.reject(dialError ?? new Error("connection closed before the server's INFO"));
    });
    socket.setNoDelay(true);
    return d;
  }

  override peekInfo(): Promise<ServerInfo> {
    if (!this.#direct) return super.peekInfo();
    let peekError: Error | undefined;
    this.socket.on("error", (err) => peekError = err);
    this.socket.on("close", () => {
      this.socket.removeAllListeners();
      this.#info.reject(peekError);
    });
    return this.#info.then((info) => {
      this.socket.removeAllListeners();
      return info;
    });
  }

  /** Resolves the INFO once its line is read (it stays in `yields` for the parser, as nats.js does). */
  #findInfo(): void {
    const line = extractProtocolMessage(DataBuffer.concat(...this.yields));
    if (line === "") return;
    this.#infoSeen = true;
    try {
      const m = INFO.exec(line);
      if (!m) throw new Error("unexpected response from server");
      this.#info.resolve(JSON.parse(m[1]));
    } catch (err) {
      this.#info.reject(err);
    }
  }

  /**
   * TLS reads through Node's stream machinery: a direct socket is closed and
   * the server dialed again as nats.js does, then upgraded.
   */
  override async startTLS() {
    if (this.#direct) {
      this.#direct = false;
      this.socket.removeAllListeners();
      this.socket.destroy();
      this.yields = [];
      this.socket = await super.dial(this.#hp!);
      await super.peekInfo();
    }
    return super.startTLS();
  }

  override [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    // A direct socket's reads are regrouped as they land.
    return this.#direct ? this.iterate() : wholeFrames(this.iterate());
  }
}

async function* wholeFrames(
  reads: AsyncIterableIterator<Uint8Array>,
): AsyncIterableIterator<Uint8Array> {
  const assembler = new FrameAssembler();
  const pieces: Uint8Array[] = [];
  const emit = (piece: Uint8Array) => pieces.push(piece);
  for await (const read of reads) {
    assembler.push(read, emit);
    for (const piece of pieces) yield piece;
    pieces.length = 0;
  }
}

/** Connects like `connect` from "nats", over a {@link WholeFrameTransport}. */
export function connectNats(opts: ConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({
    factory: () => new WholeFrameTransport(),
    dnsResolveFn: nodeResolveHost,
  });
  return NatsConnectionImpl.connect(opts);
}
