/**
 * `deno task start` as a child process on free ports with its own data
 * dir, for tests of the whole pipeline.
 *
 * @module
 */
import { ensureDashboardBundle, freePort, ProgramProcess, waitForPort } from "../../testing/mod.ts";

/** A running `start` and where its parts listen. */
export interface RunningPipeline {
  proc: ProgramProcess;
  dataDir: string;
  ports: { nats: number; tcp: number; http: number; proxy: number; sink: number };
}

/**
 * Starts `services/start/main.ts` (after the dashboard bundle step `deno
 * task start` runs first) and waits until the receivers and the proxy listen.
 */
export async function startPipeline(env: Record<string, string> = {}): Promise<RunningPipeline> {
  await ensureDashboardBundle();
  const dataDir = await Deno.makeTempDir({ prefix: "lm-start-" });
  const ports = {
    nats: freePort(),
    tcp: freePort(),
    http: freePort(),
    proxy: freePort(),
    sink: freePort(),
  };
  const proc = ProgramProcess.start("services/start/main.ts", {
    START_DATA_DIR: dataDir,
    START_NATS_PORT: String(ports.nats),
    START_SINK_ADDRESS: `127.0.0.1:${ports.sink}`,
    TCPRCVR_BIND_ADDRESS: `127.0.0.1:${ports.tcp}`,
    RCVR_BIND_ADDRESS: `127.0.0.1:${ports.http}`,
    PROXY_HTTP_PORT: String(ports.proxy),
    TCPRCVR_STATS_ADDRESS: "off",
    RCVR_STATS_ADDRESS: "off",
    SUB_STATS_ADDRESS: "off",
    SUB_BATCH_TIMEOUT: "500ms",
    ...env,
  });
  await waitForPort(ports.tcp, 30_000);
  await waitForPort(ports.http, 30_000);
  await waitForPort(ports.proxy, 30_000);
  return { proc, dataDir, ports };
}
