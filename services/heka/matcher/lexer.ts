/**
 * Tokens of Heka's message matcher language, and the error every stage of
 * the matcher compiler reports.
 *
 * @module
 */

const MAX_SPEC_IN_MESSAGE = 200;

/**
 * A malformed matcher spec. The message names the 1-based column (in code
 * points) and, where it helps, what was expected, e.g.
 * `unexpected token "&&" at column 9 in spec: Type == && x; expected a quoted string`.
 */
export class MatcherSyntaxError extends Error {
  /** Always `"MatcherSyntaxError"`. */
  override name = "MatcherSyntaxError";
  /** 0-based UTF-16 offset into `spec` where the problem starts. */
  readonly position: number;
  /** 1-based column, counted in code points, where the problem starts. */
  readonly column: number;
  /** The spec that failed to compile. */
  readonly spec: string;
  /** The problem, without position or spec. */
  readonly reason: string;

  /** Creates the error for `reason` at UTF-16 offset `position` of `spec`. */
  constructor(reason: string, position: number, spec: string, expected?: string) {
    const at = Math.max(0, Math.min(position, spec.length));
    const column = columnAt(spec, at);
    const shown = spec.length > MAX_SPEC_IN_MESSAGE
      ? spec.slice(0, MAX_SPEC_IN_MESSAGE) + "…"
      : spec;
    super(
      `${reason} at column ${column} in spec: ${shown}` +
        (expected === undefined ? "" : `; expected ${expected}`),
    );
    this.position = at;
    this.column = column;
    this.spec = spec;
    this.reason = reason;
  }
}

/** The 1-based column, in code points, of UTF-16 offset `end` in `s`. */
export function columnAt(s: string, end: number): number {
  let n = 1;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    // Count a surrogate pair once: skip the low half.
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const prev = s.charCodeAt(i - 1);
      if (prev >= 0xd800 && prev <= 0xdbff) continue;
    }
    n++;
  }
  return n;
}

/** Comparison operators. */
export type Operator = "==" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "!~";

/** The message header variables. */
export type HeaderName =
  | "Uuid"
  | "Type"
  | "Logger"
  | "Payload"
  | "EnvVersion"
  | "Hostname"
  | "Timestamp"
  | "Severity"
  | "Pid";

const HEADERS: ReadonlySet<string> = new Set<HeaderName>([
  "Uuid",
  "Type",
  "Logger",
  "Payload",
  "EnvVersion",
  "Hostname",
  "Timestamp",
  "Severity",
  "Pid",
]);

/** What every token has. */
export interface TokenBase {
  /** 0-based UTF-16 offset of the token's first character. */
  pos: number;
  /** The token as written. */
  text: string;
}

/** A token of the matcher language. */
export type Token =
  | TokenBase & { kind: "(" | ")" | "&&" | "||" | "true" | "false" | "nil" | "eof" }
  | TokenBase & { kind: "op"; op: Operator }
  | TokenBase & { kind: "header"; name: HeaderName }
  | TokenBase & { kind: "field"; name: string; fieldIndex: number; arrayIndex: number }
  | TokenBase & { kind: "string"; value: string }
  | TokenBase & { kind: "number"; value: number }
  | TokenBase & { kind: "regex"; pattern: string; patternPos: number };

// Heka reads a number as the longest run of these characters after a digit
// or ".", then parses it with Go's strconv.ParseFloat.
const NUMBER_CHARS = /[0-9.e+-]*/y;
// What ParseFloat accepts of such a run (lowercase "e" only, as Heka's lexer).
const NUMBER = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?$/;
const IDENT = /[\p{L}_][\p{L}\p{N}_]*/uy;
const MAX_INDEX = 2n ** 63n - 1n;

/** Splits a spec into tokens on demand. */
export class Lexer {
  private pos = 0;

  /**
   * Creates a lexer over `spec`.
   *
   * @throws {MatcherSyntaxError} when the spec holds a NUL character or a
   *   line break with more than blanks after it: Heka stops reading there
   *   and silently ignores the rest.
   */
  constructor(readonly spec: string) {
    const stop = spec.search(/[\n\0]/);
    // Line breaks with only blanks after them hide nothing: they read as blanks.
    if (stop >= 0 && !/^\n[\n \t]*$/.test(spec.slice(stop))) {
      const c = spec[stop];
      this.fail(
        c === "\0"
          ? "NUL character in spec (Heka would ignore everything from here on)"
          : "line break in spec (Heka would ignore everything from here on)",
        stop,
        "the whole spec on one line",
      );
    }
  }

