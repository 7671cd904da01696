// The matcher against Heka's own verdicts (issue 12).
//
// matcher_heka_vectors.json holds messages (protobuf bytes) and specs with
// what Heka's real Go matcher did with them: accepted or rejected the spec,
// and which messages it selected. How it was made is in its "about" field.
// The messages mix every field type, repeated values, invalid UTF-8
// (e2 82, ed a0 80, ff, …), non-BMP characters, int64 extremes, timestamps
// within a few hundred ns of 1.5e18, bool and string fields named ok, flag,
// path and s.
//
// Every spec Heka accepts must give exactly Heka's matches, except the
// malformed ones Heka happens to accept (REFUSED), which must be refused
// with a clear error; every spec Heka rejects must be rejected, except our
// documented extensions (EXTENSIONS). The same verdicts hold through the
// receivers' MessageGate and through `deno task heka-cat --match`.
import assert from "node:assert/strict";
import { decodeMessage, validateMessage } from "../../services/heka/codec.ts";
import { frameMessages } from "../../services/heka/framing.ts";
import { JsonLineWriter } from "../../services/heka/json.ts";
import { compileMatcher, MatcherSyntaxError } from "../../services/heka/matcher/mod.ts";
import { MessageGate } from "../../services/receiver/gate.ts";
import { repoPath } from "../../testing/mod.ts";

interface Vectors {
  about: string;
  messages: { protobuf: string; description: string }[];
  specs: { spec: string; heka: "accepts" | "rejects"; hekaLogged?: string; matches: number[] }[];
}

const vectors: Vectors = JSON.parse(
  await Deno.readTextFile(new URL("./matcher_heka_vectors.json", import.meta.url)),
);
const wire = vectors.messages.map((m) => Uint8Array.from(atob(m.protobuf), (c) => c.charCodeAt(0)));
const messages = wire.map((b) => decodeMessage(b));

/** Specs Heka accepts with a meaning nobody intends; we refuse them (reason as a pattern). */
const REFUSED: Record<string, RegExp> = {
  // Juxtaposed expressions: Heka silently keeps the last one.
  "TRUE FALSE": /unexpected token "FALSE"/,
  "FALSE TRUE": /unexpected token "TRUE"/,
  "Type == 'a' Severity == 3": /unexpected token "Severity"/,
  "Type == 'test' Type == 'abc'": /unexpected token "Type"/,
  // Malformed numbers: Heka logs an error and compares with 0.
  "Severity == 1.2.3": /malformed number "1\.2\.3"/,
  "Severity == 1-2": /malformed number "1-2"/,
  "Severity == 1e": /malformed number "1e"/,
  "Pid == .": /malformed number "\."/,
  "Severity == 1e999": /number "1e999" out of range/,
  "Severity < 1e999": /number "1e999" out of range/,
  "Severity == 1E5": /malformed number "1E5"/, // Heka: Severity == 1, then "E" ends the spec
  // Heka's lexer reads a lone & or |, an unknown word, a malformed
  // Fields[…] or an invalid regex as the end of the spec.
  "TRUE &": /unexpected character "&"/,
  "TRUE |": /unexpected character "\|"/,
  "Type == 'test' Bogus": /unknown variable "Bogus"/,
  "Type == 'test' Fields": /expected "\[" right after Fields/,
  "TRUE Fields[a][x]": /malformed field index/,
  "Type == 'test' /(/": /unexpected token "\/\(\/"/,
  // Heka stops reading at a line break or NUL and ignores the rest.
  "Type == 'test'\n|| TRUE": /line break in spec/,
  "Type == 'test'\u0000|| TRUE": /NUL character in spec/,
  "TRUE\u0000 garbage": /NUL character in spec/,
};

/** Specs Heka rejects that we accept on purpose (README, "Matcher compatibility"). */
const EXTENSIONS = new Set([
  // negative numbers
  "Severity == -1",
  "Severity == -6",
  "Pid == -1",
  "Pid <= -2147483648",
  "Timestamp == -1",
  "Timestamp <= -9223372036854775808",
  "Fields[n] == -9223372036854775808",
  "Fields[n] < -9223372036854775807",
  "Fields[n][2] == -5",
  "Fields[d] < -1e308",
  // Timestamp against a quoted RFC 3339 time
  "Timestamp > '2017-07-14T02:40:00Z'",
  "Timestamp == '2017-07-14T02:40:00Z'",
  // != TRUE / != FALSE
  "Fields[ok] != TRUE",
  "Fields[ok] != FALSE",
  "Fields[x] != TRUE",
  "Fields[x] != FALSE",
]);

