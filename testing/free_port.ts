/**
 * Free loopback ports for test and bench servers.
 *
 * @module
 */

/** A free TCP port on loopback (the OS picks it; free when this returns). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