  /** Raises a {@link MatcherSyntaxError} at `pos`. */
  fail(reason: string, pos: number, expected?: string): never {
    throw new MatcherSyntaxError(reason, pos, this.spec, expected);
  }

  /** The next token; `eof` at the end, forever. */
  next(): Token {
    const s = this.spec;
    while (
      this.pos < s.length && (s[this.pos] === " " || s[this.pos] === "\t" || s[this.pos] === "\n")
    ) {
      this.pos++;
    }
    const start = this.pos;
    if (start >= s.length) return { kind: "eof", pos: start, text: "" };
    const c = s[start];
    const c2 = s[start + 1];
    const tok = <K extends "(" | ")" | "&&" | "||">(kind: K, len: number) => {
      this.pos = start + len;
      return { kind, pos: start, text: s.slice(start, start + len) };
    };
    const op = (o: Operator) => {
      this.pos = start + o.length;
      return { kind: "op" as const, op: o, pos: start, text: o };
    };
    switch (c) {
      case "(":
        return tok("(", 1);
      case ")":
        return tok(")", 1);
      case "&":
        if (c2 === "&") return tok("&&", 2);
        return this.fail('unexpected character "&"', start, '"&&"');
      case "|":
        if (c2 === "|") return tok("||", 2);
        return this.fail('unexpected character "|"', start, '"||"');
      case "=":
        if (c2 === "=") return op("==");
        if (c2 === "~") return op("=~");
        return this.fail('unexpected character "="', start, '"==" or "=~"');
      case "!":
        if (c2 === "=") return op("!=");
        if (c2 === "~") return op("!~");
        return this.fail('unexpected character "!"', start, '"!=" or "!~"');
      case "<":
        return op(c2 === "=" ? "<=" : "<");
      case ">":
        return op(c2 === "=" ? ">=" : ">");
      case '"':
      case "'":
        return this.quoted(start);
      case "/":
        return this.regex(start);
    }
    if ((c >= "0" && c <= "9") || c === "." || c === "-") return this.number(start);
    IDENT.lastIndex = start;
    const ident = IDENT.exec(s);
    if (ident !== null) return this.word(start, ident[0]);
    const shown = String.fromCodePoint(s.codePointAt(start)!);
    return this.fail(
      `unexpected character ${JSON.stringify(shown)}`,
      start,
      "a variable, an operator, a value, TRUE, FALSE, NIL, && or || or a parenthesis",
    );
  }

  /**
   * A number literal: as in Heka, the longest run of digits, ".", "e", "+"
   * and "-", which must then be a decimal number such as 42, 0.5 or 1e9
   * (Heka logs an error and uses 0 for a malformed one such as 1.2.3 or
   * 1-2; this lexer refuses it). A leading "-" is an extension: Heka has no
   * negative literals.
   */
  private number(start: number): Token {
    const s = this.spec;
    NUMBER_CHARS.lastIndex = s[start] === "-" ? start + 1 : start;
    const end = NUMBER_CHARS.lastIndex + NUMBER_CHARS.exec(s)![0].length;
    let text = s.slice(start, end);
    const expected = "a number such as 42, 0.5 or 1e9";
    if (/[A-Za-z0-9_]/.test(s[end] ?? "")) {
      const word = /[A-Za-z0-9_.+-]*/y;
      word.lastIndex = end;
      text += word.exec(s)![0];
      return this.fail(`malformed number ${JSON.stringify(text)}`, start, expected);
    }
    if (!NUMBER.test(text)) {
      return this.fail(`malformed number ${JSON.stringify(text)}`, start, expected);
    }
    const value = Number(text);
    if (!Number.isFinite(value)) {
      return this.fail(`number ${JSON.stringify(text)} out of range`, start, expected);
    }
    this.pos = end;
    return { kind: "number", value, pos: start, text };
  }