function selected(spec: string): number[] {
  const m = compileMatcher(spec);
  return messages.flatMap((msg, i) => (m.matches(msg) ? [i] : []));
}

function refusal(spec: string): MatcherSyntaxError | undefined {
  try {
    compileMatcher(spec);
    return undefined;
  } catch (e) {
    if (e instanceof MatcherSyntaxError) return e;
    throw e;
  }
}

Deno.test("Heka vectors: the corpus is what the tests below rely on", () => {
  assert.ok(vectors.about.includes("Heka"));
  assert.ok(messages.length >= 60 && vectors.specs.length >= 400);
  for (const spec of [...Object.keys(REFUSED), ...EXTENSIONS]) {
    assert.ok(vectors.specs.some((s) => s.spec === spec), `vectors lack ${JSON.stringify(spec)}`);
  }
  for (const s of vectors.specs) {
    if (s.spec in REFUSED) assert.equal(s.heka, "accepts", s.spec);
    if (EXTENSIONS.has(s.spec)) assert.equal(s.heka, "rejects", s.spec);
  }
});

Deno.test("Heka vectors: every spec Heka accepts selects exactly Heka's messages", () => {
  const wrong: string[] = [];
  let checked = 0;
  for (const s of vectors.specs) {
    if (s.heka !== "accepts" || s.spec in REFUSED) continue;
    checked++;
    try {
      const ours = selected(s.spec);
      if (JSON.stringify(ours) !== JSON.stringify(s.matches)) {
        wrong.push(`${JSON.stringify(s.spec)}: Heka ${s.matches}, ours ${ours}`);
      }
    } catch (e) {
      wrong.push(`${JSON.stringify(s.spec)}: Heka accepts, we throw ${(e as Error).message}`);
    }
  }
  assert.deepEqual(wrong, []);
  assert.ok(checked > 350, `only ${checked} specs checked`);
});

Deno.test("Heka vectors: malformed specs Heka happens to accept are refused with a clear error", () => {
  for (const [spec, reason] of Object.entries(REFUSED)) {
    const e = refusal(spec);
    assert.ok(e, `${JSON.stringify(spec)} compiled`);
    assert.match(e.message, reason);
    assert.match(e.message, /at column \d+ in spec: /);
  }
});

