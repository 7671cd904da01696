/**
 * Starting a receiver under test (TCP or HTTP) for a bench scenario.
 *
 * @module
 */
import { freePort } from "../../../testing/free_port.ts";
import type { ProgramProcess } from "../../../testing/program_process.ts";
import type { BenchContext, Scope } from "./context.ts";

function receiverEnv(
  ctx: BenchContext,
  prefix: string,
  port: number,
  statsPort: number,
  id: string,
) {
  return {
    [`${prefix}NATS_URL`]: ctx.nats.url,
    [`${prefix}CLIENT_ID`]: id,
    [`${prefix}BIND_ADDRESS`]: `127.0.0.1:${port}`,
    // The bench reads how many log messages are stored from here (stored_total).
    [`${prefix}STATS_ADDRESS`]: `127.0.0.1:${statsPort}`,
  };
}

/** A receiver under test: its process, its port, and its `/debug/vars` URL. */
export interface BenchReceiver {
  child: ProgramProcess;
  port: number;
  statsUrl: string;
}

export async function startReceiver(
  ctx: BenchContext,
  scope: Scope,
  scenario: string,
  kind: "tcp" | "http",
  o: { fdLimit?: number; env?: Record<string, string> } = {},
): Promise<BenchReceiver> {
  const port = freePort();
  const statsPort = freePort();
  const child = kind === "tcp"
    ? scope.start(ctx, scenario, "tcp_receiver", "services/tcp_receiver/main.ts", {
      env: { ...receiverEnv(ctx, "TCPRCVR_", port, statsPort, `bench-${scenario}`), ...o.env },
      fdLimit: o.fdLimit,
      underTest: true,
    })
    : scope.start(ctx, scenario, "http_receiver", "services/http_receiver/main.ts", {
      env: { ...receiverEnv(ctx, "RCVR_", port, statsPort, `bench-${scenario}`), ...o.env },
      underTest: true,
    });
  await child.event("ready");
  return { child, port, statsUrl: `http://127.0.0.1:${statsPort}/debug/vars` };
}
