/**
 * The patterns that run without a regex engine: Heka's own plan
 * ({@link hekaLiteral}: `^literal` as `strings.HasPrefix`, `literal$` as
 * `HasSuffix`, with Heka's corner cases) and plain literals, optionally
 * anchored ({@link literalPlan}), which become string comparisons.
 * regex.ts `compileRegex` asks these first.
 *
 * @module
 */
/** Whether `c` is an ASCII letter or digit (Go escapes only other ASCII bytes literally). */
export function isAsciiAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** A literal pattern, optionally anchored; what Heka runs without a regex engine. */
export interface LiteralPlan {
  text: string;
  start: boolean;
  end: boolean;
}

/** The plain literal a pattern is, optionally anchored by `^` and `$`; undefined otherwise. */
export function literalPlan(pattern: string): LiteralPlan | undefined {
  let i = 0;
  const n = pattern.length;
  const start = n > 0 && pattern[0] === "^";
  if (start) i = 1;
  let text = "";
  let end = false;
  while (i < n) {
    const c = pattern.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      const e = pattern.charCodeAt(i + 1);
      if (!(e < 0x80 && !isAsciiAlnum(e))) return undefined;
      text += pattern[i + 1];
      i += 2;
      continue;
    }
    if (c === 0x24 /* $ */ && i === n - 1) {
      end = true;
      break;
    }
    if ("^$.+*?()|[]{}".includes(pattern[i])) return undefined;
    text += pattern[i];
    i++;
  }
  return { text, start, end };
}

/** A pattern Heka runs as `strings.HasPrefix`/`HasSuffix` instead of a regexp. */
export interface HekaLiteral {
  text: string;
  prefix: boolean;
}

/** Whether `c` (a code point) has other case forms, as Go's `unicode.SimpleFold` sees it. */
function hasCaseVariants(c: number): boolean {
  const s = String.fromCodePoint(c);
  return s.toLowerCase() !== s || s.toUpperCase() !== s || c === 0x130 || c === 0x131;
}

/**
 * The literal text of a pattern that Go's `LiteralPrefix` reports as
 * complete (the whole pattern is that literal), and whether `(?m)` is on
 * at its end; undefined when it is not such a literal or this function
 * does not recognise it (then a regexp runs, which gives the same answer
 * except in the corner cases {@link hekaLiteral} handles). Go's prefix
 * stops at U+FFFD and at case-folded letters.
 */
function goLiteral(p: string): { text: string; multiline: boolean } | undefined {
  let text = "";
  let fold = false;
  let multiline = false;
  const add = (c: number): boolean => {
    if (c === 0xfffd || (fold && hasCaseVariants(c))) return false;
    text += String.fromCodePoint(c);
    return true;
  };
  let i = 0;
  while (i < p.length) {
    const c = p.codePointAt(i)!;
    if (c === 0x28 /* ( */) {
      const m = /^\(\?([imsU]*)(?:-([imsU]+))?\)/.exec(p.slice(i, i + 16));
      if (m === null) return undefined;
      if (m[1].includes("i")) fold = true;
      if (m[1].includes("m")) multiline = true;
      if (m[2]?.includes("i")) fold = false;
      if (m[2]?.includes("m")) multiline = false;
      i += m[0].length;
      continue;
    }
    if (c === 0x5c /* \ */) {
      const e = p.charCodeAt(i + 1);
      if (e === 0x51 /* Q */) {
        let end = p.indexOf("\\E", i + 2);
        if (end < 0) end = p.length;
        const quoted = p.slice(i + 2, end).replaceAll("\\/", "/");
        for (const ch of quoted) if (!add(ch.codePointAt(0)!)) return undefined;
        i = Math.min(p.length, end + 2);
        continue;
      }
      const simple = "afnrtv".indexOf(p[i + 1]);
      if (simple >= 0) {
        if (!add([7, 12, 10, 13, 9, 11][simple])) return undefined;
      } else if (e < 0x80 && !isAsciiAlnum(e) && i + 1 < p.length) {
        if (!add(e)) return undefined;
      } else return undefined;
      i += 2;
      continue;
    }
    if ("^$.+*?()|[]{}".includes(p[i])) return undefined;
    if (!add(c)) return undefined;
    i += c > 0xffff ? 2 : 1;
  }
  return { text, multiline };
}

/**
 * Go's `LiteralPrefix` of a pattern that Heka compiles while choosing a
 * plan: complete literals as {@link goLiteral} sees them, and (Go's
 * one-pass matcher) `^literal$`.
 */
function completeLiteral(p: string): string | undefined {
  if (p.startsWith("^")) {
    if (!p.endsWith("$") || p.endsWith("\\$")) return undefined;
    const lit = goLiteral(p.slice(1, -1));
    return lit === undefined || lit.multiline ? undefined : lit.text;
  }
  return goLiteral(p)?.text;
}

/**
 * Heka's plan for `/pattern/`: a pattern that starts with `^` and whose
 * rest is a complete literal runs as `HasPrefix`, else one that ends with
 * `$` and whose rest is a complete literal runs as `HasSuffix`. This
 * differs from the regexp only in corners: `(?m)abc$` ends with "abc"
 * (the `$` reads as end of text), `^abc$$` too.
 */
export function hekaLiteral(pattern: string): HekaLiteral | undefined {
  if (pattern.startsWith("^")) {
    const text = completeLiteral(pattern.slice(1));
    if (text !== undefined) return { text, prefix: true };
  }
  if (pattern.endsWith("$")) {
    const text = completeLiteral(pattern.slice(0, -1));
    if (text !== undefined) return { text, prefix: false };
  }
  return undefined;
}
