// Property tests of the message matcher: whatever the spec, compiling either
// succeeds or throws MatcherSyntaxError, quickly; compiled matchers never
// throw; && / || / parentheses compose as boolean logic.
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileMatcher, MatcherSyntaxError } from "../../services/heka/matcher/mod.ts";
import {
  type HekaField,
  type HekaMessage,
  newMessage,
  type ValueType,
} from "../../services/heka/message.ts";

const MAX_MS = 2000;

/** Compiles `spec`; returns undefined on MatcherSyntaxError, rethrows anything else. */
function tryCompile(spec: string) {
  const t0 = performance.now();
  try {
    return compileMatcher(spec);
  } catch (e) {
    if (!(e instanceof MatcherSyntaxError)) throw e;
    assert.match(e.message, /at column \d+ in spec: /);
    assert.ok(e.position >= 0 && e.position <= spec.length);
    return undefined;
  } finally {
    assert.ok(performance.now() - t0 < MAX_MS, `compiling took too long: ${spec}`);
  }
}

const NAMES = ["a", "foo", "status", "x.y-z", "Payload"];
const SHORT = fc.string({ maxLength: 12, unit: "binary" });

const fieldArb: fc.Arbitrary<HekaField> = fc.record({
  name: fc.constantFrom(...NAMES),
  valueType: fc.constantFrom(0, 1, 2, 3, 4, 7) as fc.Arbitrary<ValueType>,
  representation: fc.constant(""),
  valueString: fc.array(SHORT, { maxLength: 3 }),
  valueBytes: fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 3 }),
  valueInteger: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 3 }),
  valueDouble: fc.array(fc.double(), { maxLength: 3 }),
  valueBool: fc.array(fc.boolean(), { maxLength: 3 }),
});

const messageArb: fc.Arbitrary<HekaMessage> = fc.record({
  uuid: fc.option(fc.uint8Array({ minLength: 0, maxLength: 20 }), { nil: undefined }),
  timestamp: fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { nil: undefined }),
  type: fc.option(SHORT, { nil: undefined }),
  logger: fc.option(SHORT, { nil: undefined }),
  severity: fc.option(fc.integer({ min: -10, max: 10 }), { nil: undefined }),
  payload: fc.option(fc.string({ maxLength: 16, unit: "binary" }), { nil: undefined }),
  envVersion: fc.option(SHORT, { nil: undefined }),
  pid: fc.option(fc.integer(), { nil: undefined }),
  hostname: fc.option(SHORT, { nil: undefined }),
  fields: fc.array(fieldArb, { maxLength: 6 }),
});

/**
 * Quotes `s` as Heka's lexer reads it: only the quote character is escaped;
 * any other backslash stays with the character after it.
 */
function quote(s: string, q: "'" | '"'): string {
  return q + s.replaceAll(q, "\\" + q) + q;
}

