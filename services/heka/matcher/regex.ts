/**
 * Go RE2 regular expressions, as Heka users write them, translated to
 * JavaScript `RegExp`s with the same match/no-match answer.
 *
 * The translator is a full RE2 parser (Go `regexp/syntax` with Perl
 * flags) that re-emits every construct in a canonical form, compiled in
 * Unicode mode: the `v` flag, the successor of `u` (same code point
 * semantics, `\p{…}`), because V8 15's `u` mode misses matches such as
 * `/[😀]$/u` on "😀" (its end-anchor optimisation miscounts astral classes).
 *
 * - flags `(?imsU)`, `(?i-s)`, `(?i:…)`: a leading `i` becomes the JS `i`
 *   flag; later or scoped changes give each affected atom its own JS
 *   modifier group `(?i:…)`/`(?-i:…)` (Go semantics: a flag group lasts to
 *   the end of the enclosing group, across `|`); `m` and `s` are applied by
 *   emitting exact lookarounds and classes, so the JS `m`/`s` flags are never
 *   used (Go's `.` excludes only `\n`, Go's multi-line `^`/`$` break only at
 *   `\n`); `U` (ungreedy) cannot change whether a pattern matches and is
 *   accepted and ignored.
 * - `\A` `\z` → `^` `$`; `\Q…\E`; octal and `\x{…}` escapes; escaped
 *   punctuation; literal `{`, `}` and `]` where Go takes them literally.
 * - Perl classes use Go's ASCII definitions (`\s` is `[\t\n\f\r ]`),
 *   POSIX classes `[[:alpha:]]` / `[[:^alpha:]]`, `\pL`, `\p{Greek}` →
 *   `\p{Script=Greek}`, `\p{^Greek}`.
 * - All groups become non-capturing (matching only asks yes/no), named
 *   groups `(?P<n>…)`/`(?<n>…)` are validated like Go.
 * - `\b`/`\B` stay ASCII-only under `(?i)`, as in Go.
 * - Constructs RE2 rejects (backreferences, lookarounds, `\Z`, possessive
 *   or stacked repeats, counts over 1000) are rejected here too.
 *
 * There is no RE2 engine at run time or in the tests: the rules above
 * follow Go's `regexp/syntax`, and the regex specs of
 * tests/heka/matcher_heka_vectors.json (verdicts of Heka's own Go matcher)
 * check the answers, invalid UTF-8 included; JS backtracking can be slower
 * than RE2 on some patterns, never different in the answer.
 *
 * A pattern runs on the string as Go reads it (each invalid UTF-8 byte one
 * U+FFFD; the caller provides that string). Patterns Heka runs as
 * `strings.HasPrefix`/`HasSuffix` (`^literal`, `literal$`) use
 * `startsWith`/`endsWith` here too, with Heka's corner cases; other plain
 * literals, optionally anchored, skip `RegExp` as well (literal_plan.ts).
 *
 * @module
 */
import { hekaLiteral, isAsciiAlnum, literalPlan } from "./literal_plan.ts";

/** An RE2 pattern that cannot be translated; `offset` is a UTF-16 index into the pattern. */
export class RegexSyntaxError extends Error {
  /** Always `"RegexSyntaxError"`. */
  override name = "RegexSyntaxError";
  /** UTF-16 index into the pattern where the problem starts. */
  readonly offset: number;
  /** Creates the error for `message` at `offset`. */
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/** A JS `RegExp` source and flags equivalent to an RE2 pattern. */
export interface TranslatedRegex {
  /** The `RegExp` source. */
  source: string;
  /** The `RegExp` flags: `v`, or `iv` for a pattern that starts with `(?i)`. */
  flags: string;
}

/** A compiled regular expression test that never throws. */
export type StringTest = (s: string) => boolean;

const MAX_REPEAT = 1000;
const MAX_DEPTH = 1000;

// A set of code points as sorted, non-overlapping inclusive [lo, hi] pairs.
type Ranges = readonly (readonly [number, number])[];

const DIGIT: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE_PERL: Ranges = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];

const PERL_CLASSES: Record<string, Ranges> = { d: DIGIT, s: SPACE_PERL, w: WORD };

