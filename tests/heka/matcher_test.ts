// The message matcher: a table of specs over a few messages, Heka's own
// positive/negative/malformed cases included, plus RE2 details JS differs on.
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../services/heka/codec.ts";
import {
  compileMatcher,
  matchAll,
  MatcherSyntaxError,
  type MessageMatcher,
} from "../../services/heka/matcher/mod.ts";
import {
  type HekaMessage,
  newField,
  newMessage,
  parseUuid,
  ValueType,
} from "../../services/heka/message.ts";

const UUID = "0f2c6a3e-9b1d-4c2e-8f00-123456789abc";
const TS = 1464048000000000000n; // 2016-05-24T00:00:00Z

function field(
  name: string,
  type: ValueType,
  ...values: (string | number | boolean | Uint8Array)[]
): ReturnType<typeof newField> {
  const f = newField(name, type);
  for (const v of values) {
    if (type === ValueType.STRING) f.valueString.push(v as string);
    else if (type === ValueType.BYTES) f.valueBytes.push(v as Uint8Array);
    else if (type === ValueType.INTEGER) f.valueInteger.push(v as number);
    else if (type === ValueType.DOUBLE) f.valueDouble.push(v as number);
    else f.valueBool.push(v as boolean);
  }
  return f;
}

/** Every header set, every field type, multi-value and repeated fields. */
function fullMessage(): HekaMessage {
  const m = newMessage();
  m.uuid = parseUuid(UUID);
  m.timestamp = TS;
  m.type = "nginx.access";
  m.logger = "GoSpec";
  m.severity = 6;
  m.payload = "Grüße 😀 Test Payload";
  m.envVersion = "0.8";
  m.pid = 4242;
  m.hostname = "web-01.example.com";
  const S = ValueType.STRING;
  m.fields = [
    field("foo", S, "bar", "baz"),
    field("bytes", ValueType.BYTES, new TextEncoder().encode("data")),
    field("int", ValueType.INTEGER, 999, 1024),
    field("double", ValueType.DOUBLE, 99.9),
    field("bool", ValueType.BOOL, true),
    field("flag", ValueType.BOOL, false),
    field("foo", S, "alternate"),
    field("status", ValueType.INTEGER, 503),
    field("http.status-code", ValueType.INTEGER, 200),
    field("with space", S, "x"),
    field("zero", ValueType.INTEGER, 0),
    field("string", S, "43"),
    field("empty", S),
    field("Payload", S, "name=test;type=web;"),
    field("greek", S, "αβγ"),
    field("created", S, "Mon Jan 02 15:04:05 -0700 2006"),
    field("quote", S, `it's "quoted"`),
    field("path", S, "/var/log/nginx"),
    field("neg", ValueType.INTEGER, -5),
    field("emoji", S, "a😀"),
    field("mix", S, "1😀a"),
  ];
  return m;
}

/** Line breaks and whitespace JS regexes treat differently from RE2. */
function textMessage(): HekaMessage {
  const m = newMessage();
  m.payload = "one\r\ntwo\u000bthree";
  m.logger = "\u212a"; // KELVIN SIGN, folds to k
  return m;
}

const MESSAGES: Record<string, () => HekaMessage> = {
  full: fullMessage,
  empty: newMessage,
  text: textMessage,
};

type Case = [spec: string, message: keyof typeof MESSAGES, expected: boolean];

