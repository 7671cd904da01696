/**
 * Issue #15, HTTP receiver: HTTPS, bearer tokens (401 + JSON +
 * WWW-Authenticate, nothing stored, refusals counted by reason), token
 * rotation on SIGHUP, a renewed certificate served without a restart, the
 * stats token, and no token ever printed.
 */
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "nats";
import { freePort, NatsServer, ProgramProcess } from "../../testing/mod.ts";
import { makeMessage, streamMessages } from "../helpers/messages.ts";
import { startHttpReceiver } from "../helpers/receivers.ts";
import {
  hasOpenssl,
  makeCertificates,
  renewServerCertificate,
  servedCertificate,
} from "./certs.ts";
import { pollUntil } from "../helpers/wait.ts";

const TOKEN_A = "tok-A-7f3c9d1e5b2a4c6d8e0f";
const TOKEN_B = "tok-B-0a9b8c7d6e5f4a3b2c1d";
const WRONG = "tok-WRONG-1234567890abcdef";
const STATS = "stats-9e8d7c6b5a4f3e2d1c0b";

async function post(
  client: Deno.HttpClient,
  port: number,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const r = await fetch(`https://localhost:${port}/`, {
    method: "POST",
    body: makeMessage(1).bytes as Uint8Array<ArrayBuffer>,
    headers,
    client,
  });
  return { status: r.status, body: await r.json(), headers: r.headers };
}

