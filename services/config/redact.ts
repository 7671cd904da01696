/**
 * Redaction of secrets in values that are printed or logged: passwords and
 * tokens in URLs (NATS and HTTP), the secret path of Sumo Logic collector
 * URLs, HMAC keys. What of a URL is secret is decided once, here: printing
 * a URL ({@link redactUrl}) and scrubbing it out of other text
 * ({@link urlSecretReplacements}) hide the same parts.
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
  const segments = pathSegments(url);
  const shown = shownSegments(segments);
  const hidden = segments.length > shown ? [REDACTED] : [];
  const path = `/${[...segments.slice(0, shown), ...hidden].join("/")}`;
  const query = url.search ? `?${REDACTED}` : "";
  return `${url.protocol}//${auth}${url.host}${path}${query}`;
}

function pathSegments(url: URL): string[] {
  return url.pathname.split("/").filter((s) => s !== "");
}

/**
 * How many leading path segments a printed URL keeps: the first (an API
 * path such as `/receiver`), unless it is the only one and long enough to
 * be a token itself. Everything after it may be a secret.
 */
function shownSegments(segments: readonly string[]): number {
  if (segments.length === 1 && segments[0].length > 16) return 0;
  return Math.min(1, segments.length);
}

/**
 * The forms a URL's secrets may take inside other text (an error message
 * quoting the URL), each with its replacement, longest first: the whole
 * URL and its path by {@link redactUrl}'s form; each secret part that
 * `redactUrl` hides (path segments, query values, credentials of 8 or more
 * characters, also percent-decoded) by `***`.
 */
export function urlSecretReplacements(text: string): [string, string][] {
  const redacted = redactUrl(text);
  const parts = new Map<string, string>([[text, redacted]]);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [...parts]; // not a URL: the raw text is all there is
  }
  parts.set(url.href, redacted);
  const tail = url.pathname + url.search;
  if (tail.length > 1) parts.set(tail, redacted);
  const segments = pathSegments(url);
  const secrets = [
    ...segments.slice(shownSegments(segments)),
    ...url.searchParams.values(),
    url.username,
    url.password,
  ];
  for (const s of secrets) {
    if (s.length < 8) continue;
    parts.set(s, REDACTED);
    try {
      parts.set(decodeURIComponent(s), REDACTED);
    } catch {
      // not percent-encoded text
    }
  }
  return [...parts].sort((a, b) => b[0].length - a[0].length);
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