/** Whether {@link quote} can write `s`: no line break or NUL, no backslash before a quote or at the end. */
function quotable(s: string): boolean {
  return !/[\n\0]|\\$|\\['"]/.test(s);
}

const REL = fc.constantFrom("==", "!=", "<", "<=", ">", ">=");
const REGEXES = [
  "^a",
  "b$",
  "(?i)x",
  ".",
  "[[:alpha:]]+",
  "\\d{2}",
  "\\pL",
  "a|b",
  "",
  "^$",
  "(?s)a.b",
  "\\x{1F600}",
];
const regexLit = fc.constantFrom(...REGEXES).map((r) => `/${r}/`);
const stringLit = fc.tuple(SHORT.filter(quotable), fc.constantFrom<"'" | '"'>("'", '"')).map((
  [s, q],
) => quote(s, q));
const numberLit = fc.oneof(
  fc.integer({ min: -20, max: 20 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
);
const fieldRef = fc.tuple(
  fc.constantFrom(...NAMES),
  fc.constantFrom("", "[0]", "[1]", "[0][1]", "[1][2]"),
).map(([n, idx]) => `Fields[${n}]${idx}`);

/** A syntactically valid single test. */
const testArb: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(
    fc.constantFrom("Type", "Logger", "Payload", "EnvVersion", "Hostname", "Uuid"),
    REL,
    stringLit,
  )
    .map((p) => p.join(" ")),
  fc.tuple(fc.constantFrom("Type", "Payload", "Hostname"), fc.constantFrom("=~", "!~"), regexLit)
    .map((p) => p.join(" ")),
  fc.tuple(fc.constantFrom("Severity", "Pid", "Timestamp"), REL, numberLit).map((p) => p.join(" ")),
  fc.tuple(REL, fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n })).map(([op, n]) =>
    `Timestamp ${op} ${n}`
  ),
  fc.tuple(fieldRef, REL, fc.oneof(stringLit, numberLit)).map((p) => p.join(" ")),
  fc.tuple(fieldRef, fc.constantFrom("==", "!="), fc.constantFrom("TRUE", "FALSE", "NIL")).map((
    p,
  ) => p.join(" ")),
  fc.tuple(fieldRef, fc.constantFrom("=~", "!~"), regexLit).map((p) => p.join(" ")),
  fc.constantFrom("TRUE", "FALSE"),
);

const TOKENS = [
  "Type",
  "Severity",
  "Timestamp",
  "Uuid",
  "Fields[a]",
  "Fields[a][1][0]",
  "Fields[",
  "==",
  "!=",
  "<",
  ">=",
  "=~",
  "!~",
  "=",
  "!",
  "&&",
  "||",
  "&",
  "|",
  "(",
  ")",
  "TRUE",
  "FALSE",
  "NIL",
  "'x'",
  '"y\\"z"',
  "'",
  '"',
  "/a+/",
  "/(?i)x/",
  "/[[:alpha:]]/",
  "/",
  "1",
  "-2.5",
  "1e9",
  ".",
  "-",
  "'2016-05-24T00:00:00Z'",
  "\\",
  "[",
  "]",
  "😀",
  " ",
];

const SEEDS = [
  'Type == "nginx.access" && Severity <= 4 && Fields[status] >= 500',
  "(Severity == 7 || Payload == 'Test Payload') && Type == 'test'",
  "Fields[foo][1][0] == 'alternate' || Fields[MyBool] == TRUE",
  "Fields[widget] != NIL && Payload =~ /^(?i)grüße \\p{L}+$/",
  'Timestamp >= "2016-05-24T00:00:00Z" && Timestamp < 1464134400000000000',
  "Hostname =~ /[[:alpha:]]+-\\d{2}\\.example\\.com$/ && Pid != 0",
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), len: fc.nat({ max: 6 }) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 3, unit: "binary" })),
  }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), to: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(spec: string, ms: Mutation[]): string {
  let s = spec;
  for (const m of ms) {
    const at = s.length === 0 ? 0 : m.at % (s.length + 1);
    if (m.kind === "delete") s = s.slice(0, at) + s.slice(at + m.len);
    else if (m.kind === "insert") s = s.slice(0, at) + m.text + s.slice(at);
    else if (s.length > 1) {
      const i = m.at % s.length, j = m.to % s.length;
      const a = [...s];
      [a[i], a[j]] = [a[j], a[i]];
      s = a.join("");
    }
  }
  return s;
}

const REGEX_ALPHABET = [..."()[]{}|*+?.^$\\-:,<>=!&/PpQEdswDSWbBAzxiUm0123456789aZ_ \n😀ß"];
const regexBody = fc.array(fc.constantFrom(...REGEX_ALPHABET), { maxLength: 14 }).map((a) =>
  a.join("")
);

function neverThrows(spec: string, msgs: HekaMessage[]): void {
  const m = tryCompile(spec);
  if (m === undefined) return;
  for (const msg of msgs) assert.equal(typeof m.matches(msg), "boolean");
}