const POSIX_CLASSES: Record<string, Ranges> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

// Go's unicode.Categories (plus LC, which JS also knows).
const CATEGORIES = new Set(
  ("C Cc Cf Co Cs L LC Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps " +
    "S Sc Sk Sm So Z Zl Zp Zs").split(" "),
);

const MAX_RUNE = 0x10ffff;

function complement(r: Ranges): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of r) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}

function normalize(r: [number, number][]): [number, number][] {
  r.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of r) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

// Adds the case-fold partners of an ASCII class, so that its complement stays
// right under JS's case-insensitive class matching. Only ſ (U+017F) and the
// Kelvin sign (U+212A) fold into ASCII.
function foldClosure(r: Ranges): [number, number][] {
  const out: [number, number][] = r.map(([lo, hi]) => [lo, hi]);
  const has = (c: number) => r.some(([lo, hi]) => c >= lo && c <= hi);
  for (const [lo, hi] of r) {
    const a = Math.max(lo, 0x61), b = Math.min(hi, 0x7a);
    if (a <= b) out.push([a - 0x20, b - 0x20]);
    const c = Math.max(lo, 0x41), d = Math.min(hi, 0x5a);
    if (c <= d) out.push([c + 0x20, d + 0x20]);
  }
  if (has(0x73) || has(0x53)) out.push([0x73, 0x73], [0x53, 0x53], [0x17f, 0x17f]);
  if (has(0x6b) || has(0x4b)) out.push([0x6b, 0x6b], [0x4b, 0x4b], [0x212a, 0x212a]);
  return normalize(out);
}

/** A code point as a JS pattern atom that means itself in and out of classes. */
function lit(c: number): string {
  return isAsciiAlnum(c) ? String.fromCharCode(c) : `\\u{${c.toString(16)}}`;
}

