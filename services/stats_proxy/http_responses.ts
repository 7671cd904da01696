/**
 * What the stats proxy answers besides data: the security headers on every
 * answer, JSON errors, and the dashboard's files (ETag, the page's CSP).
 *
 * @module
 */
import type { DashboardAssets } from "./assets.ts";

/** Headers on every answer of the proxy. */
export const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** The dashboard page's Content-Security-Policy: its own origin only. */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** A JSON error answer `{status: "error", message}` with the security headers. */
export function errorResponse(status: number, message: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) h.set(k, v);
  return Response.json({ status: "error", message }, { status, headers: h });
}

/**
 * The answer for a dashboard file at `path` (`HEAD` and `If-None-Match`
 * honoured; the page gets its Content-Security-Policy): 503 for the page
 * when the dashboard is not built, 404 for anything else not found.
 */
export function assetResponse(
  req: Request,
  assets: DashboardAssets | undefined,
  path: string,
): Response {
  const file = assets?.files.get(path);
  if (!file) {
    if ((path === "/" || path === "/index.html") && !assets?.files.size) {
      return errorResponse(503, assets?.problem ?? "the dashboard is not built");
    }
    return errorResponse(404, "not found");
  }
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    "content-type": file.contentType,
    "cache-control": "no-cache",
    etag: file.etag,
  };
  if (file.contentType.startsWith("text/html")) headers["content-security-policy"] = PAGE_CSP;
  if (req.headers.get("if-none-match") === file.etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(req.method === "HEAD" ? null : file.body, { headers });
}
