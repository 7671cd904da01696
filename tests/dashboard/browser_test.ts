// The dashboard in real headless Chromium against a real nats-server and
// the real stats proxy (child process): live charts, tables, no console
// errors, and reconnecting by itself when the proxy restarts.
import assert from "node:assert/strict";
import { connect } from "nats";
import type { Page } from "playwright-core";
import { launchChromium, watchConsole } from "../helpers/browser.ts";
import { NatsServer } from "../../testing/mod.ts";
import { ProxyProcess } from "../stats_proxy/proxy_process.ts";
import { FakeMetricsPublisher } from "./fake_metrics.ts";

const OUTPUT_DIR = new URL("../output/", import.meta.url).pathname;

/** Numbers shown by `[data-testid=legend-value]` inside a chart panel. */
function legendValues(page: Page, chart: string): Promise<number[]> {
  return page.$$eval(
    `[data-testid=${chart}] [data-testid=legend-value]`,
    (els) => els.map((e) => Number((e as HTMLElement).dataset.value || "0")),
  );
}

function chartPoints(page: Page, chart: string): Promise<number> {
  return page.$eval(
    `[data-testid=${chart}] .chart-box`,
    (e) => Number((e as HTMLElement).dataset.points),
  );
}

Deno.test({
  name: "dashboard shows live metrics in Chromium and reconnects after a proxy restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await NatsServer.start();
    const nc = await connect({ servers: server.url, noAsyncTraces: true });
    const proxy = await ProxyProcess.start({
      natsUrl: server.url,
      env: { PROXY_HISTORY: "3000" },
    });
    const publisher = new FakeMetricsPublisher(nc);
    const browser = await launchChromium();
    try {
      publisher.backfill(75);
      await nc.flush();
      publisher.start(200);

      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const { errors, expectRefusedConnections } = watchConsole(page);

      await page.goto(`${proxy.url}/`);
      await page.waitForSelector("[data-testid=connection-state][data-status=connected]", {
        timeout: 10_000,
      });

      // the live charts draw on canvases and show non-zero current values
      for (const chart of ["chart-throughput", "chart-batches", "chart-lag", "chart-pending"]) {
        await page.waitForSelector(`[data-testid=${chart}] canvas`, { timeout: 10_000 });
        await page.waitForFunction(
          (c) =>
            [...document.querySelectorAll(`[data-testid=${c}] [data-testid=legend-value]`)]
              .some((e) => Number((e as HTMLElement).dataset.value) > 0),
          chart,
          { timeout: 10_000 },
        );
      }
      const input = await legendValues(page, "chart-throughput");
      assert.equal(input.length, 3, "tcp-receiver on two hosts and http-receiver");
      assert.ok(input.every((v) => v > 0), `input throughput ${input}`);
      assert.ok((await legendValues(page, "chart-batches")).every((v) => v > 0));
      assert.ok((await legendValues(page, "chart-lag")).every((v) => v > 0));
      const labels = await page.$$eval(
        "[data-testid=chart-throughput] .legend-label",
        (els) => els.map((e) => e.textContent),
      );
      assert.deepEqual(labels, ["http-receiver", "tcp-receiver@edge-1", "tcp-receiver@edge-2"]);

      // headline numbers, gauge and tables
      const kpi = (id: string) => page.textContent(`[data-testid=${id}-value]`);
      assert.match((await kpi("kpi-input"))!, /^\d[\d.,]*k?$/);
      assert.match((await kpi("kpi-output"))!, /^\d[\d.,]*k?$/);
      assert.match((await kpi("kpi-pending"))!, /^\d/);
      const gauge = await page.$eval(
        "[data-testid=lag-gauge]",
        (e) => ({
          level: (e as HTMLElement).dataset.level,
          value: (e as HTMLElement).dataset.value,
        }),
      );
      assert.equal(gauge.level, "ok");
      assert.ok(Number(gauge.value) > 0);
      assert.equal(await page.locator("[data-testid=last-seen-row]").count(), 5);
      assert.equal(await page.locator("[data-testid=receiver-row]").count(), 3);
      assert.equal(await page.locator("[data-testid=subscriber-row]").count(), 2);
      assert.deepEqual(
        await page.$$eval(
          "[data-testid=subscriber-format]",
          (els) => els.map((e) => e.textContent),
        ),
        ["ndjson", "es-bulk"],
        "each subscriber's SUB_FORMAT",
      );
      assert.equal(await page.locator("[data-testid=subscriber-item-retries]").count(), 2);
      const ago = await page.$$eval(
        "[data-testid=last-seen-ago]",
        (els) => els.map((e) => e.textContent),
      );
      assert.ok(ago.every((a) => /just now|\d s ago/.test(a ?? "")), `ago: ${ago}`);
      const invalid = await page.$$eval(
        "[data-testid=receiver-invalid]",
        (els) => els.map((e) => Number((e as HTMLElement).dataset.value)),
      );
      assert.ok(invalid.some((v) => v > 0), "invalid counts are shown");

      // live: more points arrive while we watch
      const before = await chartPoints(page, "chart-throughput");
      await page.waitForFunction(
        (n) =>
          Number(
            (document.querySelector("[data-testid=chart-throughput] .chart-box") as HTMLElement)
              .dataset.points,
          ) > n,
        before,
        { timeout: 5000 },
      );
      await page.waitForSelector("[data-testid=broker-state]", { timeout: 8000 });
      assert.match((await page.textContent("[data-testid=broker-state]"))!, /NATS connected/);

      await Deno.mkdir(OUTPUT_DIR, { recursive: true });
      await page.screenshot({ path: `${OUTPUT_DIR}dashboard.png`, fullPage: true });
      assert.deepEqual(errors, [], "no console errors");

      // a subscriber falling 75 s behind and dead-lettering: the gauge and tile say so in words
      const ts = Math.floor(Date.now() / 1000);
      const alert = { Timestamp: ts, Sender: "http-output", SourceIP: "relay-3" };
      for (
        const e of [
          {
            ...alert,
            MetricType: "Lag",
            Aggregate: "Average",
            Value: 75,
            Threshold: { Warn: 30, Error: 60 },
          },
          { ...alert, MetricType: "DeadLettered", Aggregate: "Total", Value: 4 },
        ]
      ) nc.publish("stats-events", new TextEncoder().encode(JSON.stringify(e)));
      await page.waitForSelector("[data-testid=lag-gauge][data-level=error]", { timeout: 5000 });
      assert.match((await page.textContent("[data-testid=lag-gauge]"))!, /ERROR/);
      assert.match((await page.textContent("[data-testid=kpi-problems]"))!, /ALERT/);
      assert.equal(await page.textContent("[data-testid=kpi-problems-value]"), "4");
      await page.screenshot({ path: `${OUTPUT_DIR}dashboard-alert.png` });

      // restart the proxy: the page says it is reconnecting, then is live again
      expectRefusedConnections();
      await proxy.stop();
      await page.waitForSelector("[data-testid=connection-state][data-status=reconnecting]", {
        timeout: 5000,
      });
      assert.match((await page.textContent("[data-testid=connection-state]"))!, /Reconnecting/);
      await page.screenshot({ path: `${OUTPUT_DIR}dashboard-reconnecting.png` });
      const t0 = performance.now();
      await proxy.restart();
      await page.waitForSelector("[data-testid=connection-state][data-status=connected]", {
        timeout: 15_000,
      });
      const reconnectMs = performance.now() - t0;
      const afterRestart = await chartPoints(page, "chart-throughput");
      await page.waitForFunction(
        (n) =>
          Number(
            (document.querySelector("[data-testid=chart-throughput] .chart-box") as HTMLElement)
              .dataset.points,
          ) > n,
        afterRestart,
        { timeout: 5000 },
      );
      assert.match((await page.textContent("[data-testid=connection-state]"))!, /Live/);
      assert.ok(reconnectMs < 15_000);
      assert.deepEqual(errors, [], "no console errors besides refused reconnects");
      console.log(`reconnected ${Math.round(reconnectMs)} ms after the proxy restart began`);
    } catch (err) {
      console.error(proxy.log);
      throw err;
    } finally {
      publisher.stop();
      await browser.close();
      await proxy.stop();
      await nc.close();
      await server.dispose();
    }
  },
});