const msgs = fc.array(messageArb, { minLength: 1, maxLength: 4 });

Deno.test("fuzz: random strings only ever raise MatcherSyntaxError", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80, unit: "binary" }), msgs, neverThrows),
    { numRuns: 1000 },
  );
});

Deno.test("fuzz: token soup only ever raises MatcherSyntaxError", () => {
  const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }).chain((ts) =>
    fc.constantFrom(" ", "").map((sep) => ts.join(sep))
  );
  fc.assert(fc.property(soup, msgs, neverThrows), { numRuns: 1500 });
});

Deno.test("fuzz: mutated valid specs only ever raise MatcherSyntaxError", () => {
  const mutated = fc.tuple(
    fc.constantFrom(...SEEDS),
    fc.array(mutation, { minLength: 1, maxLength: 4 }),
  )
    .map(([s, ms]) => mutate(s, ms));
  fc.assert(fc.property(mutated, msgs, neverThrows), { numRuns: 1500 });
});

Deno.test("fuzz: any RE2 pattern compiles to a valid JS RegExp or is rejected with a position", () => {
  fc.assert(
    fc.property(regexBody, msgs, (body, ms) => {
      const spec = `Payload =~ /${body}/`;
      try {
        const m = compileMatcher(spec);
        for (const msg of ms) assert.equal(typeof m.matches(msg), "boolean");
      } catch (e) {
        if (!(e instanceof MatcherSyntaxError)) throw e;
        // The translator must never emit something JS then refuses.
        assert.doesNotMatch(e.message, /unsupported regular expression/, spec);
      }
    }),
    { numRuns: 3000 },
  );
});

Deno.test("property: valid tests compile and compose as boolean logic", () => {
  fc.assert(
    fc.property(testArb, testArb, testArb, messageArb, (a, b, c, msg) => {
      const [ma, mb, mc] = [a, b, c].map((s) => compileMatcher(s).matches(msg));
      assert.equal(compileMatcher(`(${a}) && (${b})`).matches(msg), ma && mb);
      assert.equal(compileMatcher(`(${a}) || (${b})`).matches(msg), ma || mb);
      assert.equal(compileMatcher(`${a} || ${b} && ${c}`).matches(msg), ma || (mb && mc));
      assert.equal(compileMatcher(`${a} && ${b} || ${c}`).matches(msg), (ma && mb) || mc);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: quoted literals round-trip and headers compare as Heka's float64", () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 20, unit: "binary" }).filter(quotable),
      fc.constantFrom<"'" | '"'>("'", '"'),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.bigInt({ min: -1000n, max: 1000n }),
      (s, q, n, ts, delta) => {
        const msg: HekaMessage = { ...newMessage(), type: s, severity: n, pid: n, timestamp: ts };
        assert.ok(compileMatcher(`Type == ${quote(s, q)}`).matches(msg));
        assert.ok(compileMatcher(`Severity == ${n} && Pid <= ${n}`).matches(msg));
        assert.ok(compileMatcher(`Timestamp == ${ts}`).matches(msg));
        // Heka compares float64(Timestamp) with the literal, also for a
        // literal a few ns away or with a fraction.
        const t = Number(ts);
        for (const lit of [`${ts + delta}`, ts >= 0n ? `${ts}.5` : `-${-ts - 1n}.5`]) {
          const v = Number(lit);
          const ops: [string, boolean][] = [
            ["==", t === v],
            ["!=", t !== v],
            ["<", t < v],
            ["<=", t <= v],
            [">", t > v],
            [">=", t >= v],
          ];
          for (const [op, want] of ops) {
            assert.equal(
              compileMatcher(`Timestamp ${op} ${lit}`).matches(msg),
              want,
              `${ts} ${op} ${lit}`,
            );
          }
        }
      },
    ),
    { numRuns: 500 },
  );
});
