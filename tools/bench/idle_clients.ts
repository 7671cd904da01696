/**
 * Opens N idle TCP connections to a port and holds them until SIGTERM (a
 * separate process, so the program under test owns only its own fds).
 *
 * `deno run -A tools/bench/idle_clients.ts --port P --connections N`
 *
 * Prints `{"event":"open","n":…,"failed":…,"t":…}` once every attempt is done.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** Connection attempts in flight at once (stays under the listen backlog). */
const PARALLEL = 256;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      connections: { type: "string" },
    },
  });
  const total = Number(values.connections);
  const conns: Deno.TcpConn[] = [];
  let next = 0;
  let failed = 0;
  let lastError = "";
  await Promise.all(Array.from({ length: Math.min(PARALLEL, total) }, async () => {
    while (next < total) {
      next++;
      try {
        conns.push(await Deno.connect({ hostname: values.host!, port: Number(values.port) }));
      } catch (err) {
        failed++;
        lastError = err instanceof Error ? err.message : String(err);
      }
    }
  }));
  console.log(
    JSON.stringify({ event: "open", n: conns.length, failed, error: lastError, t: Date.now() }),
  );
  const stop = () => {
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // closed by the server
      }
    }
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  setInterval(() => {}, 60_000);
}