const CASES: Case[] = [
  // constants, precedence, grouping, whitespace
  ["TRUE", "empty", true],
  ["FALSE", "full", false],
  ["TRUE || FALSE && FALSE", "empty", true],
  ["(TRUE || FALSE) && FALSE", "empty", false],
  ['Type == "x" || Severity == 6 && Pid == 4242', "full", true],
  ['Type == "x" && Severity == 6 || Pid == 4242', "full", true],
  ['(Type == "x" || Severity == 6) && Pid == 1', "full", false],
  ['Type == "x" || Severity == 6 && Pid == 1', "full", false],
  ["((((Severity == 6))))", "full", true],
  ['  Type=="nginx.access"&&Severity==6\t|| FALSE  \n', "full", true], // a trailing line break is a blank
  ["(Severity == 7 || Payload == 'Test Payload') && Type == 'nginx.access'", "full", false],
  // string headers, both quote kinds, all relational operators
  ['Type == "nginx.access"', "full", true],
  ["Type == 'nginx.access'", "full", true],
  ['Type == "NGINX.access"', "full", false],
  ['Type != "nginx"', "full", true],
  ['Type > "nginx"', "full", true],
  ['Type >= "nginx.access"', "full", true],
  ['Type < "nginy"', "full", true],
  ['Type <= "nginx.access"', "full", true],
  ['Type < "nginx.access"', "full", false],
  ["Logger == 'GoSpec'", "full", true],
  ["EnvVersion == '0.8' && EnvVersion < '0.9' && EnvVersion > \"0.7\"", "full", true],
  ["EnvVersion >= '0.9'", "full", false],
  [`Hostname =~ /^web-\\d+\\.example\\.com$/`, "full", true],
  [`Uuid == "${UUID}"`, "full", true],
  [`Uuid == "${UUID.toUpperCase()}"`, "full", false],
  ["Uuid =~ /^0f2c6a3e-/", "full", true],
  ['Uuid != ""', "full", true],
  [`Uuid != "${UUID}"`, "full", false],
  [`Uuid < "${UUID.slice(0, -1)}d"`, "full", true],
  // regexes: anchors, literals, negation
  ["Type =~ /^nginx/", "full", true],
  ["Type =~ /access$/", "full", true],
  ["Type =~ /^access/", "full", false],
  ["Type !~ /nginx/", "full", false],
  ["Type !~ /^NGINX/", "full", true],
  ["Type =~ /nginx\\.a/", "full", true],
  ["Type =~ /(ngi)nx/ && Payload =~ /Payload/", "full", true],
  // unicode payload "Grüße 😀 Test Payload"
  ["Payload =~ /Grüße/", "full", true],
  ["Payload =~ /^\\p{L}{5} \\p{So} /", "full", true],
  ["Payload =~ /^.{7} Test/", "full", true], // the emoji is one character
  ["Payload =~ /^.{8} Test/", "full", false],
  ["Payload =~ /\\x{1F600}/", "full", true],
  ["Payload =~ /(?i)grÜße/", "full", true],
  ["Payload =~ /(?i)test payload$/", "full", true],
  ["Payload =~ /test payload/", "full", false],
  ["Payload =~ /(?i:TEST) Payload/", "full", true],
  ["Payload =~ /(?i:TEST) PAYLOAD/", "full", false],
  ["Payload =~ /\\QTest Payload\\E$/", "full", true],
  ["Payload =~ /(?P<word>Test) (?<w2>Payload)/", "full", true],
  ["Payload =~ /[[:alpha:]]{4} [[:upper:]]/", "full", true],
  ["Payload > 'Grüße'", "full", true],
  ["Payload > 'Grüße ～'", "full", true], // U+1F600 sorts after U+FF5E by code point
  ["Payload <= 'Grüße ～'", "full", false],
  // numeric headers
  ["Severity == 6", "full", true],
  ["Severity <= 6", "full", true],
  ["Severity > 5.5", "full", true],
  ["Severity != 7", "full", true],
  ["Severity >= -1", "full", true],
  ["Severity == 7", "full", false],
  ["Severity < 6", "full", false],
  ["Pid == 4242", "full", true],
  ["Pid > 4241.999", "full", true],
  ["Pid != 4242", "full", false],
  // Timestamp: as a float64, like Heka (1464048000000000000 ± 1 is the same
  // float64); RFC 3339 strings (an extension) exactly, in ns
  [`Timestamp == ${TS}`, "full", true],
  [`Timestamp > ${TS}`, "full", false],
  ["Timestamp == 1.464048e18", "full", true],
  ["Timestamp > 1.464e18", "full", true],
  [`Timestamp != ${TS + 1n}`, "full", false],
  [`Timestamp == ${TS + 1n}`, "full", true],
  [`Timestamp > ${TS - 1n}.5`, "full", false],
  [`Timestamp < ${TS}.5`, "full", false],
  [`Timestamp == ${TS}.5`, "full", true],
  [`Timestamp == ${TS + 256n}`, "full", false],
  ['Timestamp >= "2016-05-24T00:00:00Z"', "full", true],
  ['Timestamp < "2016-05-24T00:00:00.000000001Z"', "full", true],
  ['Timestamp < "2016-05-24T00:00:00Z"', "full", false],
  ['Timestamp == "2016-05-24T02:00:00+02:00"', "full", true],
  // Fields: strings, multi-value (ai), repeated names (fi)
  ["Fields[foo] == 'bar'", "full", true],
  ["Fields[foo][0] == 'bar'", "full", true],
  ["Fields[foo][0][0] == 'bar'", "full", true],
  ["Fields[foo][0][1] == 'baz'", "full", true],
  ["Fields[foo] == 'baz'", "full", false],
  ["Fields[foo][1] == 'alternate'", "full", true],
  ["Fields[foo][1][0] =~ /^alt/", "full", true],
  ["Fields[foo][1] == 'bar'", "full", false],
  ["Fields[foo][0][2] == 'bar'", "full", false],
  ["Fields[foo] == 'ba'", "full", false],
  ["Fields[foo] >= 'bar' && Fields[foo] < 'bas'", "full", true],
  // bytes
  ["Fields[bytes] == 'data'", "full", true],
  ["Fields[bytes] =~ /^da/", "full", true],
  ["Fields[bytes] =~ /d.t/", "full", true],
  ["Fields[bytes] < 'datb'", "full", true],
  ["Fields[bytes] != 'data'", "full", false],
  // integers and doubles
  ["Fields[int] == 999", "full", true],
  ["Fields[int][0][1] == 1024", "full", true],
  ["Fields[int] < 1000.5", "full", true],
  ["Fields[neg] == -5 && Fields[neg] < -4.5", "full", true],
  ["Fields[double] == 99.9", "full", true],
  ["Fields[double] > 99", "full", true],
  ["Fields[double] == 99.90001", "full", false],
  ["Fields[status] >= 500", "full", true],
  ["Fields[http.status-code] == 200", "full", true],
  ["Fields[with space] == 'x'", "full", true],
  // booleans
  ["Fields[bool] == TRUE", "full", true],
  ["Fields[flag] == FALSE", "full", true],
  ["Fields[bool] != FALSE", "full", true],
  ["Fields[bool] == FALSE", "full", false],
  ["Fields[flag] == TRUE", "full", false],
  // existence
  ["Fields[int] != NIL", "full", true],
  ["Fields[int][0][1] != NIL", "full", true],
  ["Fields[int][0][2] == NIL", "full", true],
  ["Fields[foo][2] == NIL", "full", true],
  ["Fields[empty] == NIL", "full", true],
  ["Fields[missing] == NIL", "full", true],
  ["Fields[int] == NIL", "full", false],
  ["Fields[bool] == NIL", "full", false],
  ["Fields[missing] != NIL", "full", false],
  // type mismatches and missing values are false, whatever the operator
  ["Fields[int] =~ /999/", "full", false],
  ["Fields[int] == '999'", "full", false],
  ['Fields[zero] == "0"', "full", false],
  ["Fields[string] == 43", "full", false],
  ["Fields[int] != 'x'", "full", false],
  ["Fields[bool] == 1", "full", false],
  ["Fields[int] == TRUE", "full", false],
  ["Fields[missing] != 'x'", "full", false],
  ["Fields[missing] !~ /x/", "full", false],
  // quotes and escapes
  [`Fields[quote] == 'it\\'s "quoted"'`, "full", true],
  [`Fields[quote] == "it's \\"quoted\\""`, "full", true],
  ["Fields[path] =~ /^\\/var\\/log\\//", "full", true],
  ["Fields[Payload] =~ /name=\\w+/", "full", true],
  ["Fields[greek] =~ /^\\p{Greek}+$/", "full", true],
  ["Fields[greek] =~ /\\p{Latin}/", "full", false],
  // Heka's matcher has no %TIMESTAMP% helper: it is literal text.
  ["Fields[created] =~ /%TIMESTAMP%/", "full", false],
  // absent headers: "" / Severity 7 / Pid 0 / Timestamp 0
  ["Severity == 7", "empty", true],
  ["Pid == 0", "empty", true],
  ["Hostname == ''", "empty", true],
  ["Type == \"\" && Logger == '' && EnvVersion == ''", "empty", true],
  ["Timestamp == 0", "empty", true],
  ['Uuid == ""', "empty", true],
  ["Payload =~ /^$/", "empty", true],
  ["Payload !~ /./", "empty", true],
  ["Fields[foo] == NIL", "empty", true],
  ["Severity != 7", "empty", false],
  ["Hostname != ''", "empty", false],
  ["Fields[foo] != 'bar'", "empty", false],
  // RE2 details: "one\r\ntwo\vthree"
  ["Payload =~ /one.\\n/", "text", true], // . matches \r in RE2
  ["Payload =~ /(?m)one$/", "text", false], // multi-line $ is only before \n
  ["Payload =~ /(?m)^two/", "text", true],
  ["Payload =~ /two\\sthree/", "text", false], // \s lacks \v in RE2
  ["Payload =~ /two\\Sthree/", "text", true],
  ["Payload =~ /two[[:space:]]three/", "text", true],
  ["Payload =~ /\\Aone/ && Payload =~ /three\\z/", "text", true],
  ["Payload =~ /one\\z/", "text", false],
  ["Payload =~ /one.*three/", "text", false],
  ["Payload =~ /(?s)one.*three/", "text", true],
  ["Payload =~ /(?i)TWO/", "text", true],
  ["Payload =~ /(?i)ONE(?-i)\\r\\nTWO/", "text", false],
  ["Payload =~ /(?i)ONE(?-i)\\r\\ntwo/", "text", true],
  ["Logger =~ /(?i)k/", "text", true],
  ["Logger =~ /(?i)\\W/", "text", false],
  // V8 quirks the translation works around
  ["Fields[emoji] =~ /[😀]$/", "full", true], // `u` mode misses this one
  ["Fields[emoji] =~ /(?i)A[\\x{1F600}-\\x{1F64F}]$/", "full", true],
  ["Fields[mix] =~ /\\B/", "full", false], // not between the halves of 😀
  ["Fields[mix] =~ /(?m)^$/", "full", false],
  ["Fields[foo][1] =~ /(?i)al(?-i:t)[E]/", "full", true], // class after a modifier group
  ["Payload =~ /x|(?i:\\p{Ll}E)/", "full", true], // literal after \p{…} in a modifier group
  ["Logger =~ /(?i)\\bk/", "text", false], // \b stays ASCII under (?i)
];