Deno.test({
  name: "http: HTTPS with bearer tokens; refusals 401, counted, nothing stored; rotation on SIGHUP",
  ignore: !(await hasOpenssl()),
  async fn() {
    const certs = await makeCertificates();
    const tokenFile = `${certs.dir}/tokens`;
    await Deno.writeTextFile(tokenFile, `# rotated by ops\n${TOKEN_A}\n`);
    const nats = await NatsServer.start();
    const stats = freePort();
    const rcv = await startHttpReceiver(nats, {
      RCVR_TLS_CERT: certs.serverCert,
      RCVR_TLS_KEY: certs.serverKey,
      RCVR_AUTH_TOKENS: `@${tokenFile}`,
      RCVR_STATS_ADDRESS: `127.0.0.1:${stats}`,
      RCVR_STATS_TOKEN: STATS,
    });
    const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(certs.caCert)] });
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({ servers: nats.url });
      // Plain HTTP to the HTTPS port gets no answer.
      await assert.rejects(() => fetch(`http://127.0.0.1:${rcv.port}/health`));

      const none = await post(client, rcv.port);
      assert.equal(none.status, 401);
      assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer realm="lagermeister"$/);
      assert.equal(none.body.status, "error");
      const wrong = await post(client, rcv.port, WRONG);
      assert.equal(wrong.status, 401);
      assert.match(wrong.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
      const malformed = await fetch(`https://localhost:${rcv.port}/`, {
        method: "POST",
        body: makeMessage(2).bytes as Uint8Array<ArrayBuffer>,
        headers: { authorization: `Basic ${btoa(`u:${TOKEN_A}`)}` },
        client,
      });
      assert.equal(malformed.status, 401);
      await malformed.body?.cancel();
      assert.equal(await streamMessages(nc, "LAGERMEISTER"), 0, "nothing stored for refusals");

      assert.equal((await post(client, rcv.port, TOKEN_A)).status, 200);
      assert.equal(await streamMessages(nc, "LAGERMEISTER"), 1);

      // Rotation: B replaces A in the file; SIGHUP makes it count.
      await Deno.writeTextFile(tokenFile, `${TOKEN_B}\n`);
      Deno.kill(rcv.proc.pid, "SIGHUP");
      await rcv.proc.waitFor(/msg="tokens reloaded"/);
      assert.equal((await post(client, rcv.port, TOKEN_A)).status, 401, "old token refused");
      assert.equal((await post(client, rcv.port, TOKEN_B)).status, 200, "new token accepted");
      assert.equal(await streamMessages(nc, "LAGERMEISTER"), 2);

      // A broken file on SIGHUP keeps the current tokens.
      await Deno.writeTextFile(tokenFile, "\n");
      Deno.kill(rcv.proc.pid, "SIGHUP");
      await rcv.proc.waitFor(/msg="tokens not reloaded; the current ones stay"/);
      assert.equal((await post(client, rcv.port, TOKEN_B)).status, 200);

      // Counted by reason: /health and /metrics on the stats address (token needed)…
      const s = `http://127.0.0.1:${stats}`;
      const open = await fetch(`${s}/health`);
      assert.equal(open.status, 200);
      assert.deepEqual(
        Object.keys(await open.json()).sort(),
        ["ok", "status"],
        "/health is open, terse",
      );
      const noTok = await fetch(`${s}/metrics`);
      assert.equal(noTok.status, 401);
      await noTok.body?.cancel();
      const auth = { headers: { authorization: `Bearer ${STATS}` } };
      const metrics = await (await fetch(`${s}/metrics`, auth)).text();
      assert.match(metrics, /lagermeister_http_receiver_unauthorized_missing_total 1\n/);
      assert.match(metrics, /lagermeister_http_receiver_unauthorized_wrong_total 2\n/);
      assert.match(metrics, /lagermeister_http_receiver_unauthorized_malformed_total 1\n/);
      assert.match(metrics, /lagermeister_http_receiver_stats_unauthorized_missing_total 1\n/);
      const health = await (await fetch(`${s}/health`, auth)).json();
      assert.deepEqual(health.unauthorizedBy, { missing: 1, malformed: 1, wrong: 2 });
      // …and the receiver's own port serves them only with the stats token.
      const own = await fetch(`https://localhost:${rcv.port}/debug/vars`, { client });
      assert.equal(own.status, 401);
      await own.body?.cancel();

      // …and as MetricEvents (Unauthorized per second) on stats-events.
      const sub = nc.subscribe("stats-events", { max: 200 });
      let seen = false;
      const timer = setTimeout(() => sub.unsubscribe(), 8000);
      for await (const m of sub) {
        const e = m.json<{ MetricType: string; Sender: string }>();
        if (e.MetricType === "Unauthorized" && e.Sender === "http-receiver") {
          seen = true;
          break;
        }
      }
      clearTimeout(timer);
      sub.unsubscribe();
      assert.ok(seen, "an Unauthorized MetricEvent was published");
    } finally {
      client.close();
      await nc?.close();
      await rcv.proc.stop();
      await nats.dispose();
      await Deno.remove(certs.dir, { recursive: true });
    }
    const out = rcv.proc.stderr + rcv.proc.stdout;
    for (const secret of [TOKEN_A, TOKEN_B, WRONG, STATS]) {
      assert.ok(!out.includes(secret), `the log never shows a token (${secret.slice(0, 5)}…)`);
    }
    assert.match(out, /RCVR_AUTH_TOKENS=@\S+tokens/);
    assert.match(out, /RCVR_STATS_TOKEN=\*\*\*/);
  },
});

Deno.test({
  name: "http: a renewed certificate is served without a restart (SIGHUP and file change)",
  ignore: !(await hasOpenssl()),
  async fn() {
    const certs = await makeCertificates();
    const nats = await NatsServer.start();
    const rcv = await startHttpReceiver(nats, {
      RCVR_TLS_CERT: certs.serverCert,
      RCVR_TLS_KEY: certs.serverKey,
    });
    const ca = [await Deno.readTextFile(certs.caCert)];
    try {
      const before = await servedCertificate(rcv.port, certs.caCert);
      assert.equal(before?.subject, "CN = localhost");
      const serial = await renewServerCertificate(certs, "renewed.localhost");
      Deno.kill(rcv.proc.pid, "SIGHUP");
      assert.ok(
        await pollUntil(
          async () => (await servedCertificate(rcv.port, certs.caCert))?.serial === serial,
          10_000,
          100,
        ),
        "the renewed certificate is served",
      );
      assert.equal(
        (await servedCertificate(rcv.port, certs.caCert))?.subject,
        "CN = renewed.localhost",
      );
      const client = Deno.createHttpClient({ caCerts: ca });
      assert.equal((await post(client, rcv.port)).status, 200);
      client.close();
    } finally {
      await rcv.proc.stop();
      await nats.dispose();
      await Deno.remove(certs.dir, { recursive: true });
    }
    assert.match(rcv.proc.stderr, /msg="TLS certificate reloaded"/);
  },
});

