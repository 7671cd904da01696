/**
 * Reading a request body with a size limit and a deadline, without ever
 * holding more than the limit. Knows nothing of Heka.
 *
 * @module
 */

/** Why a body could not be read. */
export type BodyProblem = "too-large" | "timeout" | "aborted";

/** A body, or why there is none. */
export type BodyResult = { ok: true; bytes: Uint8Array } | { ok: false; problem: BodyProblem };

/**
 * Reads at most `limit` bytes of `req`'s body within `timeoutMs`. A declared
 * Content-Length over the limit is refused before reading anything.
 */
export async function readBody(
  req: Request,
  limit: number,
  timeoutMs: number,
): Promise<BodyResult> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) return { ok: false, problem: "too-large" };
  const body = req.body;
  if (!body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), timeoutMs));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), deadline]);
      if (next === "timeout") {
        reader.cancel().catch(() => {});
        return { ok: false, problem: "timeout" };
      }
      if (next.done) break;
      size += next.value.length;
      if (size > limit) {
        reader.cancel().catch(() => {});
        return { ok: false, problem: "too-large" };
      }
      chunks.push(next.value);
    }
  } catch {
    return { ok: false, problem: "aborted" };
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0] };
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return { ok: true, bytes };
}
