/**
 * The dashboard's files: the page (`dashboard/index.html`) and the bundle
 * `deno task bundle` writes at build time (`dashboard/dist/`: Preact +
 * uPlot + CSS), read once into memory and served from the proxy's own
 * origin — no CDN, works offline. The proxy never bundles: without a
 * bundle, `/` answers 503 naming `deno task bundle`.
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

/** The dashboard as served: URL path → file. Empty when it is not built. */
export interface DashboardAssets {
  files: Map<string, Asset>;
  /** Why there is no dashboard, when `files` is empty. */
  problem?: string;
}

/** What `deno task bundle` writes into `dashboard/dist/`. */
export const DASHBOARD_OUTPUTS: readonly string[] = ["app.js", "app.css"];
const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

async function etagOf(body: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  return `"${Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

/** Reads the page (`dashboard/index.html`) and the bundle (`dashboard/dist/`) into memory. */
export async function readDashboard(dir: string = DASHBOARD_DIR): Promise<DashboardAssets> {
  const files = new Map<string, Asset>();
  try {
    for (const name of ["index.html", ...DASHBOARD_OUTPUTS]) {
      const path = name === "index.html" ? join(dir, name) : join(join(dir, "dist"), name);
      const body = await Deno.readFile(path);
      const ext = name.slice(name.lastIndexOf(".") + 1);
      const asset = { body, contentType: CONTENT_TYPES[ext], etag: await etagOf(body) };
      files.set(`/${name}`, asset);
      if (name === "index.html") files.set("/", asset);
    }
  } catch (err) {
    return {
      files: new Map(),
      problem: `the dashboard is not built (run \`deno task bundle\`): ${errorMessage(err)}`,
    };
  }
  return { files };
}

/**
 * Reads the dashboard for serving. Never throws: without a bundle the
 * proxy still relays events, and `/` explains how to build it.
 */
export async function loadDashboard(
  log: Logger,
  dir: string = DASHBOARD_DIR,
): Promise<DashboardAssets> {
  const assets = await readDashboard(dir);
  if (assets.files.size === 0) log.warn("serving no dashboard", { reason: assets.problem });
  return assets;
}