Deno.test("http: tokens and stats tokens are redacted in --help, errors and the start-up summary", async () => {
  const help = await ProgramProcess.run("services/http_receiver/main.ts", {}, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /RCVR_AUTH_TOKENS\s+Secret/);
  assert.match(help.stdout, /RCVR_STATS_TOKEN\s+Secret/);
  assert.match(help.stdout, /RCVR_TLS_CERT/);
  const tcpHelp = await ProgramProcess.run("services/tcp_receiver/main.ts", {}, ["--help"]);
  assert.match(tcpHelp.stdout, /TCPRCVR_TLS_BIND_ADDRESS\s+String\s+:35002/);
  assert.match(tcpHelp.stdout, /TCPRCVR_TLS_ONLY/);
  assert.match(tcpHelp.stdout, /TCPRCVR_STATS_TOKEN\s+Secret/);

  // A bad value is named without showing it.
  const bad = await ProgramProcess.run("services/http_receiver/main.ts", {
    RCVR_CLIENT_ID: "t",
    RCVR_AUTH_TOKENS: `${TOKEN_A}, has space`,
  });
  assert.equal(bad.code, 2);
  assert.ok(!bad.stderr.includes(TOKEN_A), bad.stderr);
  assert.match(bad.stderr, /RCVR_AUTH_TOKENS must be .*the value is not shown/);

  // An unreadable token file: one line, exit 2, before connecting anywhere.
  const missing = await ProgramProcess.run("services/http_receiver/main.ts", {
    RCVR_CLIENT_ID: "t",
    RCVR_NATS_URL: `nats://127.0.0.1:${freePort()}`,
    RCVR_AUTH_TOKENS: "@/nonexistent/tokens",
  });
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr.trim(),
    /^http_receiver: RCVR_AUTH_TOKENS: cannot read token file \/nonexistent\/tokens: [^\n]+$/,
  );

  // An unreadable certificate: one line, exit 2.
  const noCert = await ProgramProcess.run("services/http_receiver/main.ts", {
    RCVR_CLIENT_ID: "t",
    RCVR_NATS_URL: `nats://127.0.0.1:${freePort()}`,
    RCVR_TLS_CERT: "/nonexistent/cert.pem",
    RCVR_TLS_KEY: "/nonexistent/key.pem",
  });
  assert.equal(noCert.code, 2);
  assert.match(
    noCert.stderr.trim(),
    /^http_receiver: cannot read TLS certificate \/nonexistent\/cert\.pem: [^\n]+$/,
  );

  // Inline tokens in the start-up summary.
  const nats = await NatsServer.start();
  const rcv = await startHttpReceiver(nats, {
    RCVR_AUTH_TOKENS: `${TOKEN_A},${TOKEN_B}`,
    RCVR_STATS_TOKEN: STATS,
    RCVR_LOGGING_LEVEL: "debug",
  });
  try {
    const r = await fetch(`http://127.0.0.1:${rcv.port}/`, {
      method: "POST",
      body: makeMessage(1).bytes as Uint8Array<ArrayBuffer>,
      headers: { authorization: `Bearer ${TOKEN_B}` },
    });
    assert.equal(r.status, 200);
    await r.body?.cancel();
  } finally {
    await rcv.proc.stop();
    await nats.dispose();
  }
  const out = rcv.proc.stderr + rcv.proc.stdout;
  assert.match(out, /RCVR_AUTH_TOKENS=\*\*\*/);
  assert.match(out, /auth="2 tokens"/);
  for (const s of [TOKEN_A, TOKEN_B, STATS]) assert.ok(!out.includes(s), "no token in the log");
});