// [spec, 1-based column of the error]
const MALFORMED: [string, number][] = [
  ["", 1],
  ["   ", 1],
  ["bogus", 1],
  ["type == 'x'", 1],
  ["Invalid == 'bogus'", 1],
  ["NIL", 1],
  ["()", 2],
  ["Type = 'test'", 6],
  ["Type 'x'", 6],
  ["TRUE FALSE", 6],
  ["Pid == 'test='", 8],
  ["Type == 'test' && (Severity==7 || Payload == 'Test Payload'", 60],
  ["(Type == 'x'", 13],
  ["Type == 'x')", 12],
  ["Type == 'x' &&", 15],
  ["Type == 'x' || || TRUE", 16],
  ["Type == 'x' & Severity == 1", 13],
  ["Type == 'a' &&& TRUE", 15],
  ["Fields[x] == 1 2", 16],
  ["Fields[]", 7],
  ["Fields [x] == 1", 7],
  ["Fields[test][]", 14],
  ["Fields[test][a]", 14],
  ["Fields[test][0][]", 17],
  ["Fields[test][0][a]", 17],
  ["Fields[test][0][0][]", 19],
  ["Fields[test][xxxx", 14],
  ["Fields[test", 7],
  ["Pid =~ /6/", 5],
  ["Pid !~ /6/", 5],
  ["Pid =~ 6", 5],
  ["Type =~ /test", 9],
  ["Type == /test/", 9],
  ["Type =~ 'test'", 9],
  ["Type != 'test\"", 9],
  ["Type == NIL", 9],
  ["Uuid == 1", 9],
  ["Fields[test] > NIL", 14],
  ["Fields[test] < TRUE", 14],
  ["Fields[x] =~ 'x'", 14],
  ["Severity == 1.2.3", 13],
  ["Severity == 0x10", 13],
  ["Severity == 'x'", 13],
  ["Timestamp >= 'yesterday'", 14],
  ["Timestamp >= '2016-13-01T00:00:00Z'", 14],
  ["Type =~ /a/i", 12],
  ["Type =~ /\\ytest/", 10],
  ["Type =~ /a{1001}/", 11],
  ["Type =~ /(a{100}){100}/", 18],
  ["Type =~ /(?=x)/", 10],
  ["Type =~ /a**/", 12],
  ["Type =~ /\\1/", 10],
  ["Type =~ /[[:bogus:]]/", 11],
  ["Type =~ /\\p{Klingon}/", 10],
  ["Type =~ /(a/", 10],
  ["Type =~ /a)/", 11],
  ["Type =~ /[z-a]/", 11],
  ["Type =~ /x{2,1}/", 11],
  ["Type =~ /*a/", 10],
  ["Type =~ /a\\/", 9],
  ["Type =~ /%TIMESTAMP%(/", 21],
  ['Type == "😀😀" && #', 17], // columns count code points
  ["(".repeat(300) + "TRUE" + ")".repeat(300), 257],
];