function rangesSource(r: Ranges): string {
  let s = "";
  for (const [lo, hi] of r) s += lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`;
  return s;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

// Go's \b and \B are ASCII-only, also under (?i), where JS would count ſ and
// the Kelvin sign as word characters. While scanning, V8 also tries
// positions between the halves of a surrogate pair, where \B and negative
// lookarounds hold; (?=[^]) fails there, so it keeps \B to real positions
// (and multi-line ^/$ use positive lookarounds for the same reason).
const WORD_CLASS = `(?:[${rangesSource(WORD)}])`;
const WORD_BOUNDARY = "(?-i:\\b)";
const NOT_WORD_BOUNDARY = `(?-i:(?<=${WORD_CLASS})(?=${WORD_CLASS})|` +
  `(?<!${WORD_CLASS})(?!${WORD_CLASS})(?:(?=[^])|$))`;

// V8 gives a class that directly follows a modifier group the group's case
// flag, so every class-like atom is wrapped in a (free) non-capturing group.
// The case flag of each atom is made explicit (see Translator.cased) for the
// same kind of reason.
function cls(body: string): string {
  return `(?:${body})`;
}

const FLAG_I = 1;
const FLAG_M = 2;
const FLAG_S = 4;
const FLAG_U = 8;

interface Atom {
  src: string;
  // Product of nested {n,m} counts, to bound the expansion like Go does.
  weight: number;
  // Can take a quantifier as is (assertions and quantified atoms cannot in JS).
  unit: boolean;
}

class Translator {
  private pos = 0;
  private flags = 0;
  private depth = 0;
  private readonly names = new Set<string>();
  // The JS-wide case flag: set when the pattern starts with (?i).
  private readonly globalI: boolean;

  constructor(private readonly p: string) {
    this.globalI = /^\(\?[msU]*i[imsU]*(?:-[imsU]+)?\)/.test(p);
  }

  run(): TranslatedRegex {
    const body = this.alternation();
    if (this.pos < this.p.length) throw this.fail("unexpected )", this.pos);
    return { source: body.src, flags: this.globalI ? "iv" : "v" };
  }

  /**
   * Gives an atom whose case flag differs from the JS-wide one its own
   * modifier group. (V8 mis-scopes the case flag of classes and literals
   * that follow one another inside a longer modifier group.)
   */
  private cased(src: string): string {
    const i = (this.flags & FLAG_I) !== 0;
    if (i === this.globalI) return src;
    return `(?${i ? "" : "-"}i:${src})`;
  }

  private fail(message: string, at: number): RegexSyntaxError {
    return new RegexSyntaxError(message, at);
  }

  private code(at = this.pos): number {
    return this.p.charCodeAt(at);
  }

  /** Reads one code point (a lone surrogate counts as one). */
  private nextRune(): number {
    const c = this.p.codePointAt(this.pos)!;
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  private alternation(): Atom {
    let branch = this.concat();
    let src = branch.src;
    let weight = branch.weight;
    while (this.pos < this.p.length && this.code() === 0x7c /* | */) {
      this.pos++;
      branch = this.concat();
      src += "|" + branch.src;
      weight = Math.max(weight, branch.weight);
    }
    return { src, weight, unit: false };
  }

  private concat(): Atom {
    const atoms: Atom[] = [];
    let lastWasRepeat = false;
    let weight = 1;
    const p = this.p;
    const push = (a: Atom) => {
      atoms.push(a);
      weight = Math.max(weight, a.weight);
    };
    while (this.pos < p.length) {
      const start = this.pos;
      const c = this.code();
      if (c === 0x7c /* | */ || c === 0x29 /* ) */) break;
      const rep = this.repeatOp();
      if (rep !== undefined) {
        if (atoms.length === 0) throw this.fail("missing argument to repetition operator", start);
        if (lastWasRepeat) throw this.fail("invalid nested repetition operator", start);
        const atom = atoms[atoms.length - 1];
        let w = atom.weight;
        if (rep.braces) {
          const count = rep.max >= 0 ? rep.max : rep.min;
          if (count > 0) w *= count;
          if ((rep.min >= 2 || rep.max >= 2) && w > MAX_REPEAT) {
            throw this.fail("invalid repeat count", start);
          }
        }
        const base = atom.unit ? atom.src : `(?:${atom.src})`;
        atoms[atoms.length - 1] = { src: base + rep.src, weight: w, unit: false };
        weight = Math.max(weight, w);
        lastWasRepeat = true;
        continue;
      }
      lastWasRepeat = false;
      if (c === 0x28 /* ( */ && this.code(start + 1) === 0x3f /* ? */) {
        const group = this.perlGroup();
        if (group !== undefined) push(group);
        continue;
      }
      if (c === 0x5c /* \ */ && this.code(start + 1) === 0x51 /* Q */) {
        this.pos += 2;
        let end = p.indexOf("\\E", this.pos);
        if (end < 0) end = p.length;
        while (this.pos < end) {
          // Heka unescapes \/ before Go sees the pattern.
          if (this.code() === 0x5c && this.code(this.pos + 1) === 0x2f) this.pos++;
          push({ src: this.cased(lit(this.nextRune())), weight: 1, unit: true });
        }
        this.pos = Math.min(p.length, end + 2);
        continue;
      }
      push(this.atom());
    }
    return { src: atoms.map((a) => a.src).join(""), weight, unit: false };
  }

  /** Parses `*`, `+`, `?`, or a valid `{n,m}`, with a lazy `?`; undefined if none here. */
  private repeatOp(): { src: string; braces: boolean; min: number; max: number } | undefined {
    const c = this.code();
    let src: string;
    let braces = false;
    let min = 0;
    let max = -1;
    if (c === 0x2a || c === 0x2b || c === 0x3f) {
      src = String.fromCharCode(c);
      this.pos++;
    } else if (c === 0x7b /* { */) {
      const m = /^\{(0|[1-9][0-9]*)(,(0|[1-9][0-9]*)?)?\}/.exec(
        this.p.slice(this.pos, this.pos + 40),
      );
      if (!m) return undefined;
      min = m[1].length > 8 ? -1 : Number(m[1]);
      max = m[2] === undefined
        ? min
        : m[3] === undefined
        ? -1
        : m[3].length > 8
        ? -2
        : Number(m[3]);
      if (
        min < 0 || max === -2 || min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)
      ) {
        throw this.fail("invalid repeat count", this.pos);
      }
      braces = true;
      src = m[0];
      this.pos += m[0].length;
    } else {
      return undefined;
    }
    if (this.pos < this.p.length && this.code() === 0x3f) {
      src += "?";
      this.pos++;
    }
    return { src, braces, min, max };
  }

  /** Parses a group starting with `(?`: flags (returns undefined), scoped flags or a named group. */
  private perlGroup(): Atom | undefined {
    const p = this.p;
    const start = this.pos;
    const named = /^\(\?P?</.exec(p.slice(start, start + 4));
    if (named) {
      const end = p.indexOf(">", start);
      if (end < 0) throw this.fail("invalid named capture", start);
      const name = p.slice(start + named[0].length, end);
      if (!/^[\p{L}\p{N}_]+$/u.test(name)) throw this.fail("invalid named capture", start);
      if (this.names.has(name)) throw this.fail("duplicate capture group name", start);
      this.names.add(name);
      this.pos = end + 1;
      return this.group(start, this.flags);
    }
    this.pos += 2;
    let flags = this.flags;
    let negate = false;
    let sawFlag = false;
    while (this.pos < p.length) {
      const c = p[this.pos++];
      const bit = c === "i"
        ? FLAG_I
        : c === "m"
        ? FLAG_M
        : c === "s"
        ? FLAG_S
        : c === "U"
        ? FLAG_U
        : 0;
      if (bit !== 0) {
        flags = negate ? flags & ~bit : flags | bit;
        sawFlag = true;
        continue;
      }
      if (c === "-" && !negate) {
        negate = true;
        sawFlag = false;
        continue;
      }
      if ((c === ":" || c === ")") && !(negate && !sawFlag)) {
        if (c === ")") {
          this.flags = flags;
          return undefined;
        }
        return this.group(start, flags);
      }
      break;
    }
    throw this.fail("invalid or unsupported Perl syntax", start);
  }

  /** Parses a group body after its opening; `flags` apply inside it only. */
  private group(start: number, flags: number): Atom {
    if (++this.depth > MAX_DEPTH) throw this.fail("expression nests too deeply", start);
    const saved = this.flags;
    this.flags = flags;
    const inner = this.alternation();
    if (this.pos >= this.p.length || this.code() !== 0x29) {
      throw this.fail("missing closing )", start);
    }
    this.pos++;
    this.flags = saved;
    this.depth--;
    return { src: `(?:${inner.src})`, weight: inner.weight, unit: true };
  }

  private atom(): Atom {
    const start = this.pos;
    const c = this.code();
    switch (c) {
      case 0x28: /* ( */
        this.pos++;
        return this.group(start, this.flags);
      case 0x5b: /* [ */
        return this.charClass();
      case 0x2e: /* . */
        this.pos++;
        return { src: cls(this.flags & FLAG_S ? "[^]" : "[^\\n]"), weight: 1, unit: true };
      case 0x5e: /* ^ */
        this.pos++;
        return { src: this.flags & FLAG_M ? "(?<=^|\\n)" : "^", weight: 1, unit: false };
      case 0x24: /* $ */
        this.pos++;
        return { src: this.flags & FLAG_M ? "(?=$|\\n)" : "$", weight: 1, unit: false };
      case 0x5c: /* \ */
        return this.escapeAtom();
      default:
        return { src: this.cased(lit(this.nextRune())), weight: 1, unit: true };
    }
  }

  private escapeAtom(): Atom {
    const start = this.pos;
    const p = this.p;
    if (start + 1 >= p.length) throw this.fail("trailing backslash at end of expression", start);
    const e = p[start + 1];
    switch (e) {
      case "A":
        this.pos += 2;
        return { src: "^", weight: 1, unit: false };
      case "z":
        this.pos += 2;
        return { src: "$", weight: 1, unit: false };
      case "b":
      case "B":
        this.pos += 2;
        return { src: e === "b" ? WORD_BOUNDARY : NOT_WORD_BOUNDARY, weight: 1, unit: false };
      case "p":
      case "P":
        return { src: this.cased(cls(this.unicodeClass())), weight: 1, unit: true };
      case "d":
      case "D":
      case "s":
      case "S":
      case "w":
      case "W": {
        this.pos += 2;
        const r = PERL_CLASSES[e.toLowerCase()];
        const src = this.cased(cls((e >= "a" ? "[" : "[^") + rangesSource(r) + "]"));
        return { src, weight: 1, unit: true };
      }
    }
    return { src: this.cased(lit(this.escapeRune())), weight: 1, unit: true };
  }

  /** Go's parseEscape: the code point of an escape valid both in and out of classes. */
  private escapeRune(): number {
    const p = this.p;
    const start = this.pos;
    this.pos++; // backslash
    if (this.pos >= p.length) throw this.fail("trailing backslash at end of expression", start);
    const c = this.nextRune();
    const isOctal = (at: number) => at < p.length && p[at] >= "0" && p[at] <= "7";
    if (c >= 0x31 && c <= 0x37 && !isOctal(this.pos)) {
      throw this.fail("invalid escape sequence (backreferences are not supported)", start);
    }
    if (c >= 0x30 && c <= 0x37) {
      let r = c - 0x30;
      for (let i = 1; i < 3 && isOctal(this.pos); i++) {
        r = r * 8 + (p.charCodeAt(this.pos++) - 0x30);
      }
      return r;
    }
    switch (c) {
      case 0x78: {
        /* x */
        if (this.pos < p.length && p[this.pos] === "{") {
          this.pos++;
          let r = 0;
          let n = 0;
          while (this.pos < p.length && p[this.pos] !== "}") {
            const v = hexValue(p.charCodeAt(this.pos++));
            if (v < 0) throw this.fail("invalid escape sequence", start);
            r = r * 16 + v;
            n++;
            if (r > MAX_RUNE) throw this.fail("invalid escape sequence", start);
          }
          if (this.pos >= p.length || n === 0) throw this.fail("invalid escape sequence", start);
          this.pos++;
          return r;
        }
        const x = hexValue(p.charCodeAt(this.pos));
        const y = hexValue(p.charCodeAt(this.pos + 1));
        if (x < 0 || y < 0) throw this.fail("invalid escape sequence", start);
        this.pos += 2;
        return x * 16 + y;
      }
      case 0x61: /* a */
        return 7;
      case 0x66: /* f */
        return 12;
      case 0x6e: /* n */
        return 10;
      case 0x72: /* r */
        return 13;
      case 0x74: /* t */
        return 9;
      case 0x76: /* v */
        return 11;
    }
    if (c < 0x80 && !isAsciiAlnum(c)) return c;
    throw this.fail("invalid escape sequence", start);
  }

  /** `\pL`, `\p{Name}`, `\p{^Name}`, `\PL`… as a JS property escape. */
  private unicodeClass(): string {
    const p = this.p;
    const start = this.pos;
    let negate = p[start + 1] === "P";
    this.pos += 2;
    if (this.pos >= p.length) throw this.fail("invalid character class range", start);
    let name: string;
    if (p[this.pos] === "{") {
      const end = p.indexOf("}", this.pos);
      if (end < 0) throw this.fail("invalid character class range", start);
      name = p.slice(this.pos + 1, end);
      this.pos = end + 1;
      if (name.startsWith("^")) {
        negate = !negate;
        name = name.slice(1);
      }
    } else {
      name = String.fromCodePoint(this.nextRune());
    }
    let prop: string;
    if (name === "Any") prop = "Any";
    else if (CATEGORIES.has(name)) prop = name;
    else if (/^[A-Za-z][A-Za-z_]*$/.test(name) && isScript(name)) prop = `Script=${name}`;
    else throw this.fail(`invalid character class range: unknown Unicode class "${name}"`, start);
    return `\\${negate ? "P" : "p"}{${prop}}`;
  }

  private charClass(): Atom {
    const p = this.p;
    const start = this.pos;
    this.pos++;
    let negate = false;
    if (this.pos < p.length && p[this.pos] === "^") {
      negate = true;
      this.pos++;
    }
    let body = "";
    let first = true;
    const folding = (this.flags & FLAG_I) !== 0;
    const group = (r: Ranges, neg: boolean) => {
      body += rangesSource(neg ? complement(folding ? foldClosure(r) : r) : r);
    };
    for (;;) {
      if (this.pos >= p.length) throw this.fail("missing closing ]", start);
      const c = p[this.pos];
      if (c === "]" && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c === "[" && p[this.pos + 1] === ":") {
        const end = p.indexOf(":]", this.pos + 2);
        if (end >= 0) {
          let name = p.slice(this.pos + 2, end);
          const neg = name.startsWith("^");
          if (neg) name = name.slice(1);
          const r = Object.hasOwn(POSIX_CLASSES, name) ? POSIX_CLASSES[name] : undefined;
          if (r === undefined) {
            throw this.fail(`invalid character class range: unknown POSIX class`, this.pos);
          }
          group(r, neg);
          this.pos = end + 2;
          continue;
        }
      }
      if (c === "\\" && (p[this.pos + 1] === "p" || p[this.pos + 1] === "P")) {
        body += this.unicodeClass();
        continue;
      }
      if (c === "\\" && this.pos + 1 < p.length && "dDsSwW".includes(p[this.pos + 1])) {
        const e = p[this.pos + 1];
        group(PERL_CLASSES[e.toLowerCase()], e < "a");
        this.pos += 2;
        continue;
      }
      const rangeStart = this.pos;
      const lo = this.classChar(start);
      let hi = lo;
      if (this.pos + 1 < p.length && p[this.pos] === "-" && p[this.pos + 1] !== "]") {
        this.pos++;
        hi = this.classChar(start);
        if (hi < lo) throw this.fail("invalid character class range", rangeStart);
      }
      body += lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`;
    }
    return { src: this.cased(cls((negate ? "[^" : "[") + body + "]")), weight: 1, unit: true };
  }

  private classChar(classStart: number): number {
    if (this.pos >= this.p.length) throw this.fail("missing closing ]", classStart);
    if (this.code() === 0x5c) return this.escapeRune();
    return this.nextRune();
  }
}

