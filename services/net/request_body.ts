/**
 * Reading a whole request body as a log store would: gunzipped when it
 * says `Content-Encoding: gzip`, and counted in lines. Used by the local
 * sink of `deno task start` and by the test and bench sinks (`testing/`).
 *
 * @module
 */

/** The body of `req`, gunzipped when its `Content-Encoding` is gzip. */
export async function readDecodedBody(req: Request): Promise<Uint8Array<ArrayBuffer>> {
  if (!req.body) return new Uint8Array(0);
  const gzip = req.headers.get("content-encoding")?.includes("gzip") ?? false;
  const body = gzip ? req.body.pipeThrough(new DecompressionStream("gzip")) : req.body;
  return await new Response(body).bytes();
}

/** Newline bytes in `bytes`. */
export function countNewlines(bytes: Uint8Array): number {
  let n = 0;
  let at = -1;
  while ((at = bytes.indexOf(10, at + 1)) >= 0) n++;
  return n;
}

/** Lines in `bytes` (NDJSON): its newlines, plus one for a last line without one. */
export function countLines(bytes: Uint8Array): number {
  const n = countNewlines(bytes);
  return bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? n + 1 : n;
}
