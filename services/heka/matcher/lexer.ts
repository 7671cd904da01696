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

const NUMBER = /-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
const IDENT = /[\p{L}_][\p{L}\p{N}_]*/uy;
const SPACE = /\s/;

function isSpace(c: string): boolean {
  return SPACE.test(c);
}

/** Splits a spec into tokens on demand. */
export class Lexer {
  private pos = 0;

  /** Creates a lexer over `spec`. */
  constructor(readonly spec: string) {}

  /** Raises a {@link MatcherSyntaxError} at `pos`. */
  fail(reason: string, pos: number, expected?: string): never {
    throw new MatcherSyntaxError(reason, pos, this.spec, expected);
  }

  /** The next token; `eof` at the end, forever. */
  next(): Token {
    const s = this.spec;
    while (this.pos < s.length && isSpace(s[this.pos])) this.pos++;
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

  /** A number literal: optional `-`, digits, fraction, exponent. */
  private number(start: number): Token {
    const s = this.spec;
    NUMBER.lastIndex = start;
    const m = NUMBER.exec(s);
    const end = m === null ? start : start + m[0].length;
    if (m === null || /[A-Za-z0-9_.]/.test(s[end] ?? "")) {
      let bad = end;
      while (bad < s.length && /[A-Za-z0-9_.+-]/.test(s[bad])) bad++;
      return this.fail(
        `malformed number ${JSON.stringify(s.slice(start, Math.max(bad, start + 1)))}`,
        start,
        "a number such as 42, -1, 0.5 or 1e9",
      );
    }
    this.pos = end;
    return { kind: "number", value: Number(m[0]), pos: start, text: m[0] };
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
   * quote character escapes it; `\\` is one backslash; any other backslash
   * is kept as written (so `'\d'` is the two characters `\d`).
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
      if (c === "\\" && i + 1 < s.length) {
        const e = s[i + 1];
        if (e === q || e === "\\") {
          value += e;
          i += 2;
          continue;
        }
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