const scriptCache = new Map<string, boolean>();

function isScript(name: string): boolean {
  let ok = scriptCache.get(name);
  if (ok === undefined) {
    try {
      new RegExp(`\\p{Script=${name}}`, "u");
      ok = true;
    } catch {
      ok = false;
    }
    if (scriptCache.size < 1000) scriptCache.set(name, ok);
  }
  return ok;
}

/**
 * Translates a Go RE2 pattern into an equivalent JS `RegExp` source and
 * flags (always including `v`).
 *
 * @throws {RegexSyntaxError} when RE2 would reject the pattern.
 */
export function translateRegex(pattern: string): TranslatedRegex {
  return new Translator(pattern).run();
}

/**
 * Compiles an RE2 pattern into a test that never throws. The test takes
 * the string as Go reads it (see invalid_utf8.ts: each invalid byte one
 * U+FFFD). Patterns Heka runs as a prefix or suffix test run as one here;
 * other plain literals, optionally anchored, become string comparisons;
 * everything else a JS `RegExp` with the `v` flag.
 *
 * @throws {RegexSyntaxError} when the pattern is invalid.
 */
export function compileRegex(pattern: string): StringTest {
  const translated = translateRegex(pattern);
  const heka = hekaLiteral(pattern);
  if (heka !== undefined) {
    const t = heka.text;
    return heka.prefix ? (s) => s.startsWith(t) : (s) => s.endsWith(t);
  }
  const plan = literalPlan(pattern);
  if (plan !== undefined) {
    const t = plan.text;
    if (plan.start && plan.end) return (s) => s === t;
    if (plan.start) return (s) => s.startsWith(t);
    if (plan.end) return (s) => s.endsWith(t);
    return (s) => s.includes(t);
  }
  let re: RegExp;
  try {
    re = new RegExp(translated.source, translated.flags);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new RegexSyntaxError(`unsupported regular expression (${reason})`, 0);
  }
  return (s) => {
    try {
      return re.test(s);
    } catch {
      return false;
    }
  };
}
