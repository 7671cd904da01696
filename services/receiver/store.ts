/**
 * Opening the durable store for a receiver: connect to NATS, make sure the
 * stream exists, and a publisher that re-creates it if it vanishes.
 *
 * @module
 */
import type { NatsConnection } from "nats";
import {
  type BrokerConfig,
  brokerOptions,
  connectBroker,
  ensureStream,
  JetStreamPublisher,
} from "../broker/mod.ts";
import { errorMessage, type Logger } from "../log/mod.ts";
import { backoff, sleep } from "../runtime/async.ts";

/** The part of a receiver's config {@link openStore} needs. */
export interface StoreConfig extends BrokerConfig {
  clientId: string;
  subject: string;
  stream: string;
  replicas: number;
  duplicateWindow: number;
  publishWindow: number;
  ackTimeout: number;
}

/** A connected store. */
export interface Store {
  nc: NatsConnection;
  publisher: JetStreamPublisher;
  /** The stream's `max_msg_size` when the store was opened (headers count); 0 = no limit. */
  streamMaxMsgSize: number;
}

/**
 * Connects (waiting for the broker if it is not up yet), ensures the stream
 * (retrying while JetStream is not ready) and returns a publisher.
 */
export async function openStore(cfg: StoreConfig, log: Logger): Promise<Store> {
  const nc = await connectBroker(brokerOptions(cfg, cfg.clientId), log);
  const spec = {
    name: cfg.stream,
    subjects: [cfg.subject],
    duplicateWindowMs: cfg.duplicateWindow,
    replicas: cfg.replicas,
  };
  let streamMaxMsgSize = 0;
  for (let attempt = 1;; attempt++) {
    try {
      const info = await ensureStream(nc, spec, log);
      streamMaxMsgSize = Math.max(0, info.config.max_msg_size ?? 0);
      break;
    } catch (err) {
      if (attempt === 1 || attempt % 10 === 0) {
        log.warn("stream not ready yet; retrying", {
          stream: cfg.stream,
          error: errorMessage(err),
        });
      }
      await sleep(backoff(attempt, 100, 2000));
    }
  }
  const publisher = new JetStreamPublisher(nc, {
    subject: cfg.subject,
    window: cfg.publishWindow,
    ackTimeoutMs: cfg.ackTimeout,
    log,
    onNoStream: async () => {
      await ensureStream(nc, spec, log);
    },
  });
  return { nc, publisher, streamMaxMsgSize };
}

/** Drains the publisher (bounded), then the connection. Returns whether every publish was acked. */
export async function closeStore(store: Store, timeoutMs: number, log: Logger): Promise<boolean> {
  const all = await store.publisher.drain(timeoutMs);
  if (!all) {
    log.error("shutdown with unacknowledged publishes", { inflight: store.publisher.inflight });
  }
  store.publisher.close();
  await store.nc.drain().catch(() => store.nc.close());
  return all;
}
