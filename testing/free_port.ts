/**
 * Free loopback ports for test and bench servers.
 *
 * A port is picked below the kernel's ephemeral range. Ports the OS hands
 * out for `port: 0` come from that range, and so do the source ports of
 * every outgoing connection: a port picked there and bound a moment later
 * can meanwhile become the local end of some other connection (a cluster
 * node's route to its peer took a node's client port that way once, and the
 * node exited before it was ready). Below the range only listeners compete.
 * No port is handed out twice by one process.
 *
 * @module
 */

const handedOut = new Set<number>();
const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range (32768 when unknown). */
function ephemeralStart(): number {
  try {
    const text = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    const first = Number(text.trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > LOWEST + 1000) return first;
  } catch {
    // not Linux, or not readable: the usual default
  }
  return 32_768;
}

const below = ephemeralStart();

function bindable(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A TCP port on loopback that is free when this returns, below the
 * ephemeral range and not handed out before by this process.
 */
export function freePort(): number {
  for (let tries = 0; tries < 200; tries++) {
    const port = LOWEST + Math.floor(Math.random() * (below - LOWEST));
    if (handedOut.has(port) || !bindable(port)) continue;
    handedOut.add(port);
    return port;
  }
  // Crowded below the range: let the OS pick, still never twice.
  for (;;) {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}
