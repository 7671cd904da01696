/**
 * MessageSink: where a receiver hands accepted messages — one JetStream
 * message each ({@link PerMessageSink}) or packed into chunks
 * ({@link ChunkPacker}). Both count log messages, never JetStream messages.
 *
 * @module
 */
import type { JetStreamPublisher, PublishOutcome } from "../broker/mod.ts";

/** Takes accepted messages and stores them; see the module documentation. */
export interface MessageSink {
  /** Whether callers must wait ({@link ready}) before handing more (TCP backpressure). */
  readonly blocked: boolean;
  /** Resolves when more may be handed over. */
  ready(): Promise<void>;
  /**
   * Hands over a message that is stored, resent until acknowledged (TCP).
   * `message` may be a view the caller does not change afterwards.
   * `release`, when given, is called once the sink no longer needs the
   * message's bytes: acknowledged, refused for good, or copied.
   */
  send(message: Uint8Array, msgId: string, release?: () => void): void;
  /**
   * Stores a message and resolves once it is acknowledged, or given up
   * ("unavailable", "timeout") by `deadline` (`performance.now()` time).
   */
  store(message: Uint8Array, msgId: string, deadline: number): Promise<PublishOutcome>;
  /**
   * Stores many messages (one request's) and resolves "ok" once all are
   * acknowledged, else with the first other outcome.
   */
  storeAll(
    messages: readonly Uint8Array[],
    msgIds: readonly string[],
    deadline: number,
  ): Promise<PublishOutcome>;
  /**
   * True when {@link send} and {@link store} copy the message before they
   * return, so the caller may reuse its buffer (the TCP listener then reads
   * into one buffer again and again instead of a fresh one per read).
   */
  readonly copiesMessages: boolean;
  /** Sends whatever waits for more company now (shutdown). */
  flush(): void;
  /** Log messages acknowledged by JetStream. */
  readonly stored: number;
  /** The largest message the NATS server can store this way now. */
  maxMessageBytes(): number;
}

/** Today's format: one JetStream message per log message, `Nats-Msg-Id` = its uuid. */
export class PerMessageSink implements MessageSink {
  /** The publisher keeps each message (a view) until it is acknowledged. */
  readonly copiesMessages = false;

  constructor(readonly publisher: JetStreamPublisher) {}

  get blocked(): boolean {
    return this.publisher.full;
  }

  ready(): Promise<void> {
    return this.publisher.waitForCapacity();
  }

  send(message: Uint8Array, msgId: string, release?: () => void): void {
    this.publisher.send(message, msgId, release && { onSettled: release });
  }

  store(message: Uint8Array, msgId: string, deadline: number): Promise<PublishOutcome> {
    return this.publisher.publish(message, msgId, Math.max(1, deadline - performance.now()));
  }

  async storeAll(
    messages: readonly Uint8Array[],
    msgIds: readonly string[],
    deadline: number,
  ): Promise<PublishOutcome> {
    const outcomes = await Promise.all(messages.map((m, i) => this.store(m, msgIds[i], deadline)));
    return outcomes.find((o) => o !== "ok") ?? "ok";
  }

  flush(): void {}

  get stored(): number {
    return this.publisher.stats.acked;
  }

  maxMessageBytes(): number {
    return this.publisher.maxDataBytes();
  }
}
