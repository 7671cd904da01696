/**
 * Bundling the dashboard at build time: `deno bundle --platform browser
 * --minify dashboard/main.tsx` (Preact + uPlot + CSS) into
 * `dashboard/dist/`, which the stats proxy only serves
 * (`services/stats_proxy/assets.ts`). Run by `deno task bundle`, by
 * `deno task compile` before compiling, by `deno task start` and
 * `deno task test` when the bundle is missing or stale, and by tests that
 * serve the dashboard (`testing/dashboard_bundle.ts`).
 *
 * @module
 */
import { DASHBOARD_DIR, DASHBOARD_OUTPUTS } from "../../services/stats_proxy/assets.ts";

export { DASHBOARD_DIR };

const SOURCE_EXT = /\.(tsx?|css|html)$/;

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).mtime?.getTime();
  } catch {
    return undefined;
  }
}

/** The newest modification time of the dashboard's sources (and deno.json, which pins versions). */
async function newestSource(dir: string): Promise<number> {
  let newest = (await mtime(join(dir, "../deno.json"))) ?? 0;
  const walk = async (d: string): Promise<void> => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory && e.name !== "dist" && !e.name.startsWith(".")) await walk(p);
      else if (e.isFile && SOURCE_EXT.test(e.name)) {
        newest = Math.max(newest, (await mtime(p)) ?? 0);
      }
    }
  };
  await walk(dir);
  return newest;
}

/** Whether `dist/` holds every output and each is newer than every source. */
export async function bundleIsFresh(dir: string = DASHBOARD_DIR): Promise<boolean> {
  const source = await newestSource(dir);
  for (const name of DASHBOARD_OUTPUTS) {
    const t = await mtime(join(join(dir, "dist"), name));
    if (t === undefined || t < source) return false;
  }
  return true;
}

/** Options of {@link bundleDashboard}. */
export interface BundleOptions {
  /** The `dashboard/` folder (sources; output goes to its `dist/`). */
  dir?: string;
  /** Only when the bundle is missing or older than a source (default: always). */
  ifStale?: boolean;
}

/**
 * Bundles `dashboard/main.tsx` into `dashboard/dist/` (`app.js`,
 * `app.css`). Output is written to a temporary folder and renamed into
 * place, so a proxy reading it never sees half a file. Returns whether it
 * bundled (false: fresh and `ifStale`); throws with `deno bundle`'s last
 * error lines when bundling fails.
 */
export async function bundleDashboard(o: BundleOptions = {}): Promise<boolean> {
  const dir = o.dir ?? DASHBOARD_DIR;
  const dist = join(dir, "dist");
  if (o.ifStale && await bundleIsFresh(dir)) return false;
  await Deno.mkdir(dist, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: dist, prefix: ".build-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "browser", "--minify", "-o", join(tmp, "app.js"), "main.tsx"],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-8).join(" | ");
      throw new Error(`deno bundle of ${dir}main.tsx failed: ${text}`);
    }
    for (const name of DASHBOARD_OUTPUTS) await Deno.rename(join(tmp, name), join(dist, name));
    return true;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
