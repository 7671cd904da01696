/**
 * Test servers' ports (testing/free_port.ts) stay out of the ephemeral range,
 * where outgoing connections could take them before the server binds.
 */
import assert from "node:assert/strict";
import { freePort } from "../../testing/free_port.ts";

Deno.test("freePort: bindable, below the ephemeral range, never the same twice", () => {
  const range = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
  const ephemeral = Number(range.trim().split(/\s+/)[0]);
  const ports = Array.from({ length: 500 }, () => freePort());
  assert.equal(new Set(ports).size, ports.length, "a port was handed out twice");
  for (const port of ports) assert.ok(port < ephemeral, `port ${port} is in the ephemeral range`);
  Deno.listen({ hostname: "127.0.0.1", port: ports[0] }).close();
});
