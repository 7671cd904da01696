/**
 * Byte helpers shared by the HTTP edges (a request body read in pieces, a
 * store's answer read in pieces).
 *
 * @module
 */

/** The bytes of `parts` one after the other: `parts[0]` itself when it is the only one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
