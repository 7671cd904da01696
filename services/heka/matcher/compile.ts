/**
 * Turns a matcher AST into one closure per node, once. Evaluating a
 * compiled matcher reads the message, compares, and allocates nothing
 * (except a formatted UUID for `Uuid` tests and a decoded string for a
 * regex on a bytes field); it never throws.
 *
 * Semantics are Heka's (`message_matcher.go`), checked against Heka's own
 * matcher (tests/heka/matcher_heka_vectors.json):
 * - absent headers read as `""`, Severity as 7, Pid and Timestamp as 0; a
 *   Uuid that is not 16 bytes reads as `""`;
 * - strings compare as UTF-8 bytes (the wire bytes when they were not
 *   valid UTF-8, see invalid_utf8.ts); regexes see each invalid byte as
 *   one U+FFFD, as Go's regexp does;
 * - Timestamp, Severity, Pid and numeric fields compare as float64;
 * - a field test on a missing field, field index or array index is false,
 *   except `== NIL`; on a string or bytes field, TRUE and FALSE compare
 *   with the text "TRUE"/"FALSE" and a number is false; on a number field
 *   anything but a number (or NIL) is false; on a bool field any value but
 *   TRUE (or NIL) means "is false", whatever the operator
 *   (`Fields[flag] > 5` is `Fields[flag] == FALSE`);
 * - the extensions: `!= TRUE`/`!= FALSE` negate `==` (on a bool field the
 *   value differs); a quoted RFC 3339 Timestamp compares exactly in ns.
 *
 * @module
 */
import { formatUuid, type HekaField, type HekaMessage, parseUuid, ValueType } from "../message.ts";
import type { HeaderName, Operator } from "./lexer.ts";
import type { Node, TestNode, Value } from "./parser.ts";
import type { StringTest } from "./regex.ts";
import {
  decodeUtf8Go,
  goTextOf,
  type StringSlot,
  wasInvalidUtf8,
  wireBytesOf,
} from "../invalid_utf8.ts";

/** A compiled matcher test. */
export type Predicate = (msg: HekaMessage) => boolean;

const ALWAYS: Predicate = () => true;
const NEVER: Predicate = () => false;

/** Compiles a checked AST into a predicate. */
export function compileNode(node: Node): Predicate {
  switch (node.kind) {
    case "const":
      return node.value ? ALWAYS : NEVER;
    case "and": {
      const ps = node.operands.map(compileNode).filter((p) => p !== ALWAYS);
      return ps.includes(NEVER) ? NEVER : allOf(ps);
    }
    case "or": {
      const ps = node.operands.map(compileNode).filter((p) => p !== NEVER);
      return ps.includes(ALWAYS) ? ALWAYS : anyOf(ps);
    }
    case "test":
      return compileTest(node);
  }
}

function allOf(ps: Predicate[]): Predicate {
  switch (ps.length) {
    case 0:
      return ALWAYS;
    case 1:
      return ps[0];
    case 2: {
      const [a, b] = ps;
      return (m) => a(m) && b(m);
    }
    case 3: {
      const [a, b, c] = ps;
      return (m) => a(m) && b(m) && c(m);
    }
    default:
      return (m) => {
        for (let i = 0; i < ps.length; i++) if (!ps[i](m)) return false;
        return true;
      };
  }
}

function anyOf(ps: Predicate[]): Predicate {
  switch (ps.length) {
    case 0:
      return NEVER;
    case 1:
      return ps[0];
    case 2: {
      const [a, b] = ps;
      return (m) => a(m) || b(m);
    }
    case 3: {
      const [a, b, c] = ps;
      return (m) => a(m) || b(m) || c(m);
    }
    default:
      return (m) => {
        for (let i = 0; i < ps.length; i++) if (ps[i](m)) return true;
        return false;
      };
  }
}

function compileTest(t: TestNode): Predicate {
  const { target, op, value } = t;
  if (target.kind === "header") {
    switch (value.kind) {
      case "string":
        if (target.name === "Uuid") {
          if (op === "==" || op === "!=") {
            const eq = uuidEquals(value.value);
            return op === "==" ? (m) => eq(m.uuid) : (m) => !eq(m.uuid);
          }
          const test = stringTest(op, value.value);
          return (m) => test(uuidText(m.uuid));
        }
        return stringHeader(headerSlot(target.name), op, value.value);
      case "regex":
        return regexHeader(target.name, regexTest(op, value.test));
      case "number":
        if (target.name === "Timestamp") return timestampTest(op, value.value);
        return numericHeader(target.name, op, value.value);
      case "time":
        return exactTimestampTest(op, value.ns);
    }
    throw new Error(`unreachable: ${target.name} ${op} ${value.kind}`);
  }
  return fieldTest(fieldFinder(target.name, target.fieldIndex), target.arrayIndex, op, value);
}

