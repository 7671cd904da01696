/**
 * The dashboard's files: bundled by `deno bundle` (Preact + uPlot + CSS)
 * into `dashboard/dist/` when missing or older than the sources, then held
 * in memory and served from the proxy's own origin — no CDN, works offline.
 *
 * @module
 */
import { errorMessage, type Logger } from "../log/mod.ts";

/** The repository's `dashboard/` folder. */
export const DASHBOARD_DIR: string = decodeURIComponent(
  new URL("../../dashboard/", import.meta.url).pathname,
);

/** One file the proxy serves. */
export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  etag: string;
}

/** The dashboard as served: URL path → file. Empty when it could not be built. */
export interface DashboardAssets {
  files: Map<string, Asset>;
  /** Why there is no dashboard, when `files` is empty. */
  problem?: string;
}

/** Options of {@link buildDashboard} and {@link loadDashboard}. */
export interface DashboardBuildOptions {
  /** The `dashboard/` folder (sources; output goes to its `dist/`). */
  dir?: string;
  log: Logger;
  /** Rebuild even when the bundle looks fresh. */
  force?: boolean;
}

/** What {@link buildDashboard} did ("fresh": up to date, or no sources to build from, as in a compiled binary). */
export type BuildOutcome = "fresh" | "built" | "no-permission" | "failed";

/** What `deno bundle` writes into `dist/` (the `bundle` task writes the same). */
const OUTPUTS = ["app.js", "app.css"];
const SOURCE_EXT = /\.(tsx?|css|html)$/;
const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

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
  for (const name of OUTPUTS) {
    const t = await mtime(join(join(dir, "dist"), name));
    if (t === undefined || t < source) return false;
  }
  return true;
}

async function granted(desc: Deno.PermissionDescriptor): Promise<boolean> {
  return (await Deno.permissions.query(desc)).state === "granted";
}

/**
 * Bundles `dashboard/main.tsx` with `deno bundle --platform browser
 * --minify` (the `bundle` task's command) into `dashboard/dist/` when the
 * bundle is missing or stale. Output is written to a temporary folder and
 * renamed into place, so a concurrent reader never sees half a file.
 */
export async function buildDashboard(o: DashboardBuildOptions): Promise<BuildOutcome> {
  const dir = o.dir ?? DASHBOARD_DIR;
  const dist = join(dir, "dist");
  // a `deno compile`d binary embeds the bundle without its sources (and its execPath is
  // not deno): serve what it carries
  if (Deno.build.standalone || (await mtime(join(dir, "main.tsx"))) === undefined) return "fresh";
  if (!o.force && await bundleIsFresh(dir)) return "fresh";
  const deno = Deno.execPath();
  if (
    !await granted({ name: "run", command: deno }) || !await granted({ name: "write", path: dist })
  ) {
    return "no-permission";
  }
  await Deno.mkdir(dist, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: dist, prefix: ".build-" });
  try {
    const t0 = performance.now();
    const out = await new Deno.Command(deno, {
      args: ["bundle", "--platform", "browser", "--minify", "-o", join(tmp, "app.js"), "main.tsx"],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-8).join(" | ");
      o.log.error("dashboard bundle failed", { error: text });
      return "failed";
    }
    for (const name of OUTPUTS) await Deno.rename(join(tmp, name), join(dist, name));
    o.log.info("dashboard bundled", { dir: dist, ms: Math.round(performance.now() - t0) });
    return "built";
  } catch (err) {
    o.log.error("dashboard bundle failed", { error: errorMessage(err) });
    return "failed";
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

async function etagOf(body: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  return `"${Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

/** Reads the page (`dashboard/index.html`) and the bundle (`dashboard/dist/`) into memory. */
export async function readDashboard(dir: string = DASHBOARD_DIR): Promise<DashboardAssets> {
  const files = new Map<string, Asset>();
  try {
    for (const name of ["index.html", ...OUTPUTS]) {
      const path = name === "index.html" ? join(dir, name) : join(join(dir, "dist"), name);
      const body = await Deno.readFile(path);
      const ext = name.slice(name.lastIndexOf(".") + 1);
      const asset = { body, contentType: CONTENT_TYPES[ext], etag: await etagOf(body) };
      files.set(`/${name}`, asset);
      if (name === "index.html") files.set("/", asset);
    }
  } catch (err) {
    return { files: new Map(), problem: `the dashboard is incomplete: ${errorMessage(err)}` };
  }
  return { files };
}

/**
 * Builds the dashboard when needed and possible, then reads it. Never
 * throws: without a bundle the proxy still relays events, and `/` explains
 * how to build it.
 */
export async function loadDashboard(o: DashboardBuildOptions): Promise<DashboardAssets> {
  const dir = o.dir ?? DASHBOARD_DIR;
  let outcome: BuildOutcome;
  try {
    outcome = await buildDashboard(o);
  } catch (err) {
    o.log.error("dashboard build check failed", { error: errorMessage(err) });
    outcome = "failed";
  }
  const assets = await readDashboard(dir);
  if (outcome === "no-permission") {
    const hint =
      "run `deno task bundle`, or give the proxy --allow-run and --allow-write=dashboard/dist";
    if (assets.files.size > 0) o.log.warn(`dashboard bundle may be stale: ${hint}`);
    else assets.problem = `the dashboard is not built: ${hint}`;
  }
  if (assets.files.size === 0) o.log.warn("serving no dashboard", { reason: assets.problem });
  return assets;
}
