/**
 * The bench's HTTP batch load: POSTs `application/x-heka-stream` bodies of
 * `--per-post` pre-framed 3 KB messages (fresh uuids each) with
 * `--connections` requests in flight, until `--count` messages were
 * answered 200, over lean kept-alive connections (`raw_http_client.ts`:
 * the load's own CPU stays small), each reusing its body buffer.
 *
 * `deno run -A tools/bench/stream_poster.ts --file F --url U --count C [--per-post 100] [--connections 8]`
 *
 * Prints `{"event":"start","t":…}` before the first POST and
 * `{"event":"done","t":…,"stored":…,"statuses":{…}}` after the last answer.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { HEKA_STREAM_CONTENT_TYPE } from "../../services/heka/chunk.ts";
import { indexFrames, UuidSequence } from "./frames.ts";
import { RawHttpConnection } from "./raw_http_client.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      file: { type: "string" },
      url: { type: "string" },
      count: { type: "string" },
      "per-post": { type: "string", default: "100" },
      connections: { type: "string", default: "8" },
    },
  });
  const data = await Deno.readFile(values.file!);
  const { frameStart, messageStart } = indexFrames(data);
  const frames = frameStart.slice(0, -1).map((f, i) => ({
    frame: data.subarray(f, frameStart[i + 1]),
    messageAt: messageStart[i] - f,
  }));
  const count = Number(values.count);
  const perPost = Number(values["per-post"]);
  const statuses: Record<number, number> = {};
  let next = 0;
  let stored = 0;
  const uuids = new UuidSequence(0xba7c);
  /** A body of `n` frames with fresh uuids, written into `buf` when it is large enough. */
  const body = (from: number, n: number, buf: Uint8Array | undefined): Uint8Array => {
    let size = 0;
    for (let k = 0; k < n; k++) size += frames[(from + k) % frames.length].frame.length;
    const out = buf !== undefined && buf.length >= size
      ? buf.subarray(0, size)
      : new Uint8Array(size);
    let at = 0;
    for (let k = 0; k < n; k++) {
      const f = frames[(from + k) % frames.length];
      out.set(f.frame, at);
      uuids.patch(out, at + f.messageAt);
      at += f.frame.length;
    }
    return out;
  };
  console.log(JSON.stringify({ event: "start", t: Date.now() }));
  const url = new URL(values.url!);
  await Promise.all(Array.from({ length: Number(values.connections) }, async () => {
    const conn = await RawHttpConnection.open(url, { "content-type": HEKA_STREAM_CONTENT_TYPE });
    // One body buffer per connection, reused once its POST was answered.
    let buf: Uint8Array | undefined;
    while (next < count) {
      const from = next;
      const n = Math.min(perPost, count - from);
      next += n;
      const bytes = body(from, n, buf);
      if (bytes.buffer !== buf?.buffer) buf = new Uint8Array(bytes.buffer);
      for (;;) {
        const status = await conn.post(bytes);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      stored += n;
    }
    conn.close();
  }));
  console.log(JSON.stringify({ event: "done", t: Date.now(), stored, statuses }));
}