function check(specs: Case[], build: (name: string) => HekaMessage): string[] {
  const failures: string[] = [];
  for (const [spec, name, expected] of specs) {
    let got: boolean | string;
    try {
      got = compileMatcher(spec).matches(build(name));
    } catch (e) {
      got = String(e);
    }
    if (got !== expected) failures.push(`${name}: ${spec} → ${got}, want ${expected}`);
  }
  return failures;
}

Deno.test("matcher table: positive and negative specs", () => {
  assert.ok(CASES.length + MALFORMED.length >= 90);
  assert.ok(CASES.some((c) => c[2]) && CASES.some((c) => !c[2]));
  assert.deepEqual(check(CASES, (n) => MESSAGES[n]()), []);
});

Deno.test("matcher table: same answers on messages decoded from the wire", () => {
  const decoded = Object.fromEntries(
    Object.entries(MESSAGES).map(([n, make]) => [n, decodeMessage(encodeMessage(make()))]),
  );
  assert.deepEqual(check(CASES, (n) => decoded[n]), []);
});

Deno.test("matcher table: malformed specs throw MatcherSyntaxError naming the column", () => {
  const failures: string[] = [];
  for (const [spec, column] of MALFORMED) {
    try {
      compileMatcher(spec);
      failures.push(`${spec}: compiled`);
    } catch (e) {
      if (!(e instanceof MatcherSyntaxError)) {
        failures.push(`${spec}: threw ${e}`);
        continue;
      }
      const m = /at column (\d+) in spec: /.exec(e.message);
      if (m === null || Number(m[1]) !== column || e.column !== column) {
        failures.push(`${spec}: want column ${column}, got: ${e.message}`);
      }
      if (e.spec !== spec) failures.push(`${spec}: spec is ${JSON.stringify(e.spec)}`);
    }
  }
  assert.deepEqual(failures, []);
});

