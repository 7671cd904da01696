/**
 * The dashboard bundle for tests that serve the page (the proxy only
 * serves `dashboard/dist/`, it never bundles): built once per test process
 * when missing or stale, as `deno task test` does before it runs.
 *
 * @module
 */
import { bundleDashboard } from "../tools/bundle/bundle.ts";

let bundled: Promise<boolean> | undefined;

/** Bundles the dashboard when `dashboard/dist/` is missing or older than its sources. */
export async function ensureDashboardBundle(): Promise<void> {
  bundled ??= bundleDashboard({ ifStale: true });
  await bundled;
}
