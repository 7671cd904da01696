/**
 * SIGHUP as "read your files again" (certificates, token lists), shared by
 * every part of a program that has files to re-read.
 *
 * @module
 */

/** Calls `fn` on every SIGHUP; returns a function that stops it. */
export function onReloadSignal(fn: () => void): () => void {
  const handler = () => fn();
  try {
    Deno.addSignalListener("SIGHUP", handler);
  } catch {
    return () => {}; // no SIGHUP on this platform
  }
  return () => {
    try {
      Deno.removeSignalListener("SIGHUP", handler);
    } catch {
      // already removed
    }
  };
}
