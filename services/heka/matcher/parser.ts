/**
 * Parser of Heka's message matcher language into a checked AST.
 *
 * Grammar (`&&` binds tighter than `||`):
 *
 * ```text
 * spec    := or EOF
 * or      := and ("||" and)*
 * and     := primary ("&&" primary)*
 * primary := "(" or ")" | TRUE | FALSE | test
 * test    := StringVar  (== != < <= > >=) "string" | StringVar (=~ !~) /regex/
 *          | Severity|Pid (== != < <= > >=) number
 *          | Timestamp (== != < <= > >=) number | "RFC 3339 time"
 *          | Fields[..] (== != < <= > >=) "string" | number
 *          | Fields[..] (== !=) TRUE | FALSE | NIL
 *          | Fields[..] (=~ !~) /regex/
 * ```
 *
 * Type errors that Heka's grammar rejects (`Pid == 'x'`, `Type == NIL`,
 * `Pid =~ /x/`) are syntax errors here too; regexes are compiled while
 * parsing so their errors carry a position.
 *
 * @module
 */
import { columnAt, type HeaderName, Lexer, type Operator, type Token } from "./lexer.ts";
import { compileRegex, RegexSyntaxError, type StringTest } from "./regex.ts";

/** The right-hand side of a test. */
export type Value =
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "nil" }
  | { kind: "regex"; pattern: string; test: StringTest }
  /** A quoted RFC 3339 time for Timestamp (an extension), in ns since the epoch. */
  | { kind: "time"; ns: bigint };

/** The left-hand side of a test. */
export type Target =
  | { kind: "header"; name: HeaderName }
  | { kind: "field"; name: string; fieldIndex: number; arrayIndex: number };

/** `target op value`. */
export interface TestNode {
  /** Discriminant. */
  kind: "test";
  /** What the test reads from the message. */
  target: Target;
  /** The comparison. */
  op: Operator;
  /** The literal compared with. */
  value: Value;
  /** 0-based offset of the test in the spec. */
  pos: number;
}

/** `TRUE` or `FALSE`. */
export interface ConstNode {
  /** Discriminant. */
  kind: "const";
  /** The constant. */
  value: boolean;
}

/** An n-ary `&&` or `||`. */
export interface LogicalNode {
  /** Which operator joins the operands. */
  kind: "and" | "or";
  /** Two or more operands, evaluated left to right with short-circuit. */
  operands: Node[];
}

/** A node of the matcher AST. */
export type Node = ConstNode | LogicalNode | TestNode;

const MAX_NESTING = 256;
const STRING_HEADERS: ReadonlySet<HeaderName> = new Set<HeaderName>([
  "Uuid",
  "Type",
  "Logger",
  "Payload",
  "EnvVersion",
  "Hostname",
]);
const RELATIONAL = "==, !=, <, <=, > or >=";

function describe(t: Token): string {
  if (t.kind === "eof") return "unexpected end of spec";
  const text = t.text.length > 40 ? t.text.slice(0, 40) + "…" : t.text;
  return `unexpected token ${JSON.stringify(text)}`;
}

class Parser {
  private readonly lexer: Lexer;
  private tok: Token;
  private depth = 0;

  constructor(private readonly spec: string) {
    this.lexer = new Lexer(spec);
    this.tok = this.lexer.next();
  }

  private advance(): Token {
    const t = this.tok;
    this.tok = this.lexer.next();
    return t;
  }

  private is(kind: Token["kind"]): boolean {
    return this.tok.kind === kind;
  }

  private unexpected(expected: string, t: Token = this.tok): never {
    return this.lexer.fail(describe(t), t.pos, expected);
  }

  parse(): Node {
    if (this.is("eof")) {
      return this.lexer.fail("empty matcher spec", 0, 'an expression such as TRUE or Type == "x"');
    }
    const node = this.or();
    if (!this.is("eof")) this.unexpected('"&&", "||" or the end of the spec');
    return node;
  }

  private or(): Node {
    const operands: Node[] = [];
    for (;;) {
      const n = this.and();
      if (n.kind === "or") operands.push(...n.operands);
      else operands.push(n);
      if (!this.is("||")) break;
      this.advance();
    }
    return operands.length === 1 ? operands[0] : { kind: "or", operands };
  }

  private and(): Node {
    const operands: Node[] = [];
    for (;;) {
      const n = this.primary();
      if (n.kind === "and") operands.push(...n.operands);
      else operands.push(n);
      if (!this.is("&&")) break;
      this.advance();
    }
    return operands.length === 1 ? operands[0] : { kind: "and", operands };
  }

