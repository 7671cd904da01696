/**
 * Which browser origins may use the stats proxy. A page on another site
 * must not be able to open `/messages` in a visitor's browser (WebSockets
 * are not covered by CORS), so an `Origin` header that is neither the
 * proxy's own host nor listed is refused. Requests without `Origin` come
 * from non-browser clients (curl, scripts) and are allowed.
 *
 * @module
 */

/** Normalizes a configured origin (`https://ops.example.com/` → `https://ops.example.com`); `*` stays. */
export function normalizeOrigin(text: string): string | undefined {
  const s = text.trim();
  if (s === "*") return s;
  try {
    const u = new URL(s);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    if (u.pathname !== "/" || u.search || u.hash || u.username || u.password) return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/** The origin check of a request; `allowed` holds normalized origins or `*`. */
export function originAllowed(req: Request, allowed: readonly string[]): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  if (allowed.includes("*")) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file://) or garbage
  }
  const host = req.headers.get("host");
  if (host !== null && url.host.toLowerCase() === host.toLowerCase()) return true;
  return allowed.includes(url.origin);
}

/** Whether a request's origin is a listed cross-site one (it then gets CORS headers). */
export function isCrossOrigin(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return false;
  try {
    return new URL(origin).host.toLowerCase() !== req.headers.get("host")?.toLowerCase();
  } catch {
    return false;
  }
}
