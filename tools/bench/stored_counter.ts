/**
 * Counting the log messages a stream stores when JetStream messages may be
 * chunks: a headers-only ordered consumer follows the stream and sums
 * `Lm-Count` (1 for a message without it). The bench uses it for packed
 * scenarios, where the stream's message count counts chunks.
 *
 * @module
 */
import type { ConsumerMessages, NatsConnection } from "nats";
import { COUNT_HEADER, FORMAT_HEADER, isChunk } from "../../services/heka/chunk.ts";

/** Follows a stream from its first message, counting log messages. */
export class StoredCounter {
  /** Log messages seen. */
  messages = 0;
  /** Stored time (epoch ms) of the first and the newest JetStream message seen; 0 before. */
  firstMs = 0;
  lastMs = 0;
  #iter: ConsumerMessages | undefined;

  /** Starts following `stream` from its beginning. */
  static async start(nc: NatsConnection, stream: string): Promise<StoredCounter> {
    const c = new StoredCounter();
    const consumer = await nc.jetstream().consumers.get(stream, { headers_only: true });
    c.#iter = await consumer.consume({
      max_messages: 2000,
      callback: (m) => {
        const h = m.headers;
        c.messages += isChunk(h?.get(FORMAT_HEADER)) ? Number(h!.get(COUNT_HEADER)) : 1;
        const ms = m.info.timestampNanos / 1e6;
        if (c.firstMs === 0) c.firstMs = ms;
        c.lastMs = ms;
      },
    });
    return c;
  }

  /** Stops following. */
  stop(): void {
    this.#iter?.stop();
  }
}
