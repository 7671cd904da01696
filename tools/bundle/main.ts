/**
 * `deno task bundle`: bundles the dashboard into `dashboard/dist/`.
 * `--if-stale` bundles only when the bundle is missing or older than its
 * sources (what `deno task start` and `deno task test` run first).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { errorMessage } from "../../services/runtime/async.ts";
import { bundleDashboard, DASHBOARD_DIR } from "./bundle.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { "if-stale": { type: "boolean", default: false }, help: { type: "boolean" } },
  });
  if (values.help) {
    console.log("Usage: deno task bundle [--if-stale]   (writes dashboard/dist/)");
    Deno.exit(0);
  }
  const t0 = performance.now();
  try {
    if (await bundleDashboard({ ifStale: values["if-stale"] })) {
      console.error(
        `bundle: dashboard bundled into ${DASHBOARD_DIR}dist/ in ${
          Math.round(performance.now() - t0)
        } ms`,
      );
    }
  } catch (err) {
    console.error(`bundle: ${errorMessage(err)}`);
    Deno.exit(1);
  }
}
