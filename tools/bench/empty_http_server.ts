/**
 * The bench's empty HTTP server: `Deno.serve` (as receive-http uses it)
 * reading each POST's body and answering 200, nothing else. Against the
 * http-32 load it measures what HTTP itself costs on this machine: the
 * floor under any receiver that answers one message per request.
 *
 * `deno run -A tools/bench/empty_http_server.ts --port P --count N`
 *
 * Prints `{"event":"ready"}` once listening and, at the `--count`th
 * request, `{"event":"done","first":<epoch ms>,"last":<epoch ms>,"requests":N}`.
 *
 * @module
 */
import { parseArgs } from "node:util";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string" }, count: { type: "string" } },
  });
  const count = Number(values.count);
  let requests = 0;
  let first = 0;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: Number(values.port),
    onListen: () => console.log(JSON.stringify({ event: "ready" })),
  }, async (req) => {
    await req.bytes();
    if (requests++ === 0) first = Date.now();
    if (requests === count) {
      console.log(JSON.stringify({ event: "done", first, last: Date.now(), requests }));
    }
    return new Response(null, { status: 200 });
  });
  Deno.addSignalListener("SIGTERM", () => server.shutdown());
  await server.finished;
}
