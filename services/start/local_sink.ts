/**
 * LocalSink: the HTTP endpoint `deno task start` posts batches to when no
 * SUB_REMOTE_URL is set. Appends each batch (NDJSON) to a file per day
 * under the sink directory, so a user sees what would have been sent.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";

/** A running local sink. */
export interface LocalSink {
  url: string;
  /** Batches and lines received so far. */
  counts: { batches: number; lines: number };
  shutdown(): Promise<void>;
}

/** Starts the sink on `hostname:port` writing under `dir`. */
export async function startLocalSink(
  dir: string,
  hostname: string,
  port: number,
  log: Logger,
): Promise<LocalSink> {
  await Deno.mkdir(dir, { recursive: true });
  const counts = { batches: 0, lines: 0 };
  // Appends are serialized so batches never interleave in the file.
  let tail: Promise<void> = Promise.resolve();
  const server = Deno.serve({ hostname, port, onListen: () => {} }, async (req) => {
    if (req.method !== "POST") {
      return Response.json({ status: "error", message: "POST batches here" }, { status: 405 });
    }
    let body = req.body;
    if (!body) return Response.json({ status: "ok" });
    if (req.headers.get("content-encoding") === "gzip") {
      body = body.pipeThrough(new DecompressionStream("gzip"));
    }
    let text = await new Response(body).text();
    if (!text.endsWith("\n")) text += "\n";
    const file = `${dir}/${new Date().toISOString().slice(0, 10)}.ndjson`;
    const write = tail.then(() => Deno.writeTextFile(file, text, { append: true }));
    tail = write.catch(() => {});
    try {
      await write;
    } catch (err) {
      log.error("local sink cannot write", { file, error: (err as Error).message });
      return Response.json({ status: "error", message: "cannot write" }, { status: 500 });
    }
    counts.batches++;
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) counts.lines++;
    return Response.json({ status: "ok" });
  });
  const addr = server.addr;
  return {
    url: `http://${addr.hostname === "0.0.0.0" ? "127.0.0.1" : addr.hostname}:${addr.port}/`,
    counts,
    shutdown: () => server.shutdown(),
  };
}