  private primary(): Node {
    const t = this.tok;
    switch (t.kind) {
      case "(": {
        if (++this.depth > MAX_NESTING) {
          return this.lexer.fail(
            `parentheses nest too deeply (more than ${MAX_NESTING})`,
            t.pos,
          );
        }
        this.advance();
        const n = this.or();
        if (!this.is(")")) {
          const col = columnAt(this.spec, t.pos);
          this.unexpected(`"&&", "||" or ")" to close the "(" at column ${col}`);
        }
        this.advance();
        this.depth--;
        return n;
      }
      case "true":
      case "false":
        this.advance();
        return { kind: "const", value: t.kind === "true" };
      case "header":
      case "field":
        return this.test();
      default:
        return this.unexpected('a variable such as Type or Fields[name], TRUE, FALSE or "("');
    }
  }

  private test(): TestNode {
    const t = this.advance();
    if (t.kind !== "header" && t.kind !== "field") throw new Error("unreachable");
    const opTok = this.tok;
    if (opTok.kind !== "op") {
      return this.unexpected(`a comparison operator (${RELATIONAL}, =~ or !~) after ${t.text}`);
    }
    this.advance();
    const op = opTok.op;
    const isRegexOp = op === "=~" || op === "!~";
    const v = this.tok;
    const target: Target = t.kind === "header"
      ? { kind: "header", name: t.name }
      : { kind: "field", name: t.name, fieldIndex: t.fieldIndex, arrayIndex: t.arrayIndex };
    const done = (value: Value): TestNode => {
      this.advance();
      return { kind: "test", target, op, value, pos: t.pos };
    };

    if (isRegexOp) {
      if (t.kind === "header" && !STRING_HEADERS.has(t.name)) {
        return this.lexer.fail(
          `operator ${op} does not apply to the numeric variable ${t.name}`,
          opTok.pos,
          RELATIONAL,
        );
      }
      if (v.kind !== "regex") return this.unexpected(`a /regular expression/ after ${op}`);
      return done(this.regexValue(v));
    }
    if (v.kind === "regex") {
      return this.lexer.fail(
        `a /regular expression/ needs =~ or !~, not ${op}`,
        v.pos,
        "=~ or !~ before the /regular expression/",
      );
    }
    if (t.kind === "header") {
      if (v.kind === "nil") {
        return this.lexer.fail(
          "NIL can only be compared with Fields[name]",
          v.pos,
          `a value for ${t.name}`,
        );
      }
      if (STRING_HEADERS.has(t.name)) {
        if (v.kind !== "string") {
          return this.unexpected(`a quoted string (${t.name} is a string variable)`);
        }
        return done({ kind: "string", value: v.value });
      }
      if (t.name === "Timestamp") {
        // Heka compares Timestamp as a float64, so a number stays a number.
        if (v.kind === "number") return done({ kind: "number", value: v.value });
        if (v.kind === "string") {
          const ns = parseRfc3339(v.value);
          if (ns === undefined) {
            return this.lexer.fail(
              `invalid RFC 3339 time ${JSON.stringify(v.value)}`,
              v.pos,
              'nanoseconds since the epoch or a time like "2016-05-24T21:51:00Z"',
            );
          }
          return done({ kind: "time", ns });
        }
        return this.unexpected("a number of nanoseconds or a quoted RFC 3339 time for Timestamp");
      }
      if (v.kind !== "number") return this.unexpected(`a number (${t.name} is numeric)`);
      return done({ kind: "number", value: v.value });
    }
    // Fields[...]
    switch (v.kind) {
      case "string":
        return done({ kind: "string", value: v.value });
      case "number":
        return done({ kind: "number", value: v.value });
      case "true":
      case "false":
      case "nil":
        if (op !== "==" && op !== "!=") {
          return this.lexer.fail(
            `${v.text} can only be compared with == or !=, not ${op}`,
            opTok.pos,
            "== or !=",
          );
        }
        return done(
          v.kind === "nil" ? { kind: "nil" } : { kind: "bool", value: v.kind === "true" },
        );
      default:
        return this.unexpected("a quoted string, a number, TRUE, FALSE or NIL");
    }
  }

  private regexValue(v: Token & { kind: "regex" }): Value {
    try {
      return { kind: "regex", pattern: v.pattern, test: compileRegex(v.pattern) };
    } catch (e) {
      if (e instanceof RegexSyntaxError) {
        return this.lexer.fail(
          `invalid regular expression /${v.pattern}/: ${e.message}`,
          v.patternPos + e.offset,
        );
      }
      throw e;
    }
  }
}

function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Parses an RFC 3339 time (fractional seconds up to ns) into ns since the epoch. */
export function parseRfc3339(s: string): bigint | undefined {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/
      .exec(s);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > monthDays[mo - 1] || h > 23 || mi > 59 || sec > 59) {
    return undefined;
  }
  let offset = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]), om = Number(m[10]);
    if (oh > 23 || om > 59) return undefined;
    offset = (m[8] === "-" ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  const frac = BigInt((m[7] ?? "").slice(0, 9).padEnd(9, "0"));
  return BigInt(seconds) * 1_000_000_000n + frac;
}

/**
 * Parses and type-checks a matcher spec.
 *
 * @throws {MatcherSyntaxError} when the spec is malformed.
 */
export function parseSpec(spec: string): Node {
  return new Parser(spec).parse();
}
