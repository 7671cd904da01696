/**
 * {@link compileMatcher}: a spec, parsed and compiled once, as a
 * {@link MessageMatcher}; and {@link matchAll}.
 *
 * @module
 */
import type { HekaMessage } from "../message.ts";
import { compileNode } from "./compile.ts";
import { parseSpec } from "./parser.ts";

/** A compiled matcher spec. */
export interface MessageMatcher {
  /** The spec as given to {@link compileMatcher}. */
  readonly spec: string;
  /** Whether `msg` matches; never throws. */
  matches(msg: HekaMessage): boolean;
}

/**
 * Compiles a Heka message matcher spec.
 *
 * An empty or blank spec is an error here too (callers that want "match
 * everything" for it use {@link matchAll}).
 *
 * @throws {MatcherSyntaxError} when the spec is malformed; its message names
 *   the column and what was expected.
 */
export function compileMatcher(spec: string): MessageMatcher {
  if (typeof spec !== "string") throw new TypeError("matcher spec must be a string");
  const matches = compileNode(parseSpec(spec));
  return Object.freeze({ spec, matches });
}

/** A matcher that matches every message (spec `TRUE`). */
export const matchAll: MessageMatcher = Object.freeze({
  spec: "TRUE",
  matches: (_msg: HekaMessage): boolean => true,
});
