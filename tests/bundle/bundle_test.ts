// The dashboard bundle step (tools/bundle): freshness by modification times.
import assert from "node:assert/strict";
import { bundleIsFresh } from "../../tools/bundle/bundle.ts";

Deno.test("the bundle is stale when a source is newer than it, fresh otherwise", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lm-dash-" });
  try {
    await Deno.mkdir(`${dir}/dash/components`, { recursive: true });
    await Deno.writeTextFile(`${dir}/deno.json`, "{}");
    await Deno.writeTextFile(`${dir}/dash/main.tsx`, "");
    await Deno.writeTextFile(`${dir}/dash/components/a.tsx`, "");
    const dash = `${dir}/dash`;
    assert.equal(await bundleIsFresh(dash), false, "no dist");
    await Deno.mkdir(`${dash}/dist`);
    await Deno.writeTextFile(`${dash}/dist/app.js`, "");
    assert.equal(await bundleIsFresh(dash), false, "app.css missing");
    await Deno.writeTextFile(`${dash}/dist/app.css`, "");
    const past = new Date(Date.now() - 60_000);
    for (const f of ["deno.json", "dash/main.tsx", "dash/components/a.tsx"]) {
      await Deno.utime(`${dir}/${f}`, past, past);
    }
    assert.equal(await bundleIsFresh(dash), true);
    await Deno.utime(`${dash}/components/a.tsx`, new Date(), new Date(Date.now() + 5000));
    assert.equal(await bundleIsFresh(dash), false, "a component changed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