/** What a field test does with a value of each field type. */
interface FieldTests {
  str: (f: HekaField, s: string, ai: number) => boolean;
  bytes: (b: Uint8Array) => boolean;
  num: (x: number) => boolean;
  bool: (b: boolean) => boolean;
  /** The verdict for a missing field or value (Heka's testNonExistence). */
  missing: boolean;
}

function fieldTests(op: Operator, value: Value): FieldTests {
  const isFalse = (b: boolean) => !b;
  switch (value.kind) {
    case "nil": {
      const present = op !== "==";
      const p = () => present;
      return { str: p, bytes: p, num: p, bool: p, missing: !present };
    }
    case "string": {
      const st = stringTest(op, value.value);
      return {
        str: (f, s, ai) => st(s, f, ai),
        bytes: bytesTest(op, value.value),
        num: () => false,
        bool: isFalse,
        missing: false,
      };
    }
    case "number":
      return {
        str: () => false,
        bytes: () => false,
        num: numberTest(op, value.value),
        bool: isFalse,
        missing: false,
      };
    case "regex": {
      const test = regexTest(op, value.test);
      return {
        str: (f, s, ai) => test(goTextOf(f, ai, s)),
        bytes: (b) => test(decodeGo(b)),
        num: () => false,
        bool: isFalse,
        missing: false,
      };
    }
    case "bool": {
      // Heka compares a string field with the text TRUE/FALSE.
      const text = value.value ? "TRUE" : "FALSE";
      const eq = op === "==";
      const st = stringTest(op, text);
      return {
        str: (_f, s) => st(s),
        bytes: bytesTest(op, text),
        num: () => false,
        bool: eq ? (b) => b === value.value : (b) => b !== value.value,
        missing: false,
      };
    }
  }
  throw new Error(`unreachable: Fields ${op} ${value.kind}`);
}

function fieldTest(
  find: Getter<HekaField | undefined>,
  ai: number,
  op: Operator,
  value: Value,
): Predicate {
  const { str, bytes, num, bool, missing } = fieldTests(op, value);
  return (m) => {
    const f = find(m);
    if (f === undefined) return missing;
    switch (f.valueType) {
      case ValueType.STRING: {
        const a = f.valueString;
        return ai < a.length ? str(f, a[ai], ai) : missing;
      }
      case ValueType.INTEGER: {
        const a = f.valueInteger;
        return ai < a.length ? num(a[ai]) : missing;
      }
      case ValueType.DOUBLE: {
        const a = f.valueDouble;
        return ai < a.length ? num(a[ai]) : missing;
      }
      case ValueType.BOOL: {
        const a = f.valueBool;
        return ai < a.length ? bool(a[ai]) : missing;
      }
      case ValueType.BYTES: {
        const a = f.valueBytes;
        return ai < a.length ? bytes(a[ai]) : missing;
      }
    }
    return false;
  };
}

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

type Getter<T> = (m: HekaMessage) => T;

/** A string test that may need the wire bytes of `s`, the value in `slot` of `holder`. */
type TextTest = (s: string, holder?: HekaMessage | HekaField, slot?: StringSlot) => boolean;

/** Bytes as Go's regexp reads them: each invalid byte one U+FFFD. */
function decodeGo(b: Uint8Array): string {
  const s = utf8.decode(b);
  return s.indexOf("\uFFFD") < 0 ? s : decodeUtf8Go(b);
}

type StringHeader = "Type" | "Logger" | "Payload" | "EnvVersion" | "Hostname";

function headerSlot(name: HeaderName): StringHeader {
  if (name === "Uuid" || name === "Timestamp" || name === "Severity" || name === "Pid") {
    throw new Error(`unreachable: ${name} is not a string header`);
  }
  return name;
}

function stringHeader(name: StringHeader, op: Operator, v: string): Predicate {
  const test = stringTest(op, v);
  switch (name) {
    case "Type":
      return (m) => test(m.type ?? "", m, "type");
    case "Logger":
      return (m) => test(m.logger ?? "", m, "logger");
    case "Payload":
      return (m) => test(m.payload ?? "", m, "payload");
    case "EnvVersion":
      return (m) => test(m.envVersion ?? "", m, "envVersion");
    case "Hostname":
      return (m) => test(m.hostname ?? "", m, "hostname");
  }
  throw new Error(`unreachable: ${name} is not a string header`);
}

