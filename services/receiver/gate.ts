/**
 * MessageGate: what a receiver lets through. Decodes (without keeping a
 * copy), validates as the original did, applies the matcher. Knows nothing
 * of sockets or HTTP.
 *
 * @module
 */
import { decodeMessage, HekaDecodeError, scanMessage, validateMessage } from "../heka/codec.ts";
import { formatUuid } from "../heka/message.ts";
import { compileMatcher, type MessageMatcher } from "../heka/matcher/mod.ts";

/** What the gate decided about one message. */
export type Verdict =
  | { readonly kind: "accept"; readonly msgId: string }
  | { readonly kind: "invalid"; readonly reason: string }
  | { readonly kind: "filtered" };

const FILTERED: Verdict = { kind: "filtered" };

/** Decides, per message, accept / invalid / filtered. */
export class MessageGate {
  readonly #matcher: MessageMatcher | undefined;

  /** @param matchSpec Heka matcher spec; empty accepts all. Throws MatcherSyntaxError. */
  constructor(matchSpec: string) {
    this.#matcher = matchSpec.trim() === "" ? undefined : compileMatcher(matchSpec);
  }

  /** Inspects the raw bytes of one Heka message. Never throws. */
  inspect(bytes: Uint8Array): Verdict {
    if (!this.#matcher) {
      // Fast path: validate without decoding strings.
      const r = scanMessage(bytes);
      if (typeof r === "string") return { kind: "invalid", reason: r };
      return { kind: "accept", msgId: formatUuid(r) };
    }
    let msg;
    try {
      msg = decodeMessage(bytes);
    } catch (err) {
      return {
        kind: "invalid",
        reason: err instanceof HekaDecodeError ? err.message : "undecodable protobuf message",
      };
    }
    const problem = validateMessage(msg);
    if (problem !== undefined) return { kind: "invalid", reason: problem };
    if (this.#matcher && !this.#matcher.matches(msg)) return FILTERED;
    return { kind: "accept", msgId: formatUuid(msg.uuid) };
  }
}
