/**
 * Reading a JetStream delivery's ack subject — what nats.js's `m.info`
 * parses — without splitting it into strings or building an info object
 * per message (the subscriber reads one per delivered message).
 *
 * The forms: `$JS.ACK.<stream>.<consumer>.<count>.<seq>.<dseq>.<ts>.<pending>`
 * (9 tokens) and `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<count>.<seq>.…`
 * (11 tokens or more).
 *
 * @module
 */
import type { JsMsg } from "nats";

/** What {@link parseAckSubject} reads. */
export interface AckDelivery {
  /** Times JetStream delivered the message (1 the first time). */
  count: number;
  /** Stream sequence. */
  seq: number;
}

/** Positions of the dots of a subject (scratch). */
const DOTS = new Int32Array(12);

/** The decimal number `s[start, end)`, or -1 unless that is all digits. */
function digitsAt(s: string, start: number, end: number): number {
  if (start >= end) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Reads delivery count and stream sequence of an ack subject into `out`.
 * Returns false (and leaves `out` alone) for anything that is not one.
 */
export function parseAckSubject(s: string, out: AckDelivery): boolean {
  if (!s.startsWith("$JS.ACK.")) return false;
  let n = 0;
  for (let at = s.indexOf("."); at >= 0 && n < DOTS.length; at = s.indexOf(".", at + 1)) {
    DOTS[n++] = at;
  }
  const countToken = n === 8 ? 4 : n >= 10 ? 6 : -1;
  if (countToken < 0) return false;
  const count = digitsAt(s, DOTS[countToken - 1] + 1, DOTS[countToken]);
  const seq = digitsAt(s, DOTS[countToken] + 1, DOTS[countToken + 1]);
  if (count < 0 || seq < 0) return false;
  out.count = count;
  out.seq = seq;
  return true;
}

/**
 * Delivery count and stream sequence of a message: from its ack subject,
 * else (an unusual subject) from `m.info`. nats.js's JsMsg implementation
 * exposes the reply subject its `info` parses as `reply`; the JsMsg
 * interface does not declare it, hence the narrow read.
 */
export function readDelivery(m: JsMsg, out: AckDelivery): void {
  const reply = (m as { reply?: unknown }).reply;
  if (typeof reply === "string" && parseAckSubject(reply, out)) return;
  const info = m.info;
  out.count = info.deliveryCount;
  out.seq = info.streamSequence;
}
