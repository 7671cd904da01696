/**
 * The lean TCP load source of the bench (a separate process): writes the
 * records of a pre-framed file over N connections, patching only each
 * message's uuid, in large awaited writes.
 *
 * `deno run -A tools/bench/frame_sender.ts --file F --port P --connections N --count C
 * [--tls-ca CA.pem]` (with `--tls-ca`: over TLS, trusting that CA)
 *
 * Prints `{"event":"start","t":<epoch ms>}` just before the first byte and
 * `{"event":"done","t":…,"sent":…,"bytes":…}` after the last write.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { indexFrames, UuidSequence } from "./frames.ts";

/** Records per write. */
const GROUP = 64;

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await conn.write(data.subarray(at));
}

async function send(
  conn: Deno.TcpConn | Deno.TlsConn,
  data: Uint8Array,
  stream: number,
  count: number,
): Promise<number> {
  const buf = data.slice();
  const { frameStart, messageStart } = indexFrames(buf);
  const frames = messageStart.length;
  const uuids = new UuidSequence(stream);
  let sent = 0;
  let bytes = 0;
  let i = 0;
  while (sent < count) {
    const n = Math.min(GROUP, frames - i, count - sent);
    for (let k = i; k < i + n; k++) uuids.patch(buf, messageStart[k]);
    const chunk = buf.subarray(frameStart[i], frameStart[i + n]);
    await writeAll(conn, chunk);
    bytes += chunk.length;
    sent += n;
    i = i + n === frames ? 0 : i + n;
  }
  await conn.closeWrite();
  conn.close();
  return bytes;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      file: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      connections: { type: "string", default: "1" },
      count: { type: "string" },
      "tls-ca": { type: "string" },
    },
  });
  const data = await Deno.readFile(values.file!);
  const connections = Number(values.connections);
  const count = Number(values.count);
  const caCerts = values["tls-ca"] ? [await Deno.readTextFile(values["tls-ca"])] : undefined;
  const conns = await Promise.all(
    Array.from({ length: connections }, async () => {
      if (caCerts) {
        const t = await Deno.connectTls({
          hostname: values.host!,
          port: Number(values.port),
          caCerts,
        });
        await t.handshake();
        return t;
      }
      const c = await Deno.connect({ hostname: values.host!, port: Number(values.port) });
      c.setNoDelay(true);
      return c;
    }),
  );
  console.log(JSON.stringify({ event: "start", t: Date.now() }));
  const shares = conns.map((_, i) =>
    Math.floor(count / connections) + (i < count % connections ? 1 : 0)
  );
  const bytes = await Promise.all(conns.map((c, i) => send(c, data, i, shares[i])));
  console.log(JSON.stringify({
    event: "done",
    t: Date.now(),
    sent: count,
    bytes: bytes.reduce((a, b) => a + b, 0),
  }));
}
