/**
 * What both receivers share: config, the message gate, the store and the
 * metrics. Transport (TCP, HTTP) stays in each receiver.
 *
 * @module
 */
export { receiverVars } from "./config.ts";
export { MessageGate, type Verdict } from "./gate.ts";
export { closeStore, openStore, type Store, type StoreConfig } from "./store.ts";
export { ReceiverMetrics } from "./metrics.ts";
export {
  openReceiver,
  type ReceiverConfig,
  type ReceiverIdentity,
  type ReceiverParts,
  serveReceiver,
  type TransportHooks,
} from "./runtime.ts";
export { type MessageSink, PerMessageSink } from "./sink.ts";
export { ChunkPacker, HEADER_ROOM, type PackerOptions, type PackerStats } from "./packer.ts";