/** A regex test on the Go reading of a header. */
function regexHeader(name: HeaderName, test: StringTest): Predicate {
  const go = (m: HekaMessage, slot: StringSlot, s: string) => test(goTextOf(m, slot, s));
  switch (name) {
    case "Uuid":
      return (m) => test(uuidText(m.uuid));
    case "Type":
      return (m) => go(m, "type", m.type ?? "");
    case "Logger":
      return (m) => go(m, "logger", m.logger ?? "");
    case "Payload":
      return (m) => go(m, "payload", m.payload ?? "");
    case "EnvVersion":
      return (m) => go(m, "envVersion", m.envVersion ?? "");
    case "Hostname":
      return (m) => go(m, "hostname", m.hostname ?? "");
  }
  throw new Error(`unreachable: ${name} is not a string header`);
}

/** Heka's `GetUuidString`: 8-4-4-4-12 hex for 16 bytes, else `""`. */
function uuidText(u: Uint8Array | undefined): string {
  return u !== undefined && u.length === 16 ? formatUuid(u) : "";
}

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `uuidText(u) === v`, comparing bytes instead of formatting. */
function uuidEquals(v: string): (u: Uint8Array | undefined) => boolean {
  if (v === "") return (u) => u === undefined || u.length !== 16;
  if (!CANONICAL_UUID.test(v)) return () => false;
  const want = parseUuid(v);
  return (u) => u !== undefined && u.length === 16 && compareBytes(u, want) === 0;
}

function numericHeader(name: HeaderName, op: Operator, v: number): Predicate {
  const get: Getter<number> = name === "Severity" ? (m) => m.severity ?? 7 : (m) => m.pid ?? 0;
  switch (op) {
    case "==":
      return (m) => get(m) === v;
    case "!=":
      return (m) => get(m) !== v;
    case "<":
      return (m) => get(m) < v;
    case "<=":
      return (m) => get(m) <= v;
    case ">":
      return (m) => get(m) > v;
    case ">=":
      return (m) => get(m) >= v;
  }
  throw new Error(`unreachable: ${name} ${op}`);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The least int64 `t` with `pred(Number(t))`, for a `pred` monotone in t; INT64_MAX + 1 if none. */
function leastInt64(pred: (x: number) => boolean): bigint {
  let lo = INT64_MIN;
  let hi = INT64_MAX + 1n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1n;
    if (pred(Number(mid))) hi = mid;
    else lo = mid + 1n;
  }
  return lo;
}

/**
 * Heka compares `float64(Timestamp)` with the literal. Rounding is monotone,
 * so each operator holds on one range of int64 nanoseconds; this finds its
 * bounds once and compares the exact nanoseconds with them.
 */
function timestampTest(op: Operator, v: number): Predicate {
  const from = leastInt64((x) => x >= v); // float64(t) >= v  <=>  t >= from
  const past = leastInt64((x) => x > v); //  float64(t) > v   <=>  t >= past
  switch (op) {
    case "==":
      return (m) => {
        const t = m.timestamp ?? 0n;
        return t >= from && t < past;
      };
    case "!=":
      return (m) => {
        const t = m.timestamp ?? 0n;
        return t < from || t >= past;
      };
    case "<":
      return (m) => (m.timestamp ?? 0n) < from;
    case "<=":
      return (m) => (m.timestamp ?? 0n) < past;
    case ">":
      return (m) => (m.timestamp ?? 0n) >= past;
    case ">=":
      return (m) => (m.timestamp ?? 0n) >= from;
  }
  throw new Error(`unreachable: Timestamp ${op}`);
}

/** A quoted RFC 3339 Timestamp (an extension; Heka has none): exact ns. */
function exactTimestampTest(op: Operator, ns: bigint): Predicate {
  switch (op) {
    case "==":
      return (m) => (m.timestamp ?? 0n) === ns;
    case "!=":
      return (m) => (m.timestamp ?? 0n) !== ns;
    case "<":
      return (m) => (m.timestamp ?? 0n) < ns;
    case "<=":
      return (m) => (m.timestamp ?? 0n) <= ns;
    case ">":
      return (m) => (m.timestamp ?? 0n) > ns;
    case ">=":
      return (m) => (m.timestamp ?? 0n) >= ns;
  }
  throw new Error(`unreachable: Timestamp ${op}`);
}

function numberTest(op: Operator, v: number): (x: number) => boolean {
  switch (op) {
    case "==":
      return (x) => x === v;
    case "!=":
      return (x) => x !== v;
    case "<":
      return (x) => x < v;
    case "<=":
      return (x) => x <= v;
    case ">":
      return (x) => x > v;
    case ">=":
      return (x) => x >= v;
  }
  throw new Error(`unreachable: number ${op}`);
}

function byOrder<T>(op: Operator, cmp: (x: T) => number): (x: T) => boolean {
  switch (op) {
    case "<":
      return (x) => cmp(x) < 0;
    case "<=":
      return (x) => cmp(x) <= 0;
    case ">":
      return (x) => cmp(x) > 0;
    case ">=":
      return (x) => cmp(x) >= 0;
  }
  throw new Error(`unreachable: ordering ${op}`);
}