Deno.test("MatcherSyntaxError says what was expected", () => {
  const err = assert.throws(
    () => compileMatcher('Type == "x" && && Severity == 1'),
    (e: unknown) => {
      assert.ok(e instanceof MatcherSyntaxError);
      assert.equal(e.name, "MatcherSyntaxError");
      assert.equal(e.position, 15);
      assert.equal(e.column, 16);
      assert.equal(
        e.message,
        'unexpected token "&&" at column 16 in spec: Type == "x" && && Severity == 1; ' +
          'expected a variable such as Type or Fields[name], TRUE, FALSE or "("',
      );
      return true;
    },
  );
  assert.equal(err, undefined);
  assert.throws(() => compileMatcher(""), /empty matcher spec at column 1/);
  assert.throws(
    () => compileMatcher("Type =~ /[a/"),
    /invalid regular expression .*missing closing \]/,
  );
  assert.throws(() => compileMatcher("Severity =="), /unexpected end of spec.*expected a number/);
});

Deno.test("compiled matchers keep their spec; matchAll matches everything", () => {
  const spec = 'Type == "nginx.access" && Severity <= 4 && Fields[status] >= 500';
  const m: MessageMatcher = compileMatcher(spec);
  assert.equal(m.spec, spec);
  const msg = fullMessage();
  assert.equal(m.matches(msg), false); // severity 6
  msg.severity = 3;
  assert.equal(m.matches(msg), true);
  assert.equal(matchAll.spec, "TRUE");
  assert.equal(matchAll.matches(newMessage()), true);
  assert.ok(Object.isFrozen(m));
});

Deno.test("field values of an unexpected shape never throw", () => {
  const msg = newMessage();
  const odd = newField("odd", 7 as ValueType); // unknown type: every test is false, as in Heka
  odd.valueString.push("v");
  msg.fields.push(odd);
  assert.equal(compileMatcher("Fields[odd] == 'v'").matches(msg), false);
  assert.equal(compileMatcher("Fields[odd] == 1").matches(msg), false);
  assert.equal(compileMatcher("Fields[odd] == NIL").matches(msg), false);
  assert.equal(compileMatcher("Fields[odd] != NIL").matches(msg), false);
  msg.uuid = new Uint8Array([1, 2, 3]); // not 16 bytes: reads as "", as Heka's GetUuidString
  assert.equal(compileMatcher("Uuid == '010203'").matches(msg), false);
  assert.equal(compileMatcher("Uuid == ''").matches(msg), true);
});
