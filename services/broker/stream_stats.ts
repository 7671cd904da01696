/**
 * StreamStats: the stream's size (messages, bytes), polled every few
 * seconds — never per message — for metrics and the dashboard.
 *
 * @module
 */
import type { JetStreamManager, NatsConnection } from "nats";

/** Polls a stream's state. */
export class StreamStats {
  /** Messages stored, as of the last poll. */
  messages = 0;
  /** Bytes stored, as of the last poll. */
  bytes = 0;
  readonly #timer: ReturnType<typeof setInterval>;
  #jsm: JetStreamManager | undefined;
  #polling = false;

  constructor(readonly nc: NatsConnection, readonly stream: string, intervalMs = 5000) {
    this.#timer = setInterval(() => this.poll(), intervalMs);
    this.poll();
  }

  /** Polls now (errors are ignored: the broker may be away; the last values stay). */
  async poll(): Promise<void> {
    if (this.#polling || this.nc.isClosed()) return;
    this.#polling = true;
    try {
      this.#jsm ??= await this.nc.jetstreamManager({ checkAPI: false });
      const state = (await this.#jsm.streams.info(this.stream)).state;
      this.messages = state.messages;
      this.bytes = state.bytes;
    } catch {
      // keep the last values
    } finally {
      this.#polling = false;
    }
  }

  /** Stops polling. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
