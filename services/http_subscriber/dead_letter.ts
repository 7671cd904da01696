/**
 * Dead letters: messages the remote keeps rejecting, or that are not Heka
 * at all, are stored on a dead-letter subject — original bytes unchanged,
 * why in headers — before their originals are acked. Nothing is dropped
 * silently.
 *
 * Each dead letter carries `Nats-Msg-Id: dead:<stream>:<seq>` (with
 * `:<index>` for a message of a chunk), so storing
 * the same message twice (a crash between storing and acking) keeps one
 * copy within the stream's duplicate window.
 *
 * @module
 */
import { headers, type JetStreamClient, type NatsConnection } from "nats";
import { errorMessage, type Logger } from "../log/mod.ts";
import { sleep } from "../runtime/async.ts";

/** Header names of a dead letter. */
export const DeadLetterHeaders = {
  /** HTTP status of the last rejection, or `undecodable` for messages that are not Heka. */
  Status: "Lagermeister-Dead-Status",
  /** Why: the remote's answer (shortened) or the decode error. */
  Reason: "Lagermeister-Dead-Reason",
  /** POST attempts made (0 for undecodable messages). */
  Attempts: "Lagermeister-Dead-Attempts",
  /** The original message's subject, stream and stream sequence. */
  Subject: "Lagermeister-Dead-Subject",
  Stream: "Lagermeister-Dead-Stream",
  Sequence: "Lagermeister-Dead-Sequence",
  /** For a message of a chunk: its position in the chunk (0 = first). */
  Index: "Lagermeister-Dead-Index",
  /** When it was dead-lettered (RFC 3339). */
  Time: "Lagermeister-Dead-Time",
} as const;

/** The `Lagermeister-Dead-Status` of a message that could not be decoded. */
export const UNDECODABLE = "undecodable";

/** One message to store as a dead letter. */
export interface DeadLetter {
  /** The original bytes. */
  data: Uint8Array;
  subject: string;
  stream: string;
  seq: number;
  /** Position in its chunk, for a message stored in a chunk. */
  index?: number;
}

/** Why messages are dead letters. */
export interface DeadLetterCause {
  /** HTTP status or {@link UNDECODABLE}. */
  status: string;
  reason: string;
  attempts: number;
}

/** Options of a {@link DeadLetterPublisher}. */
export interface DeadLetterOptions {
  /** The dead-letter subject. */
  subject: string;
  log: Logger;
  /** Time to wait for each JetStream ack (default 5000 ms). */
  ackTimeoutMs?: number;
  /** Pause between rounds of retries (default 1000 ms). */
  retryMs?: number;
}

const HEADER_VALUE_MAX = 1000;

/** A header value without line breaks or control characters, bounded. */
export function headerValue(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, " ").trim().slice(0, HEADER_VALUE_MAX);
}

/** Stores dead letters in JetStream, waiting for each ack. */
export class DeadLetterPublisher {
  readonly #js: JetStreamClient;
  readonly #o: DeadLetterOptions;

  constructor(nc: NatsConnection, o: DeadLetterOptions) {
    this.#js = nc.jetstream();
    this.#o = o;
  }

  /** The dead-letter subject. */
  get subject(): string {
    return this.#o.subject;
  }

  /**
   * Stores every item; retries until JetStream acknowledged all of them.
   * Returns false when `signal` aborted first (then some may be missing).
   */
  async publish(
    items: readonly DeadLetter[],
    cause: DeadLetterCause,
    signal: AbortSignal,
  ): Promise<boolean> {
    const time = new Date().toISOString();
    const status = headerValue(cause.status);
    const reason = headerValue(cause.reason);
    let left = [...items];
    for (let round = 0; left.length > 0; round++) {
      if (signal.aborted) return false;
      if (round > 0) {
        if (!(await sleep(this.#o.retryMs ?? 1000, signal))) return false;
      }
      const results = await Promise.allSettled(left.map((item) => {
        const h = headers();
        h.set(DeadLetterHeaders.Status, status);
        h.set(DeadLetterHeaders.Reason, reason);
        h.set(DeadLetterHeaders.Attempts, String(cause.attempts));
        h.set(DeadLetterHeaders.Subject, item.subject);
        h.set(DeadLetterHeaders.Stream, item.stream);
        h.set(DeadLetterHeaders.Sequence, String(item.seq));
        h.set(DeadLetterHeaders.Time, time);
        const index = item.index === undefined ? "" : `:${item.index}`;
        if (index) h.set(DeadLetterHeaders.Index, String(item.index));
        return this.#js.publish(this.#o.subject, item.data, {
          headers: h,
          msgID: `dead:${item.stream}:${item.seq}${index}`,
          timeout: this.#o.ackTimeoutMs ?? 5000,
        });
      }));
      const failed = left.filter((_, i) => results[i].status === "rejected");
      if (failed.length > 0) {
        const first = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        this.#o.log.warn("could not store dead letters; retrying", {
          subject: this.#o.subject,
          failed: failed.length,
          error: errorMessage(first.reason),
        });
      }
      left = failed;
    }
    return true;
  }
}
