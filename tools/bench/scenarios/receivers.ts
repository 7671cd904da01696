/**
 * Starting a receiver under test (TCP or HTTP) for a bench scenario.
 *
 * @module
 */
import { freePort } from "../../../testing/free_port.ts";
import type { ProgramProcess } from "../../../testing/program_process.ts";
import type { BenchContext, Scope } from "./context.ts";

function receiverEnv(ctx: BenchContext, prefix: string, port: number, id: string) {
  return {
    [`${prefix}NATS_URL`]: ctx.nats.url,
    [`${prefix}CLIENT_ID`]: id,
    [`${prefix}BIND_ADDRESS`]: `127.0.0.1:${port}`,
    [`${prefix}STATS_ADDRESS`]: "off",
  };
}

export async function startReceiver(
  ctx: BenchContext,
  scope: Scope,
  scenario: string,
  kind: "tcp" | "http",
  o: { fdLimit?: number; env?: Record<string, string> } = {},
): Promise<{ child: ProgramProcess; port: number }> {
  const port = freePort();
  const child = kind === "tcp"
    ? scope.start(ctx, scenario, "tcp_receiver", "services/tcp_receiver/main.ts", {
      env: { ...receiverEnv(ctx, "TCPRCVR_", port, `bench-${scenario}`), ...o.env },
      fdLimit: o.fdLimit,
      underTest: true,
    })
    : scope.start(ctx, scenario, "http_receiver", "services/http_receiver/main.ts", {
      env: { ...receiverEnv(ctx, "RCVR_", port, `bench-${scenario}`), ...o.env },
      underTest: true,
    });
  await child.event("ready");
  return { child, port };
}
