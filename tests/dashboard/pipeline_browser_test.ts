/**
 * Issue #5 acceptance: the real pipeline (`deno task start`, with the log
 * generator sending over TCP and HTTP) drives the dashboard in headless
 * Chromium: live non-empty charts and the last-seen table within seconds,
 * no console errors; when the stats proxy dies, `start` restarts it and the
 * page reconnects by itself. Saves tests/output/dashboard-pipeline.png.
 */
import assert from "node:assert/strict";
import { launchChromium, watchConsole } from "../helpers/browser.ts";
import { startPipeline } from "../helpers/pipeline.ts";
import { ProgramProcess } from "../../testing/mod.ts";

const OUTPUT_DIR = new URL("../output/", import.meta.url).pathname;

Deno.test({
  name: "dashboard in Chromium shows the live pipeline and reconnects after the proxy dies",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { proc: start, dataDir, ports: p } = await startPipeline();
    const generators: ProgramProcess[] = [];
    const browser = await launchChromium();
    try {
      generators.push(
        ProgramProcess.start("services/log_generator/main.ts", {
          GEN_TARGET: `tcp://127.0.0.1:${p.tcp}`,
          GEN_RATE: "400",
          GEN_DURATION: "60s",
        }),
        ProgramProcess.start("services/log_generator/main.ts", {
          GEN_TARGET: `http://127.0.0.1:${p.http}/`,
          GEN_RATE: "100",
          GEN_DURATION: "60s",
        }),
      );
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const { errors, expectRefusedConnections } = watchConsole(page);
      await page.goto(`http://127.0.0.1:${p.proxy}/`);
      await page.waitForSelector("[data-testid=connection-state][data-status=connected]", {
        timeout: 15_000,
      });

      // Throughput and batch count: non-zero live values from the real programs.
      for (const chart of ["chart-throughput", "chart-batches"]) {
        await page.waitForFunction(
          (c) =>
            [...document.querySelectorAll(`[data-testid=${c}] [data-testid=legend-value]`)]
              .some((e) => Number((e as HTMLElement).dataset.value) > 0),
          chart,
          { timeout: 20_000 },
        );
      }
      // Lag: the subscriber's series is drawn (near 0 when it keeps up).
      await page.waitForSelector("[data-testid=chart-lag] [data-testid=legend-item]", {
        timeout: 20_000,
      });
      for (const chart of ["chart-throughput", "chart-batches", "chart-lag"]) {
        assert.ok(await page.$(`[data-testid=${chart}] canvas`), `${chart} draws on a canvas`);
      }
      const labels = await page.$$eval(
        "[data-testid=chart-throughput] .legend-label",
        (els) => els.map((e) => e.textContent ?? ""),
      );
      assert.ok(labels.some((l) => l.startsWith("tcp-receiver")), `labels ${labels}`);
      assert.ok(labels.some((l) => l.startsWith("http-receiver")), `labels ${labels}`);
      await page.waitForFunction(
        () => document.querySelectorAll("[data-testid=last-seen-row]").length >= 3,
        undefined,
        { timeout: 10_000 },
      );
      const seen = await page.$$eval(
        "[data-testid=last-seen-row]",
        (rows) => rows.map((r) => r.textContent ?? ""),
      );
      for (const sender of ["tcp-receiver", "http-receiver", "http-output"]) {
        assert.ok(seen.some((r) => r.includes(sender)), `${sender} in the last-seen table`);
      }
      // A few seconds of history make a readable picture.
      await page.waitForFunction(
        () =>
          Number(
            (document.querySelector("[data-testid=chart-throughput] .chart-box") as HTMLElement)
              .dataset.points,
          ) >= 8,
        undefined,
        { timeout: 20_000 },
      );
      await Deno.mkdir(OUTPUT_DIR, { recursive: true });
      await page.screenshot({ path: `${OUTPUT_DIR}dashboard-pipeline.png`, fullPage: true });
      assert.deepEqual(errors, [], "no console errors");

      // The stats proxy dies; start restarts it; the page reconnects by itself.
      const proxyPid = Number(/child=stats-proxy pid=(\d+)/.exec(start.stderr)?.[1]);
      assert.ok(proxyPid > 0, "stats proxy pid logged");
      expectRefusedConnections();
      Deno.kill(proxyPid, "SIGKILL");
      await page.waitForSelector("[data-testid=connection-state][data-status=reconnecting]", {
        timeout: 10_000,
      });
      await page.waitForSelector("[data-testid=connection-state][data-status=connected]", {
        timeout: 30_000,
      });
      const points = await page.$eval(
        "[data-testid=chart-throughput] .chart-box",
        (e) => Number((e as HTMLElement).dataset.points),
      );
      await page.waitForFunction(
        (n) =>
          Number(
            (document.querySelector("[data-testid=chart-throughput] .chart-box") as HTMLElement)
              .dataset.points,
          ) > n,
        points,
        { timeout: 10_000 },
      );
      assert.match(
        start.stderr,
        /child exited unexpectedly.*child=stats-proxy|child=stats-proxy.*exited/,
      );
      assert.deepEqual(errors, [], "no console errors besides refused reconnects");
    } finally {
      await browser.close();
      for (const g of generators) await g.stop();
      const status = await start.stop("SIGINT", 60_000);
      assert.equal(status.code, 0);
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