Deno.test("Heka vectors: specs Heka rejects are rejected, apart from the documented extensions", () => {
  const wrong: string[] = [];
  for (const s of vectors.specs) {
    if (s.heka !== "rejects") continue;
    const e = refusal(s.spec);
    if (EXTENSIONS.has(s.spec) ? e !== undefined : e === undefined) {
      wrong.push(`${JSON.stringify(s.spec)}: ${e ? e.message : "accepted"}`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("Heka vectors: the six cases of issue 12, spelled out", () => {
  const heka = (spec: string) => {
    const s = vectors.specs.find((v) => v.spec === spec);
    assert.ok(s, `vectors lack ${JSON.stringify(spec)}`);
    return s.matches;
  };
  const cases = [
    // 1. invalid UTF-8: raw bytes, one U+FFFD per invalid byte in regexes
    "Payload =~ /^.$/",
    "Payload =~ /^[^a]$/",
    "Payload =~ /^\\x{FFFD}{2}$/",
    "Payload == '\uFFFD'",
    "Fields[blob] =~ /^\\x{FFFD}{2}$/",
    "Fields[s] == '\uFFFD'",
    "Logger =~ /^...$/",
    // 2. string order is UTF-8 byte order
    "Payload > '😀'",
    "Payload < 'ｚ'",
    // 3. quoted strings keep \\ as two characters
    "Payload == 'C:\\\\dir'",
    "Fields[path] == 'C:\\\\dir'",
    // 4. Timestamp as float64
    "Timestamp == 1500000000000000000",
    "Timestamp > 1500000000000000000",
    "Timestamp >= 1500000000000000000",
    "Timestamp < 1500000000000000000",
    "Timestamp <= 1500000000000000000",
    // 5. TRUE/FALSE against fields
    "Fields[ok] == 'x'",
    "Fields[ok] == 1",
    "Fields[ok] =~ /./",
    "Fields[ok] != 'x'",
    "Fields[flag] > 5",
    "Fields[path] == TRUE",
    "Fields[s] == FALSE",
  ];
  for (const spec of cases) assert.deepEqual(selected(spec), heka(spec), spec);
  // Spot checks that the data says what the issue says.
  assert.deepEqual(heka("Payload == 'C:\\\\dir'"), [31]);
  assert.deepEqual(heka("Payload == '\uFFFD'"), [22]);
  assert.ok(heka("Timestamp == 1500000000000000000").includes(4)); // 1.5e18 + 128 ns
  // 6. a line break with more after it is refused
  assert.match(refusal("Type == 'test'\n|| TRUE")!.message, /line break in spec/);
});

Deno.test("Heka vectors: the receivers' MessageGate gives Heka's verdicts", () => {
  // Receivers require a Hostname and a Payload or a field: append a
  // Hostname "h" (protobuf field 9) where there is none and leave out the
  // specs that read Hostname; append a field "gate" (field 10: name, one
  // string value) where there is neither, which no spec reads.
  const HOSTNAME_H = [0x4a, 0x01, 0x68];
  const FIELD_GATE = [0x52, 0x09, 0x0a, 0x04, 0x67, 0x61, 0x74, 0x65, 0x22, 0x01, 0x67];
  const withHost = wire.map((b, i) => {
    const m = messages[i];
    const extra = [
      ...(m.hostname ? [] : HOSTNAME_H),
      ...(m.payload === undefined && m.fields.length === 0 ? FIELD_GATE : []),
    ];
    return Uint8Array.from([...b, ...extra]);
  });
  const valid = withHost.map((b) => validateMessage(decodeMessage(b)) === undefined);
  assert.ok(valid.filter(Boolean).length >= 60);
  const specs = vectors.specs.filter((s) =>
    s.heka === "accepts" && !(s.spec in REFUSED) && !s.spec.includes("Hostname") &&
    !s.spec.includes("gate")
  );
  assert.ok(specs.length > 350);
  for (const s of specs) {
    const gate = new MessageGate(s.spec);
    withHost.forEach((b, i) => {
      const v = gate.inspect(b);
      if (!valid[i]) assert.equal(v.kind, "invalid");
      else assert.equal(v.kind, s.matches.includes(i) ? "accept" : "filtered", `${s.spec} #${i}`);
    });
  }
});

// Through the real CLI: `deno task heka-cat --format json --match SPEC FILE`
// over a Heka stream file of the whole corpus, for a representative subset.
const CLI_SPECS = [
  "TRUE",
  "Type == 'test' && (Severity == 7 || Payload == 'Test Payload')",
  "Payload =~ /^.$/",
  "Payload =~ /^\\x{FFFD}{2}$/",
  "Payload == '\uFFFD'",
  "Payload > '😀'",
  "Payload < 'ｚ'",
  "Payload == 'C:\\\\dir'",
  "Timestamp == 1500000000000000000",
  "Timestamp > 1500000000000000128",
  "Fields[ok] == 'x'",
  "Fields[flag] > 5",
  "Fields[path] == TRUE",
  "Fields[blob] =~ /^\\x{FFFD}{2}$/",
  "Fields[n] == 9223372036854775807",
  "Uuid == ''",
  "Payload =~ /(?m)line1$/",
  "EnvVersion =~ /%TIMESTAMP%/",
];

Deno.test("Heka vectors: deno task heka-cat --match prints exactly Heka's messages", async () => {
  const dir = await Deno.makeTempDir({ prefix: "matcher_heka_" });
  try {
    const file = `${dir}/corpus.pbuf`;
    await Deno.writeFile(file, frameMessages(wire));
    const writer = new JsonLineWriter();
    const lines = wire.map((b) => new TextDecoder().decode(writer.encode(b)));
    for (const spec of CLI_SPECS) {
      const want = vectors.specs.find((s) => s.spec === spec);
      assert.ok(want && want.heka === "accepts", spec);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["task", "--quiet", "heka-cat", "--format", "json", "--match", spec, file],
        cwd: repoPath("."),
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      const got = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "");
      assert.deepEqual(got, want.matches.map((i) => lines[i]), spec);
      assert.match(stderr, new RegExp(`printed=${want.matches.length} `));
    }
    // A malformed spec Heka would accept is refused with the reason.
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "heka-cat", "--match", "Type == 'test'\n|| TRUE", file],
      cwd: repoPath("."),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(bad.code, 0);
    assert.match(new TextDecoder().decode(bad.stderr), /bad --match spec: line break in spec/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