/**
 * Heka's string comparison, on the UTF-8 bytes. A text without U+FFFD was
 * valid UTF-8, so its code point order is its byte order; only a text with
 * U+FFFD may need its wire bytes.
 */
function stringTest(op: Operator, v: string): TextTest {
  const hasReplacement = v.indexOf("\uFFFD") >= 0;
  if (op === "==") {
    // A text equal to a literal without U+FFFD has none, so was valid UTF-8.
    if (!hasReplacement) return (s) => s === v;
    return (s, h, slot) => s === v && (h === undefined || !wasInvalidUtf8(h, slot!, s));
  }
  if (op === "!=") {
    if (!hasReplacement) return (s) => s !== v;
    return (s, h, slot) => s !== v || (h !== undefined && wasInvalidUtf8(h, slot!, s));
  }
  const lit = utf8Encoder.encode(v);
  switch (op) {
    case "<":
      return (s, h, slot) => compareUtf8(s, v, lit, h, slot) < 0;
    case "<=":
      return (s, h, slot) => compareUtf8(s, v, lit, h, slot) <= 0;
    case ">":
      return (s, h, slot) => compareUtf8(s, v, lit, h, slot) > 0;
    case ">=":
      return (s, h, slot) => compareUtf8(s, v, lit, h, slot) >= 0;
  }
  throw new Error(`unreachable: ordering ${op}`);
}

/**
 * Orders `s` (the value in `slot` of `holder`) and the literal `v` (UTF-8
 * `lit`) by their UTF-8 bytes: by code point, which is the same for valid
 * UTF-8, unless `s` holds U+FFFD up to the first difference and was invalid
 * UTF-8 on the wire; then by the wire bytes.
 */
function compareUtf8(
  s: string,
  v: string,
  lit: Uint8Array,
  holder: HekaMessage | HekaField | undefined,
  slot: StringSlot | undefined,
): number {
  const n = s.length < v.length ? s.length : v.length;
  let replacement = false;
  let i = 0;
  for (; i < n; i++) {
    const x = s.charCodeAt(i);
    if (x === 0xfffd) replacement = true;
    if (x !== v.charCodeAt(i)) break;
  }
  if (replacement && holder !== undefined) return compareWire(s, v, lit, holder, slot!);
  return i < n ? codePointDiff(s.charCodeAt(i), v.charCodeAt(i)) : s.length - v.length;
}

/** {@link compareUtf8}'s rare path: `s` holds U+FFFD, maybe from invalid UTF-8. */
function compareWire(
  s: string,
  v: string,
  lit: Uint8Array,
  holder: HekaMessage | HekaField,
  slot: StringSlot,
): number {
  if (wasInvalidUtf8(holder, slot, s)) return compareBytes(wireBytesOf(holder, slot, s), lit);
  const n = s.length < v.length ? s.length : v.length;
  for (let i = 0; i < n; i++) {
    const x = s.charCodeAt(i), y = v.charCodeAt(i);
    if (x !== y) return codePointDiff(x, y);
  }
  return s.length - v.length;
}

/** Orders two different UTF-16 code units by the code points they belong to. */
function codePointDiff(x: number, y: number): number {
  if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
  if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
  return x - y;
}

function regexTest(op: Operator, test: StringTest): StringTest {
  return op === "!~" ? (s) => !test(s) : test;
}

function bytesTest(op: Operator, v: string): (b: Uint8Array) => boolean {
  const lit = utf8Encoder.encode(v);
  if (op === "==") return (b) => compareBytes(b, lit) === 0;
  if (op === "!=") return (b) => compareBytes(b, lit) !== 0;
  return byOrder(op, (b: Uint8Array) => compareBytes(b, lit));
}

/**
 * Finds the `fi`-th field called `name`. A name holding U+FFFD matches
 * only a field name that was valid UTF-8 (Heka compares the bytes).
 */
function fieldFinder(name: string, fi: number): Getter<HekaField | undefined> {
  const same: (f: HekaField) => boolean = name.indexOf("\uFFFD") < 0
    ? (f) => f.name === name
    : (f) => f.name === name && !wasInvalidUtf8(f, "name", f.name);
  if (fi === 0) {
    return (m) => {
      const fs = m.fields;
      for (let i = 0; i < fs.length; i++) if (same(fs[i])) return fs[i];
      return undefined;
    };
  }
  return (m) => {
    const fs = m.fields;
    let seen = 0;
    for (let i = 0; i < fs.length; i++) {
      if (same(fs[i]) && seen++ === fi) return fs[i];
    }
    return undefined;
  };
}

/** Orders two byte strings lexicographically. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}
