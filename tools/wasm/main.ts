/**
 * `deno task wasm`: compiles the product's `.wat` sources into the
 * TypeScript modules that embed them (see `wasm.ts`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { errorMessage } from "../../services/runtime/async.ts";
import { buildWasm } from "./wasm.ts";

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { help: { type: "boolean" } } });
  if (values.help) {
    console.log(
      "Usage: deno task wasm   (compiles services/**/*.wat into their *_wasm.ts modules)",
    );
    Deno.exit(0);
  }
  try {
    for (const path of await buildWasm()) console.error(`wasm: wrote ${path}`);
  } catch (err) {
    console.error(`wasm: ${errorMessage(err)}`);
    Deno.exit(1);
  }
}
