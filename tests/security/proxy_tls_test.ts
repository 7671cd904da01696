/**
 * Issue #15, stats proxy: HTTPS with PROXY_TLS_CERT/KEY (so PROXY_TOKEN never
 * crosses the network in clear), the token on /config over HTTPS, a renewed
 * certificate served without a restart, unusable files refused at start.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { parseEnv } from "../../services/config/mod.ts";
import { Logger } from "../../services/log/mod.ts";
import { proxySpec, startStatsProxy } from "../../services/stats_proxy/mod.ts";
import { freePort, NatsServer } from "../../testing/mod.ts";
import {
  hasOpenssl,
  makeCertificates,
  renewServerCertificate,
  servedCertificate,
} from "./certs.ts";

const log = new Logger("stats_proxy", "warn");

Deno.test({
  name: "stats proxy over HTTPS: token required, renewed certificate served",
  ignore: !(await hasOpenssl()),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const certs = await makeCertificates();
    const nats = await NatsServer.start();
    const port = freePort();
    const running = await startStatsProxy(
      parseEnv(proxySpec, {
        PROXY_HTTP_PORT: String(port),
        PROXY_BIND_ADDRESS: "127.0.0.1",
        PROXY_NATS_URL: nats.url,
        PROXY_TLS_CERT: certs.serverCert,
        PROXY_TLS_KEY: certs.serverKey,
        PROXY_TOKEN: "proxy-tok-1",
      }),
      log,
    );
    const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(certs.caCert)] });
    try {
      assert.equal(running.proxy.url, `https://127.0.0.1:${port}`);
      const get = async (token?: string) => {
        const r = await fetch(`https://localhost:${port}/config`, {
          client,
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
        await r.body?.cancel();
        return r.status;
      };
      assert.equal(await get(), 401);
      assert.equal(await get("proxy-tok-1"), 200);
      await assert.rejects(() => fetch(`http://127.0.0.1:${port}/health`));

      const serial = await renewServerCertificate(certs, "renewed.localhost");
      let now = await servedCertificate(port, certs.caCert);
      for (let i = 0; i < 100 && now?.serial !== serial; i++) {
        await sleep(100);
        now = await servedCertificate(port, certs.caCert);
      }
      assert.equal(now?.serial, serial);
      assert.equal(now?.subject, "CN = renewed.localhost");
      const c2 = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(certs.caCert)] });
      const r = await fetch(`https://localhost:${port}/config`, {
        client: c2,
        headers: { authorization: "Bearer proxy-tok-1" },
      });
      assert.equal(r.status, 200);
      await r.body?.cancel();
      c2.close();
    } finally {
      client.close();
      await running.stop();
      await nats.dispose();
    }

    await assert.rejects(
      () =>
        startStatsProxy(
          parseEnv(proxySpec, {
            PROXY_HTTP_PORT: "0",
            PROXY_TLS_CERT: certs.serverCert,
            PROXY_TLS_KEY: certs.clientKey,
          }),
          log,
        ),
      /TLS certificate .* and key .*client\.key cannot be used together/,
    );
    await Deno.remove(certs.dir, { recursive: true });
  },
});
