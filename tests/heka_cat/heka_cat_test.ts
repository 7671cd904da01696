/**
 * Issue #2 acceptance: `deno task heka-cat` over the real fixtures — every
 * message decodes, JSON lines are valid (the invalid UTF-8 payload too),
 * --match filters, a malformed spec exits non-zero with the error, stdin
 * works, counts go to stderr.
 */
import assert from "node:assert/strict";
import { ProgramProcess } from "../../testing/mod.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const CAT = "services/heka_cat/main.ts";

Deno.test("heka-cat --format json prints every fixture message as valid JSON with a Uuid", async () => {
  const r = await ProgramProcess.run(CAT, {}, [
    "--format",
    "json",
    `${FIXTURES}heka-bench.pbuf`,
    `${FIXTURES}lagermeister-framed.pbuf`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 8, "7 hekabench messages + 1 Lagermeister message");
  const objs = lines.map((l) => JSON.parse(l));
  for (const o of objs) {
    assert.match(o.Uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(o.Type, "hekabench");
    assert.match(o.Timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  }
  const invalidUtf8 = objs[7];
  assert.ok(String(invalidUtf8.Payload).includes("\uFFFD"), "invalid UTF-8 became U+FFFD");
  assert.match(r.stderr, /printed=8 .*undecodable=0/);
});

Deno.test("heka-cat --match filters; reads stdin; text format", async () => {
  const bytes = await Deno.readFile(`${FIXTURES}heka-bench.pbuf`);
  const all = await ProgramProcess.run(CAT, {}, ["--format", "json", "-"], bytes);
  const first = JSON.parse(all.stdout.split("\n")[0]);
  const one = await ProgramProcess.run(
    CAT,
    {},
    ["--format", "json", "--match", `Uuid == "${first.Uuid}"`, "-"],
    bytes,
  );
  assert.equal(one.code, 0);
  assert.equal(one.stdout.trim().split("\n").length, 1);
  assert.match(one.stderr, /printed=1 filtered=6/);
  const text = await ProgramProcess.run(CAT, {}, [`${FIXTURES}lagermeister-framed.pbuf`]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^Timestamp: .*\nType: hekabench\n/);
});

Deno.test("heka-cat: a malformed spec, a bad format or a missing file exits non-zero with the reason", async () => {
  const spec = await ProgramProcess.run(CAT, {}, [
    "--match",
    "Type == ",
    `${FIXTURES}heka-bench.pbuf`,
  ]);
  assert.notEqual(spec.code, 0);
  assert.match(spec.stderr, /bad --match spec: .*column/);
  const format = await ProgramProcess.run(CAT, {}, ["--format", "xml", "-"]);
  assert.notEqual(format.code, 0);
  assert.match(format.stderr, /--format must be json or text/);
  const missing = await ProgramProcess.run(CAT, {}, ["/nonexistent.pbuf"]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /cannot open \/nonexistent\.pbuf/);
  const tooSmall = await ProgramProcess.run(CAT, {}, [
    "--max-size",
    "1000",
    `${FIXTURES}heka-bench.pbuf`,
  ]);
  assert.equal(tooSmall.code, 0);
  assert.match(tooSmall.stderr, /oversized=7/);
});
