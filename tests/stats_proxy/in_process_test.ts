// The stats proxy embedded in another program (as `deno task start` may
// run it): startStatsProxy / StatsProxy.start, listening before NATS is up.
import assert from "node:assert/strict";
import { connect } from "nats";
import { parseEnv } from "../../services/config/mod.ts";
import { Logger } from "../../services/log/mod.ts";
import {
  loadDashboard,
  proxySpec,
  startStatsProxy,
  StatsProxy,
} from "../../services/stats_proxy/mod.ts";
import { ensureDashboardBundle, freePort, NatsServer } from "../../testing/mod.ts";
import { metricEvent, RecordingClient } from "./ws_client.ts";
import { waitUntil } from "../helpers/wait.ts";

const log = new Logger("stats_proxy", "warn");

async function status(url: string): Promise<number> {
  const r = await fetch(url);
  await r.body?.cancel();
  return r.status;
}

Deno.test({
  name: "listens at once, relays once NATS comes up, stops cleanly",
  // connectBroker keeps retry timers of its own until the first connection succeeds
  sanitizeOps: false,
  async fn() {
    const natsPort = freePort();
    const proxy = await StatsProxy.start({
      hostname: "127.0.0.1",
      port: 0,
      broker: {
        servers: [`nats://127.0.0.1:${natsPort}`],
        name: "stats_proxy",
        reconnectWaitMs: 50,
      },
      log,
    });
    let server: NatsServer | undefined;
    try {
      assert.equal(await status(`${proxy.url}/health`), 503);
      assert.equal(proxy.health().nats, "connecting");
      assert.equal(await status(`${proxy.url}/`), 503, "no dashboard given: / explains");

      server = await NatsServer.start({ port: natsPort });
      await waitUntil("NATS connected", async () => await status(`${proxy.url}/health`) === 200);
      const client = new RecordingClient(`ws://127.0.0.1:${proxy.addr.port}/messages`);
      await client.opened;
      const nc = await connect({ servers: server.url, noAsyncTraces: true });
      nc.publish(
        "stats-events",
        new TextEncoder().encode(JSON.stringify(metricEvent({ Value: 7 }))),
      );
      await client.waitFor((ev) => ev.length === 1);
      assert.equal(client.events[0].Value, 7);
      await nc.close();
      await proxy.stop();
      assert.equal((await client.closed).code, 1001);
      await assert.rejects(fetch(`${proxy.url}/health`), "the port is released");
    } finally {
      await proxy.stop();
      await server?.dispose();
    }
  },
});

Deno.test("startStatsProxy starts from a parsed config and serves the dashboard", async () => {
  await ensureDashboardBundle();
  const server = await NatsServer.start();
  const running = await startStatsProxy(
    parseEnv(proxySpec, {
      PROXY_HTTP_PORT: "0",
      PROXY_BIND_ADDRESS: "127.0.0.1",
      PROXY_NATS_URL: server.url,
      PROXY_HISTORY: "10",
    }),
    log,
  );
  try {
    const { url } = running.proxy;
    await waitUntil("NATS connected", async () => await status(`${url}/health`) === 200);
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Lagermeister/);
    assert.equal(running.proxy.health().dashboard, "ready");
  } finally {
    await running.stop();
    await server.dispose();
  }
});

Deno.test("without a bundle the proxy only serves: / answers 503 naming `deno task bundle`", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lm-no-dash-" });
  await Deno.writeTextFile(`${dir}/index.html`, "<html></html>");
  const assets = await loadDashboard(log, dir);
  assert.equal(assets.files.size, 0);
  assert.match(assets.problem ?? "", /deno task bundle/);
  const proxy = await StatsProxy.start({
    hostname: "127.0.0.1",
    port: 0,
    broker: { servers: [`nats://127.0.0.1:${freePort()}`], name: "stats_proxy" },
    assets,
    log,
  });
  try {
    const page = await fetch(`${proxy.url}/`);
    assert.equal(page.status, 503);
    assert.match(await page.text(), /deno task bundle/);
    assert.equal(proxy.health().dashboard, "missing");
  } finally {
    await proxy.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
