/**
 * Issue #15, `*_STATS_TOKEN`: the stats endpoint over a real socket wants
 * the token for `/debug/vars` and `/metrics`, keeps a terse `/health` open
 * for liveness probes, counts refusals; SUB_STATS_TOKEN is a secret in the
 * subscriber's `--help`, and the TCP receiver's token file is re-read on
 * SIGHUP.
 */
import assert from "node:assert/strict";
import { Logger } from "../../services/log/mod.ts";
import { MetricsRegistry, serveStats } from "../../services/metrics/mod.ts";
import { BearerAuth } from "../../services/net/bearer_auth.ts";
import { freePort, NatsServer, ProgramProcess } from "../../testing/mod.ts";
import { startTcpReceiver } from "../helpers/receivers.ts";

Deno.test("stats endpoint: token for counters, terse open /health, refusals counted", async () => {
  const registry = new MetricsRegistry("lagermeister_test");
  registry.counter("things", "things").value = 7;
  const auth = new BearerAuth({ tokens: ["st-1", "st-2"] }, { log: new Logger("t", "error") })
    .countIn(registry, "stats_unauthorized");
  const server = serveStats({
    address: { hostname: "127.0.0.1", port: 0 },
    registry,
    health: () => ({ ok: true, ...registry.snapshot() }),
    auth,
    onListen: () => {},
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    const get = async (path: string, token?: string) => {
      const r = await fetch(`${base}${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      return { status: r.status, text: await r.text(), headers: r.headers };
    };
    for (const path of ["/metrics", "/debug/vars"]) {
      const none = await get(path);
      assert.equal(none.status, 401, path);
      assert.match(none.headers.get("www-authenticate")!, /^Bearer/);
      assert.ok(!none.text.includes("things"));
      assert.equal((await get(path, "nope")).status, 401);
      const ok = await get(path, "st-2");
      assert.equal(ok.status, 200);
      assert.match(ok.text, /things/);
    }
    const open = await get("/health");
    assert.equal(open.status, 200);
    assert.deepEqual(JSON.parse(open.text), { status: "ok", ok: true });
    assert.equal((await get("/health", "nope")).status, 401);
    assert.equal(JSON.parse((await get("/health", "st-1")).text).things, 7);
    const vars = JSON.parse((await get("/debug/vars", "st-1")).text);
    assert.equal(vars.stats_unauthorized_missing, 2);
    assert.equal(vars.stats_unauthorized_wrong, 3);
  } finally {
    await server.shutdown();
  }
});

Deno.test("SUB_STATS_TOKEN is a secret in --help; TCPRCVR_STATS_TOKEN=@file is re-read on SIGHUP", async () => {
  const help = await ProgramProcess.run("services/http_subscriber/main.ts", {}, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /SUB_STATS_TOKEN\s+Secret/);

  const dir = await Deno.makeTempDir({ prefix: "lm-stats-token-" });
  const file = `${dir}/stats-token`;
  await Deno.writeTextFile(file, "old-stats-token\n");
  const nats = await NatsServer.start();
  const stats = freePort();
  const rcv = await startTcpReceiver(nats, {
    TCPRCVR_STATS_ADDRESS: `127.0.0.1:${stats}`,
    TCPRCVR_STATS_TOKEN: `@${file}`,
  });
  const metrics = async (token: string) => {
    const r = await fetch(`http://127.0.0.1:${stats}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await r.body?.cancel();
    return r.status;
  };
  try {
    assert.equal(await metrics("old-stats-token"), 200);
    await Deno.writeTextFile(file, "new-stats-token\n");
    Deno.kill(rcv.proc.pid, "SIGHUP");
    await rcv.proc.waitFor(/msg="tokens reloaded"/);
    assert.equal(await metrics("old-stats-token"), 401);
    assert.equal(await metrics("new-stats-token"), 200);
  } finally {
    await rcv.proc.stop();
    await nats.dispose();
    await Deno.remove(dir, { recursive: true });
  }
  for (const t of ["old-stats-token", "new-stats-token"]) {
    assert.ok(!rcv.proc.stderr.includes(t), "a stats token is never logged");
  }
});
