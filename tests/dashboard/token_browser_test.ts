// Issue #15: PROXY_TOKEN in real headless Chromium against the real stats
// proxy: the dashboard asks for the token once, refuses a wrong one, then
// streams over a WebSocket that carries the token as a subprotocol, and
// keeps the token for a reload of the tab. Without the token /messages and
// /config answer 401; /health stays open but terse.
import assert from "node:assert/strict";
import { connect } from "nats";
import { launchChromium, watchConsole } from "../helpers/browser.ts";
import { NatsServer } from "../../testing/mod.ts";
import { ProxyProcess } from "../stats_proxy/proxy_process.ts";
import { FakeMetricsPublisher } from "./fake_metrics.ts";

const TOKEN = "dash-7c1f0e9d8b6a4c2e";

Deno.test({
  name: "dashboard asks for PROXY_TOKEN once, then streams; no token no data",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await NatsServer.start();
    const nc = await connect({ servers: server.url, noAsyncTraces: true });
    const proxy = await ProxyProcess.start({
      natsUrl: server.url,
      env: { PROXY_TOKEN: TOKEN, PROXY_LOGGING_LEVEL: "debug" },
    });
    const publisher = new FakeMetricsPublisher(nc);
    const browser = await launchChromium();
    try {
      publisher.backfill(20);
      await nc.flush();
      publisher.start(200);

      // Without the token: no data (plain HTTP and WebSocket).
      const config = await fetch(`${proxy.url}/config`);
      assert.equal(config.status, 401);
      assert.match(config.headers.get("www-authenticate") ?? "", /^Bearer /);
      assert.equal((await config.json()).status, "error");
      const ws = await fetch(`${proxy.url}/messages`, {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      });
      assert.equal(ws.status, 401);
      await ws.body?.cancel();
      const health = await (await fetch(`${proxy.url}/health`)).json();
      assert.deepEqual(Object.keys(health).sort(), ["nats", "status"]);
      // With it (as Prometheus or curl send it): data.
      const ok = await fetch(`${proxy.url}/config`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(ok.status, 200);
      await ok.body?.cancel();

      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const { errors } = watchConsole(page);
      await page.goto(`${proxy.url}/`);
      await page.waitForSelector("[data-testid=token-prompt]", { timeout: 10_000 });

      await page.fill("[data-testid=token-input]", "not-the-token");
      await page.click("[data-testid=token-submit]");
      await page.waitForSelector("[data-testid=token-error]", { timeout: 10_000 });

      await page.fill("[data-testid=token-input]", TOKEN);
      await page.click("[data-testid=token-submit]");
      await page.waitForSelector("[data-testid=connection-state][data-status=connected]", {
        timeout: 10_000,
      });
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll(
            "[data-testid=chart-throughput] [data-testid=legend-value]",
          )]
            .some((e) => Number((e as HTMLElement).dataset.value) > 0),
        undefined,
        { timeout: 10_000 },
      );
      assert.equal(
        await page.evaluate(() => sessionStorage.getItem("lagermeister.proxyToken")),
        TOKEN,
        "kept in this tab's sessionStorage",
      );

      // A reload of the tab does not ask again.
      await page.reload();
      await page.waitForSelector("[data-testid=connection-state][data-status=connected]", {
        timeout: 10_000,
      });
      assert.equal(await page.$("[data-testid=token-prompt]"), null);

      // The proxy saw the refusals (401s from the wrong token and the probes above), counted.
      const h = await (await fetch(`${proxy.url}/health`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })).json();
      assert.ok(h.unauthorizedBy.missing >= 2, JSON.stringify(h.unauthorizedBy));
      assert.ok(h.unauthorizedBy.wrong >= 1, JSON.stringify(h.unauthorizedBy));
      assert.ok(h.clients.connected >= 1);
      // Chromium logs the 401 answer to the wrong token's /config probe as a console error.
      assert.deepEqual(errors.filter((e) => !/401/.test(e)), []);
      assert.ok(!proxy.log.includes(TOKEN), "the proxy never logs the token");
    } finally {
      publisher.stop();
      await browser.close();
      await proxy.stop();
      await nc.close();
      await server.dispose();
    }
  },
});
