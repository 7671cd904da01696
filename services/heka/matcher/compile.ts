/**
 * Turns a matcher AST into one closure per node, once. Evaluating a
 * compiled matcher reads the message, compares, and allocates nothing
 * (except a formatted UUID for `Uuid` tests and a decoded string for a
 * regex on a bytes field); it never throws.
 *
 * Semantics are Heka's (`message_matcher.go`):
 * - absent headers read as `""`, Severity as 7, Pid and Timestamp as 0;
 * - strings order by code point (Go's byte order of UTF-8), bytes fields
 *   compare as raw bytes against the literal's UTF-8;
 * - a field test on a missing field, field index or array index is false,
 *   except `== NIL`; a literal of another type than the field (a number
 *   against a string field, TRUE against an integer field, …) is false,
 *   whatever the operator, `!=` and `!~` included;
 * - Timestamp compares exactly, in integer ns, against the literal.
 *
 * @module
 */
import { formatUuid, type HekaField, type HekaMessage, parseUuid, ValueType } from "../message.ts";
import type { HeaderName, Operator } from "./lexer.ts";
import type { Node, TestNode } from "./parser.ts";
import type { StringTest } from "./regex.ts";

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
        if (target.name === "Uuid" && (op === "==" || op === "!=")) {
          const eq = uuidEquals(value.value);
          return op === "==" ? (m) => eq(m.uuid) : (m) => !eq(m.uuid);
        }
        return stringHeader(target.name, stringTest(op, value.value));
      case "regex":
        return stringHeader(target.name, regexTest(op, value.test));
      case "number":
        return numericHeader(target.name, op, value.value);
      case "time":
        return timestampTest(op, value.floor, value.ceil);
    }
    throw new Error(`unreachable: ${target.name} ${op} ${value.kind}`);
  }
  const find = fieldFinder(target.name, target.fieldIndex);
  const ai = target.arrayIndex;
  switch (value.kind) {
    case "nil":
      return op === "==" ? (m) => !hasValue(find(m), ai) : (m) => hasValue(find(m), ai);
    case "bool": {
      const want = op === "==" ? value.value : !value.value;
      return (m) => {
        const f = find(m);
        if (f === undefined || f.valueType !== ValueType.BOOL) return false;
        const a = f.valueBool;
        return ai < a.length && a[ai] === want;
      };
    }
    case "number": {
      const test = numberTest(op, value.value);
      return (m) => {
        const f = find(m);
        if (f === undefined) return false;
        const a = f.valueType === ValueType.INTEGER
          ? f.valueInteger
          : f.valueType === ValueType.DOUBLE
          ? f.valueDouble
          : undefined;
        return a !== undefined && ai < a.length && test(a[ai]);
      };
    }
    case "string":
      return stringField(find, ai, stringTest(op, value.value), bytesTest(op, value.value));
    case "regex": {
      const test = regexTest(op, value.test);
      return stringField(find, ai, test, (b) => test(utf8.decode(b)));
    }
  }
  throw new Error(`unreachable: Fields ${op} ${value.kind}`);
}

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

type Getter<T> = (m: HekaMessage) => T;

function stringHeader(name: HeaderName, test: StringTest): Predicate {
  switch (name) {
    case "Uuid":
      return (m) => test(formatUuid(m.uuid));
    case "Type":
      return (m) => test(m.type ?? "");
    case "Logger":
      return (m) => test(m.logger ?? "");
    case "Payload":
      return (m) => test(m.payload ?? "");
    case "EnvVersion":
      return (m) => test(m.envVersion ?? "");
    case "Hostname":
      return (m) => test(m.hostname ?? "");
  }
  throw new Error(`unreachable: ${name} is not a string header`);
}

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `formatUuid(u) === v`, comparing bytes instead of formatting when it can. */
function uuidEquals(v: string): (u: Uint8Array | undefined) => boolean {
  if (v === "") return (u) => u === undefined || u.length === 0;
  if (!CANONICAL_UUID.test(v)) return (u) => formatUuid(u) === v;
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

function timestampTest(op: Operator, floor: bigint, ceil: bigint): Predicate {
  const integral = floor === ceil;
  switch (op) {
    case "==":
      return integral ? (m) => (m.timestamp ?? 0n) === floor : NEVER;
    case "!=":
      return integral ? (m) => (m.timestamp ?? 0n) !== floor : ALWAYS;
    case "<":
      return (m) => (m.timestamp ?? 0n) < ceil;
    case "<=":
      return (m) => (m.timestamp ?? 0n) <= floor;
    case ">":
      return (m) => (m.timestamp ?? 0n) > floor;
    case ">=":
      return (m) => (m.timestamp ?? 0n) >= ceil;
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

function stringTest(op: Operator, v: string): StringTest {
  if (op === "==") return (s) => s === v;
  if (op === "!=") return (s) => s !== v;
  return byOrder(op, (s: string) => compareCodePoints(s, v));
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

function stringField(
  find: Getter<HekaField | undefined>,
  ai: number,
  test: StringTest,
  testBytes: (b: Uint8Array) => boolean,
): Predicate {
  return (m) => {
    const f = find(m);
    if (f === undefined) return false;
    switch (f.valueType) {
      case ValueType.BYTES: {
        const a = f.valueBytes;
        return ai < a.length && testBytes(a[ai]);
      }
      case ValueType.INTEGER:
      case ValueType.DOUBLE:
      case ValueType.BOOL:
        return false;
      default: {
        const a = f.valueString;
        return ai < a.length && test(a[ai]);
      }
    }
  };
}

function fieldFinder(name: string, fi: number): Getter<HekaField | undefined> {
  if (fi === 0) {
    return (m) => {
      const fs = m.fields;
      for (let i = 0; i < fs.length; i++) if (fs[i].name === name) return fs[i];
      return undefined;
    };
  }
  return (m) => {
    const fs = m.fields;
    let seen = 0;
    for (let i = 0; i < fs.length; i++) {
      if (fs[i].name === name && seen++ === fi) return fs[i];
    }
    return undefined;
  };
}

function hasValue(f: HekaField | undefined, ai: number): boolean {
  if (f === undefined) return false;
  switch (f.valueType) {
    case ValueType.BYTES:
      return ai < f.valueBytes.length;
    case ValueType.INTEGER:
      return ai < f.valueInteger.length;
    case ValueType.DOUBLE:
      return ai < f.valueDouble.length;
    case ValueType.BOOL:
      return ai < f.valueBool.length;
    default:
      return ai < f.valueString.length;
  }
}

/**
 * Orders two strings by code point, which is the byte order of their UTF-8
 * (Go's string order). UTF-16 order differs only between surrogates and
 * U+E000..U+FFFF, which the shift below swaps.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
      if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Orders two byte strings lexicographically. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}