  /** A variable, `Fields[…]`, or one of TRUE, FALSE, NIL. */
  private word(start: number, word: string): Token {
    this.pos = start + word.length;
    switch (word) {
      case "TRUE":
        return { kind: "true", pos: start, text: word };
      case "FALSE":
        return { kind: "false", pos: start, text: word };
      case "NIL":
        return { kind: "nil", pos: start, text: word };
      case "Fields":
        return this.field(start);
    }
    if (HEADERS.has(word)) {
      return { kind: "header", name: word as HeaderName, pos: start, text: word };
    }
    return this.fail(
      `unknown variable ${JSON.stringify(word)}`,
      start,
      "one of Uuid, Type, Logger, Payload, EnvVersion, Hostname, Timestamp, Severity, Pid, " +
        "Fields[name], TRUE or FALSE (names are case-sensitive)",
    );
  }

  /** `Fields[name]`, `Fields[name][fi]`, `Fields[name][fi][ai]`; the lexer sits after `Fields`. */
  private field(start: number): Token {
    const s = this.spec;
    if (s[this.pos] !== "[") {
      return this.fail('expected "[" right after Fields', this.pos, "Fields[name]");
    }
    const close = s.indexOf("]", this.pos + 1);
    if (close < 0) return this.fail("unterminated field name", this.pos, '"]"');
    const name = s.slice(this.pos + 1, close);
    if (name.length === 0) return this.fail("empty field name", this.pos, "Fields[name]");
    this.pos = close + 1;
    const indexes: number[] = [];
    while (s[this.pos] === "[") {
      if (indexes.length === 2) {
        return this.fail(
          "too many indexes after Fields[name]",
          this.pos,
          "at most Fields[name][field index][array index]",
        );
      }
      const digits = /[0-9]*/y;
      digits.lastIndex = this.pos + 1;
      const d = digits.exec(s)![0];
      const end = this.pos + 1 + d.length;
      if (d.length === 0 || s[end] !== "]") {
        const what = indexes.length === 0 ? "field index" : "array index";
        return this.fail(`malformed ${what}`, d.length === 0 ? this.pos + 1 : end, `[digits]`);
      }
      if (d.length > 18 && BigInt(d) > MAX_INDEX) {
        return this.fail(
          `${indexes.length === 0 ? "field" : "array"} index too large`,
          this.pos + 1,
        );
      }
      indexes.push(Math.min(Number(d), Number.MAX_SAFE_INTEGER));
      this.pos = end + 1;
    }
    return {
      kind: "field",
      name,
      fieldIndex: indexes[0] ?? 0,
      arrayIndex: indexes[1] ?? 0,
      pos: start,
      text: s.slice(start, this.pos),
    };
  }

  /**
   * A single- or double-quoted string. As in Heka, a backslash before the
   * quote character escapes it; any other backslash is kept together with
   * the character after it, so `'\\'` is two backslashes and `'\d'` is
   * the two characters `\d` (there are no other escapes).
   */
  private quoted(start: number): Token {
    const s = this.spec;
    const q = s[start];
    let value = "";
    let i = start + 1;
    for (;;) {
      if (i >= s.length) return this.fail("unterminated string", start, `a closing ${q}`);
      const c = s[i];
      if (c === q) break;
      if (c === "\\") {
        if (i + 1 >= s.length) return this.fail("unterminated string", start, `a closing ${q}`);
        const e = s[i + 1];
        value += e === q ? e : c + e;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    this.pos = i + 1;
    return { kind: "string", value, pos: start, text: s.slice(start, this.pos) };
  }

  /** A `/regex/`; `\/` is a slash, other escapes are left for the regex parser. */
  private regex(start: number): Token {
    const s = this.spec;
    let i = start + 1;
    for (;;) {
      if (i >= s.length) {
        return this.fail("unterminated regular expression", start, 'a closing "/"');
      }
      const c = s[i];
      if (c === "/") break;
      i += c === "\\" && i + 1 < s.length ? 2 : 1;
    }
    this.pos = i + 1;
    return {
      kind: "regex",
      pattern: s.slice(start + 1, i),
      patternPos: start + 1,
      pos: start,
      text: s.slice(start, this.pos),
    };
  }
}
