/**
 * The stats HTTP endpoint of a program (`*_STATS_ADDRESS`): `/debug/vars`
 * (JSON counters, like Go's expvar), `/metrics` (Prometheus), `/health`.
 * With a bearer token (`*_STATS_TOKEN`) the counters need it; `/health`
 * stays open for liveness probes but then answers only its status.
 *
 * @module
 */
import type { BindAddress } from "../config/mod.ts";
import type { BearerAuth } from "../net/bearer_auth.ts";
import type { MetricsRegistry } from "./registry.ts";

/** Options of {@link serveStats}. */
export interface StatsServerOptions {
  address: BindAddress;
  registry: MetricsRegistry;
  /** Health: `ok` false answers 503. Extra keys are included in the JSON. */
  health: () => { ok: boolean } & Record<string, unknown>;
  /** Token check for `/debug/vars`, `/metrics` and the details of `/health`. */
  auth?: BearerAuth;
  onListen?: (addr: Deno.NetAddr) => void;
}

/** Handles stats requests (exposed so a program can mount it on its own server). */
export function statsHandler(o: Omit<StatsServerOptions, "address" | "onListen">) {
  return (req: Request): Response | undefined => {
    const path = new URL(req.url).pathname;
    if (path === "/health" && o.auth && req.headers.get("authorization") === null) {
      const ok = o.health().ok;
      return Response.json({ status: ok ? "ok" : "unavailable", ok }, { status: ok ? 200 : 503 });
    }
    if (path !== "/debug/vars" && path !== "/metrics" && path !== "/health") return undefined;
    const refused = o.auth?.guard(req);
    if (refused) return refused;
    if (path === "/debug/vars") return Response.json(o.registry.snapshot());
    if (path === "/metrics") {
      return new Response(o.registry.prometheus(), {
        headers: { "content-type": "text/plain; version=0.0.4" },
      });
    }
    if (path === "/health") {
      const h = o.health();
      return Response.json({ status: h.ok ? "ok" : "unavailable", ...h }, {
        status: h.ok ? 200 : 503,
      });
    }
    return undefined;
  };
}

/** Serves stats on their own address. */
export function serveStats(o: StatsServerOptions): Deno.HttpServer<Deno.NetAddr> {
  const handle = statsHandler(o);
  return Deno.serve(
    {
      hostname: o.address.hostname,
      port: o.address.port,
      onListen: (addr) => o.onListen?.(addr),
    },
    (req) =>
      handle(req) ?? Response.json({ status: "error", message: "not found" }, { status: 404 }),
  );
}
