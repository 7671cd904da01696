/**
 * The connection to NATS: nats.js's own Node transport (plain TCP or TLS),
 * whose reads reach the protocol parser regrouped into whole frames
 * ({@link FrameAssembler}, `whole_frames.ts`: a large message is copied
 * once instead of being gathered in a doubling buffer).
 *
 * This uses nats.js's transport hook (`setTransportFactory`, which
 * `connect` from "nats" sets to `NodeTransport` on every call), pinned with
 * npm:nats 2.29.
 *
 * @module
 */
import type { ConnectionOptions, NatsConnection } from "nats";
import { NatsConnectionImpl, setTransportFactory } from "nats/lib/nats-base-client/internal_mod.js";
import { nodeResolveHost, NodeTransport } from "nats/lib/src/node_transport.js";
import { FrameAssembler } from "./whole_frames.ts";

/** nats.js's Node transport, its reads regrouped into whole protocol frames. */
class WholeFrameTransport extends NodeTransport {
  override [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return wholeFrames(this.iterate());
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
