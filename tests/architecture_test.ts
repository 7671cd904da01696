/**
 * The layout rules of ARCHITECTURE.md, checked on the source itself: thin
 * mains, library code that never exits, faces that only re-export, the
 * module map (heka imports nothing of ours; the product imports no test
 * code), a clone that needs nothing beside it, and tests that leave no
 * NATS store behind.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(join(ROOT, dir))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* sourceFiles(path);
    else if (/\.tsx?$/.test(e.name)) yield path;
  }
}

async function filesUnder(...dirs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of dirs) for await (const f of sourceFiles(d)) out.push(f);
  return out.sort();
}

function read(path: string): string {
  return Deno.readTextFileSync(join(ROOT, path));
}

/** The text without comments (good enough for our own sources: no comment markers in strings here). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** The relative import specifiers of a file. */
function imports(text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
}

Deno.test("library code never exits: Deno.exit only in runtime/exit.ts and runtime/shutdown.ts", async () => {
  const offenders: string[] = [];
  for (const f of await filesUnder("services")) {
    if (f === "services/runtime/exit.ts" || f === "services/runtime/shutdown.ts") continue;
    if (/\bDeno\.exit\(/.test(code(read(f)))) offenders.push(f);
  }
  assert.deepEqual(offenders, []);
});

Deno.test("every program's main.ts runs an exported run function under runMain", async () => {
  const mains = (await filesUnder("services")).filter((f) => f.endsWith("/main.ts"));
  assert.ok(mains.length >= 7, `found ${mains.join(", ")}`);
  for (const main of mains) {
    const text = code(read(main));
    assert.match(text, /runMain\(\(\) => run[A-Z]\w*\(/, `${main} calls runMain(() => runX(...))`);
    assert.ok(
      imports(text).some((i) => i === "./run.ts"),
      `${main} imports its run function from ./run.ts`,
    );
  }
});

Deno.test("every mod.ts face only re-exports", async () => {
  const faces = [
    ...(await filesUnder("services")).filter((f) => f.endsWith("/mod.ts")),
    "testing/mod.ts",
  ];
  assert.ok(faces.length >= 10);
  for (const face of faces) {
    const statements = code(read(face)).split(";").map((s) => s.trim()).filter((s) => s !== "");
    for (const s of statements) {
      assert.match(
        s,
        /^export (type )?(\{[\s\S]*\}|\*) from "[^"]+"$/,
        `${face}: ${s.slice(0, 80)}`,
      );
    }
  }
});

Deno.test("module map: heka imports only heka; the product imports no test code", async () => {
  for (const f of await filesUnder("services/heka")) {
    for (const i of imports(read(f))) {
      const target = relative(ROOT, join(ROOT, f, "..", i));
      assert.ok(target.startsWith("services/heka/"), `${f} imports ${i}`);
    }
  }
  for (const f of await filesUnder("services")) {
    for (const i of imports(read(f))) {
      const target = relative(ROOT, join(ROOT, f, "..", i));
      assert.ok(/^services\//.test(target), `${f} imports ${i}, outside the product`);
    }
  }
});

Deno.test("a clone needs nothing beside it: no code or test reads ../shared", async () => {
  const offenders: string[] = [];
  for (const f of await filesUnder("services", "tools", "testing", "tests", "dashboard")) {
    if (f === "tests/architecture_test.ts") continue;
    if (/\.\.\/shared\b|shared\/seed/.test(read(f))) offenders.push(f);
  }
  assert.deepEqual(offenders, []);
});

Deno.test("tests leave no NATS store behind: a file that starts nats-server disposes of it", async () => {
  // NatsServer.stop() keeps the temp store (a test may start the server again on it);
  // only dispose() removes it (or a tearDown helper that calls it). Killed runs aside, a test
  // run should leave /tmp as it was.
  const offenders: string[] = [];
  for (const f of await filesUnder("tests")) {
    const text = code(read(f));
    if (
      /NatsServer\.start\(|startCluster\(/.test(text) && !/\.dispose\(\)|\btearDown\(/.test(text)
    ) {
      offenders.push(f);
    }
  }
  assert.deepEqual(offenders, []);
});
