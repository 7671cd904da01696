// The stats proxy as operators run it (child process of main.ts) against a
// real nats-server: history replay, live stream, /config, /health, invalid
// events, origins, the dashboard files, shutdown.
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "nats";
import type { MetricEvent } from "../../services/metrics/event.ts";
import { NatsServer } from "../../testing/mod.ts";
import { ProxyProcess } from "./proxy_process.ts";
import { metricEvent, rawUpgrade, RecordingClient } from "./ws_client.ts";
import { waitUntil } from "../helpers/wait.ts";

const enc = new TextEncoder();

function publish(nc: NatsConnection, e: MetricEvent | string, subject = "stats-events"): void {
  nc.publish(subject, enc.encode(typeof e === "string" ? e : JSON.stringify(e)));
}

/** A nats-server, a client connection and a proxy process, torn down afterwards. */
async function withProxy(
  env: Record<string, string>,
  fn: (ctx: { server: NatsServer; nc: NatsConnection; proxy: ProxyProcess }) => Promise<void>,
): Promise<void> {
  const server = await NatsServer.start();
  let nc: NatsConnection | undefined;
  let proxy: ProxyProcess | undefined;
  try {
    nc = await connect({
      servers: server.url,
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    proxy = await ProxyProcess.start({ natsUrl: server.url, env });
    await fn({ server, nc, proxy });
  } catch (err) {
    if (proxy) console.error(proxy.log);
    throw err;
  } finally {
    await proxy?.stop();
    await nc?.close();
    await server.dispose();
  }
}

Deno.test("replays the last PROXY_HISTORY events to each new client, then streams live", async () => {
  await withProxy({ PROXY_HISTORY: "50" }, async ({ nc, proxy }) => {
    for (let i = 0; i < 80; i++) publish(nc, metricEvent({ Value: i }));
    await nc.flush();
    await waitUntil("80 events", async () => (await proxy.health()).events.valid === 80);

    const a = new RecordingClient(`ws://127.0.0.1:${proxy.port}/messages`);
    await a.opened;
    await a.waitFor((ev) => ev.length >= 50);
    assert.deepEqual(a.events.map((e) => e.Value), Array.from({ length: 50 }, (_, i) => 30 + i));
    assert.deepEqual(a.events[0], metricEvent({ Value: 30, Timestamp: a.events[0].Timestamp }));

    publish(
      nc,
      metricEvent({
        Value: 1000,
        MetricType: "Lag",
        Aggregate: "Average",
        Threshold: { Warn: 30, Error: 60 },
      }),
    );
    await a.waitFor((ev) => ev.length === 51);
    assert.equal(a.events[50].Value, 1000);
    assert.deepEqual(a.events[50].Threshold, { Warn: 30, Error: 60 });

    // a second client gets the same (now newer) history
    const b = new RecordingClient(`ws://127.0.0.1:${proxy.port}/messages`);
    await b.waitFor((ev) => ev.length >= 50);
    assert.deepEqual(b.events.map((e) => e.Value), [...a.events.slice(-50).map((e) => e.Value)]);
    assert.equal((await proxy.health()).clients.connected, 2);
    await a.close();
    await b.close();
  });
});

Deno.test("counts and drops invalid events without disturbing valid ones", async () => {
  await withProxy({ PROXY_LOGGING_LEVEL: "debug" }, async ({ nc, proxy }) => {
    const client = new RecordingClient(`ws://127.0.0.1:${proxy.port}/messages`);
    await client.opened;
    const bad = [
      "not json",
      "",
      "[]",
      "null",
      JSON.stringify({ ...metricEvent(), Value: "12" }),
      JSON.stringify({ ...metricEvent(), Aggregate: "Max" }),
      JSON.stringify({ ...metricEvent(), Sender: "" }),
      JSON.stringify({ Timestamp: 1, Value: 1 }),
      JSON.stringify({ ...metricEvent(), Threshold: { Warn: "30" } }),
      JSON.stringify({ ...metricEvent(), Sender: "x".repeat(10_000) }),
    ];
    publish(nc, metricEvent({ Value: 1 }));
    for (const b of bad) publish(nc, b);
    publish(nc, metricEvent({ Value: 2 }));
    await nc.flush();
    await client.waitFor((ev) => ev.length === 2);
    const h = await proxy.health();
    assert.equal(h.events.invalid, bad.length);
    assert.equal(h.events.valid, 2);
    assert.deepEqual(client.events.map((e) => e.Value), [1, 2]);
    assert.match(proxy.log, /invalid stats event dropped/);
    await client.close();
  });
});

Deno.test("/config lists each MetricType's senders; /health reports NATS state", async () => {
  await withProxy({}, async ({ server, nc, proxy }) => {
    publish(nc, metricEvent({ Sender: "tcp-receiver", MetricType: "Throughput" }));
    publish(nc, metricEvent({ Sender: "http-receiver", MetricType: "Throughput" }));
    publish(nc, metricEvent({ Sender: "http-output", MetricType: "Lag", Aggregate: "Average" }));
    publish(nc, metricEvent({ Sender: "http-output", MetricType: "BatchCount" }));
    publish(
      nc,
      metricEvent({ Sender: "http-output", SourceIP: "other", MetricType: "BatchCount" }),
    );
    await nc.flush();
    await waitUntil("5 events", async () => (await proxy.health()).events.valid === 5);

    const r = await fetch(`${proxy.url}/config`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type")!, /application\/json/);
    assert.deepEqual(await r.json(), {
      BatchCount: { "http-output": true },
      Lag: { "http-output": true },
      Throughput: { "http-receiver": true, "tcp-receiver": true },
    });

    const h = await proxy.health();
    assert.equal(h.status, "ok");
    assert.equal(h.nats, "connected");
    assert.deepEqual(h.events, { received: 5, valid: 5, invalid: 0, history: 5 });
    assert.equal(h.clients.connected, 0);
    assert.equal(h.dashboard, "ready");

    // NATS down: /health says so with 503, and recovers with it
    await server.stop();
    await waitUntil("503", async () => {
      const r = await fetch(`${proxy.url}/health`);
      await r.body?.cancel();
      return r.status === 503;
    });
    assert.equal((await proxy.health()).nats, "reconnecting");
    await server.restart();
    await waitUntil("200 again", async () => {
      const r = await fetch(`${proxy.url}/health`);
      await r.body?.cancel();
      return r.status === 200;
    }, 10_000);
    // the subscription came back with the connection
    await waitUntil("test client reconnected", async () => {
      try {
        await nc.flush();
        return true;
      } catch {
        return false;
      }
    }, 10_000);
    publish(nc, metricEvent({ Sender: "after-restart" }));
    await waitUntil("event after restart", async () => (await proxy.health()).events.valid === 6);
  });
});

Deno.test("refuses foreign origins with 403 and allows listed ones", async () => {
  await withProxy({ PROXY_ALLOWED_ORIGINS: "https://ops.example.com/" }, async ({ proxy }) => {
    const evil = await rawUpgrade(proxy.port, "/messages", { Origin: "https://evil.example" });
    assert.equal(evil.status, 403, evil.head);
    evil.conn.close();
    const nullOrigin = await rawUpgrade(proxy.port, "/messages", { Origin: "null" });
    assert.equal(nullOrigin.status, 403);
    nullOrigin.conn.close();

    const listed = await rawUpgrade(proxy.port, "/messages", { Origin: "https://ops.example.com" });
    assert.equal(listed.status, 101, listed.head);
    listed.conn.close();
    const same = await rawUpgrade(proxy.port, "/messages", {
      Origin: `http://127.0.0.1:${proxy.port}`,
    });
    assert.equal(same.status, 101);
    same.conn.close();
    const none = await rawUpgrade(proxy.port, "/messages");
    assert.equal(none.status, 101);
    none.conn.close();

    const r403 = await fetch(`${proxy.url}/config`, {
      headers: { origin: "https://evil.example" },
    });
    assert.equal(r403.status, 403);
    assert.equal((await r403.json()).status, "error");
    const cors = await fetch(`${proxy.url}/config`, {
      headers: { origin: "https://ops.example.com" },
    });
    assert.equal(cors.status, 200);
    assert.equal(cors.headers.get("access-control-allow-origin"), "https://ops.example.com");
    await cors.body?.cancel();
    const page = await fetch(`${proxy.url}/`, { headers: { origin: "https://evil.example" } });
    assert.equal(page.status, 403);
    await page.body?.cancel();
  });
});

Deno.test("serves the dashboard from its own origin; other paths and methods are errors", async () => {
  await withProxy({}, async ({ proxy }) => {
    const page = await fetch(`${proxy.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /text\/html/);
    assert.match(page.headers.get("content-security-policy")!, /default-src 'self'/);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/app.js">/);
    assert.doesNotMatch(html, /(src|href)="https?:/, "no CDN: every file from the proxy itself");

    const js = await fetch(`${proxy.url}/app.js`);
    assert.match(js.headers.get("content-type")!, /javascript/);
    const etag = js.headers.get("etag")!;
    assert.ok((await js.text()).length > 10_000);
    const again = await fetch(`${proxy.url}/app.js`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    await again.body?.cancel();

    const css = await (await fetch(`${proxy.url}/app.css`)).text();
    assert.match(css, /\.uplot/, "uPlot's CSS is bundled");
    assert.match(css, /--bg:/, "the dashboard's own styles are bundled");

    const missing = await fetch(`${proxy.url}/nope`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await fetch(`${proxy.url}/config`, { method: "POST", body: "{}" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
    const notWs = await fetch(`${proxy.url}/messages`);
    assert.equal(notWs.status, 426);
    await notWs.body?.cancel();
  });
});

Deno.test("SIGTERM closes clients with 1001 and exits 0", async () => {
  await withProxy({}, async ({ proxy }) => {
    const client = new RecordingClient(`ws://127.0.0.1:${proxy.port}/messages`);
    await client.opened;
    const stuck = await rawUpgrade(proxy.port);
    assert.equal(stuck.status, 101);
    try {
      const t0 = performance.now();
      assert.equal(await proxy.stop("SIGTERM"), 0);
      assert.ok(
        performance.now() - t0 < 5000,
        "a client that never reads does not hold up shutdown",
      );
      assert.equal((await client.closed).code, 1001);
      assert.match(proxy.log, /stats proxy stopped/);
    } finally {
      stuck.conn.close();
    }
  });
});

Deno.test("--help prints the PROXY_ env var table; bad config exits 2 with one line", async () => {
  const main = new URL("../../services/stats_proxy/main.ts", import.meta.url).pathname;
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", main, "--help"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(help.code, 0);
  const text = new TextDecoder().decode(help.stdout);
  for (
    const name of [
      "PROXY_HTTP_PORT",
      "PROXY_NATS_URL",
      "PROXY_SUB_CHANNEL",
      "PROXY_BIND_ADDRESS",
      "PROXY_ALLOWED_ORIGINS",
      "PROXY_HISTORY",
    ]
  ) assert.match(text, new RegExp(`^${name}\\s`, "m"));
  assert.match(text, /PROXY_HTTP_PORT\s+Unsigned Integer\s+9010/);
  assert.match(text, /PROXY_SUB_CHANNEL\s+String\s+stats-events/);

  for (
    const [env, msg] of [
      [{ PROXY_HTTP_PORT: "ninety" }, /PROXY_HTTP_PORT must be a non-negative integer/],
      [
        { PROXY_ALLOWED_ORIGINS: "ftp://x" },
        /PROXY_ALLOWED_ORIGINS must be a comma-separated list/,
      ],
      [{ PROXY_HISTORY: "-1" }, /PROXY_HISTORY must be/],
    ] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", main],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2);
    const err = new TextDecoder().decode(out.stderr).trim();
    assert.equal(err.split("\n").length, 1, err);
    assert.match(err, msg);
  }
});
