/**
 * Redaction of secrets in values that are printed or logged: passwords and
 * tokens in URLs (NATS and HTTP), the secret path of Sumo Logic collector
 * URLs, HMAC keys.
 *
 * @module
 */

/** What replaces a secret. */
export const REDACTED = "***";

/**
 * Redacts a URL for printing: user info becomes `***` (user name kept when
 * there is a password), the path keeps only its first segment, query values
 * are hidden. Hosted log services (Sumo Logic) carry their secret in the
 * path, so the path is never printed whole.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text.length > 8 ? `${text.slice(0, 4)}${REDACTED}` : REDACTED;
  }
  let auth = "";
  if (url.username && url.password) auth = `${url.username}:${REDACTED}@`;
  else if (url.username || url.password) auth = `${REDACTED}@`;
  const segments = url.pathname.split("/").filter((s) => s !== "");
  let path = "/";
  if (segments.length > 0) path = `/${segments[0]}${segments.length > 1 ? `/${REDACTED}` : ""}`;
  if (segments.length === 1 && segments[0].length > 16) path = `/${REDACTED}`;
  const query = url.search ? `?${REDACTED}` : "";
  return `${url.protocol}//${auth}${url.host}${path}${query}`;
}

/** Redacts each URL of a comma-separated list. */
export function redactUrlList(text: string): string {
  return text.split(",").map((u) => u.trim() ? redactUrl(u.trim()) : u).join(",");
}

/** Replaces every value of a JSON object of secrets (e.g. HMAC keys) with `***`. */
export function redactJsonValues(text: string): string {
  try {
    const obj = JSON.parse(text);
    if (obj && typeof obj === "object" && !Array.isArray(obj)) {
      return JSON.stringify(Object.fromEntries(Object.keys(obj).map((k) => [k, REDACTED])));
    }
  } catch {
    // not JSON: hide it whole
  }
  return REDACTED;
}
