// The embedded WebAssembly is what its .wat source compiles to.
import assert from "node:assert/strict";
import { expectedModule, WASM_SOURCES } from "../../tools/wasm/wasm.ts";

for (const s of WASM_SOURCES) {
  Deno.test(`wasm: ${s.generated} is ${s.wat} compiled (else run deno task wasm)`, async () => {
    const have = await Deno.readTextFile(new URL(`../../${s.generated}`, import.meta.url));
    assert.equal(have, await expectedModule(s));
  });
}
