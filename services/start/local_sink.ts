/**
 * LocalSink: the HTTP endpoint `deno task start` posts batches to when no
 * SUB_REMOTE_URL is set. Appends each batch (NDJSON) to a file per day
 * under the sink directory, so a user sees what would have been sent.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { countLines, readDecodedBody } from "../net/request_body.ts";
import { errorMessage } from "../runtime/async.ts";

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
    if (!req.body) return Response.json({ status: "ok" });
    let bytes = await readDecodedBody(req);
    if (bytes[bytes.length - 1] !== 10) {
      const ended = new Uint8Array(bytes.length + 1);
      ended.set(bytes);
      ended[bytes.length] = 10;
      bytes = ended;
    }
    const file = `${dir}/${new Date().toISOString().slice(0, 10)}.ndjson`;
    const write = tail.then(() => Deno.writeFile(file, bytes, { append: true }));
    tail = write.catch(() => {});
    try {
      await write;
    } catch (err) {
      log.error("local sink cannot write", { file, error: errorMessage(err) });
      return Response.json({ status: "error", message: "cannot write" }, { status: 500 });
    }
    counts.batches++;
    counts.lines += countLines(bytes);
    return Response.json({ status: "ok" });
  });
  const addr = server.addr;
  return {
    url: `http://${addr.hostname === "0.0.0.0" ? "127.0.0.1" : addr.hostname}:${addr.port}/`,
    counts,
    shutdown: () => server.shutdown(),
  };
}
