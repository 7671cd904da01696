/**
 * FrameHandler: the protocol side of the TCP receiver. Takes whole Heka
 * frames, checks signature, message and filter, hands accepted message
 * bytes (never re-encoded) to the sink (chunks or one JetStream message
 * each). Knows nothing of sockets.
 *
 * @module
 */
import type { HekaFrame } from "../heka/framing.ts";
import { isAccepted, type SignatureVerifier, type VerifyResult } from "../heka/hmac.ts";
import type { Logger } from "../log/mod.ts";
import type { MessageGate, MessageSink, ReceiverMetrics } from "../receiver/mod.ts";

/** Handles frames of every connection. */
export class FrameHandler {
  /** Signature refusals by reason, for logs and `/debug/vars`. */
  readonly refusedBy: Partial<Record<VerifyResult, number>> = {};
  #lastInvalidLog = 0;

  constructor(
    readonly gate: MessageGate,
    readonly verifier: SignatureVerifier,
    readonly sink: MessageSink,
    readonly metrics: ReceiverMetrics,
    readonly log: Logger,
  ) {}

  /** Whether callers must wait ({@link ready}) before handing more frames. */
  get blocked(): boolean {
    return this.sink.blocked;
  }

  /**
   * True when {@link handle} keeps no view of the frame's bytes once it
   * returns (the sink copies): the caller may then reuse its read buffer.
   */
  get copiesFrames(): boolean {
    return this.sink.copiesMessages;
  }

  /** Resolves when the sink takes more. */
  ready(): Promise<void> {
    return this.sink.ready();
  }

  /**
   * Handles one frame; `peer` is only used in log lines. `release`, when
   * given, is called once the frame's bytes are no longer needed: at once
   * for a frame not stored, else when the sink is done with it.
   */
  handle(frame: HekaFrame, peer: string, release?: () => void): void {
    if (!this.#handle(frame, peer, release)) release?.();
  }

  /** Whether the frame went to the sink (which then calls `release`). */
  #handle(frame: HekaFrame, peer: string, release: (() => void) | undefined): boolean {
    const m = this.metrics;
    m.received.value++;
    const sig = this.verifier.verify(frame.header, frame.message);
    if (!isAccepted(sig)) {
      m.refused.value++;
      this.refusedBy[sig] = (this.refusedBy[sig] ?? 0) + 1;
      this.#logSometimes("message refused", { reason: sig, peer });
      return false;
    }
    if (m.refuseTooLarge(frame.message.length)) {
      this.#logSometimes("message refused", {
        reason: `${frame.message.length} bytes: larger than the NATS server stores (` +
          `${this.sink.maxMessageBytes()} bytes)`,
        peer,
      });
      return false;
    }
    const v = this.gate.inspect(frame.message);
    if (v.kind === "accept") {
      m.accepted.value++;
      this.sink.send(frame.message, v.msgId, release);
      return true;
    }
    if (v.kind === "filtered") {
      m.filtered.value++;
    } else {
      m.invalid.value++;
      this.#logSometimes("invalid message", { reason: v.reason, peer });
    }
    return false;
  }

  /** Logs at most one such line a second, so a flood cannot flood the log. */
  #logSometimes(msg: string, fields: Record<string, string>): void {
    const now = Date.now();
    if (now - this.#lastInvalidLog < 1000) return;
    this.#lastInvalidLog = now;
    this.log.warn(msg, fields);
  }
}
