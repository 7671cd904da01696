/**
 * Heka's message matcher language, compiled once into closures.
 *
 * ```ts
 * import { compileMatcher } from "./services/heka/matcher/mod.ts";
 * const m = compileMatcher('Type == "nginx.access" && Severity <= 4 && Fields[status] >= 500');
 * if (m.matches(msg)) forward(msg);
 * ```
 *
 * The language is Heka's (https://hekad.readthedocs.io/en/latest/message_matcher.html):
 * `Uuid Type Logger Payload EnvVersion Hostname` compare with quoted strings
 * (`== != < <= > >=`) or `/regex/` (`=~ !~`, Go RE2 syntax);
 * `Timestamp Severity Pid` with numbers (Timestamp also with a quoted
 * RFC 3339 time); `Fields[name]`, `Fields[name][fi]`, `Fields[name][fi][ai]`
 * with strings, numbers, regexes, `TRUE`/`FALSE` and `NIL`; `TRUE`, `FALSE`,
 * `&&` (binds tighter), `||` and parentheses. Absent headers read as `""`,
 * Severity as 7, Pid and Timestamp as 0; a test on a missing field value is
 * false (only `== NIL` is true then); the rest of Heka's semantics (bytes
 * order, invalid UTF-8, float64 Timestamp, TRUE/FALSE against fields) is
 * described in compile.ts, and every intentional difference from Heka in
 * the README section "Matcher compatibility".
 *
 * @module
 */
export { MatcherSyntaxError } from "./lexer.ts";
export { compileMatcher, matchAll, type MessageMatcher } from "./matcher.ts";
