/**
 * Issue #15, TCP receiver: TLS on its own port, TLS-only refuses plaintext,
 * the stream Heka's own Go client sends over TLS (signed, recorded as the
 * fixture `heka-client-tls-signed.pbuf`) is stored whole with
 * TCPRCVR_REQUIRE_SIGNED, `openssl s_client` as a client, a renewed
 * certificate served without a restart, bad files refused at start.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "nats";
import { frameMessage, FrameSplitter } from "../../services/heka/framing.ts";
import { readFixture } from "../heka/fixtures.ts";
import { freePort, NatsServer, ProgramProcess } from "../../testing/mod.ts";
import { makeMessage, streamMessages } from "../helpers/messages.ts";
import { concat, startTcpReceiver } from "../helpers/receivers.ts";
import {
  hasOpenssl,
  makeCertificates,
  renewServerCertificate,
  servedCertificate,
  type TestCertificates,
} from "./certs.ts";

const HEKA = readFixture("heka-client-tls-signed.pbuf");
/** The signer the fixture was recorded with (Heka client, SHA1, signer ops version 1). */
const SIGNERS = JSON.stringify({ ops_1: "s3cret" });

function frameCount(bytes: Uint8Array): number {
  const s = new FrameSplitter({ maxMessageSize: 65536 });
  s.push(bytes);
  let n = 0;
  while (s.next() !== null) n++;
  return n;
}

async function waitStored(nc: NatsConnection, n: number, ms = 10_000): Promise<number> {
  const deadline = Date.now() + ms;
  let stored = 0;
  while (Date.now() < deadline) {
    stored = await streamMessages(nc, "LAGERMEISTER");
    if (stored >= n) return stored;
    await sleep(50);
  }
  return stored;
}

async function sendTls(port: number, caCert: string, bytes: Uint8Array): Promise<void> {
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port,
    caCerts: [await Deno.readTextFile(caCert)],
  });
  try {
    let at = 0;
    while (at < bytes.length) at += await conn.write(bytes.subarray(at));
    await conn.closeWrite();
    // The receiver never writes; wait until it has read everything and closed.
    await conn.read(new Uint8Array(1)).catch(() => null);
  } finally {
    conn.close();
  }
}

async function withTlsReceiver(
  env: Record<string, string>,
  fn: (
    o: {
      port: number;
      tlsPort: number;
      nc: NatsConnection;
      certs: TestCertificates;
      stats: number;
    },
  ) => Promise<void>,
): Promise<string> {
  const certs = await makeCertificates();
  const nats = await NatsServer.start();
  const stats = freePort();
  const rcv = await startTcpReceiver(nats, {
    TCPRCVR_TLS_CERT: certs.serverCert,
    TCPRCVR_TLS_KEY: certs.serverKey,
    TCPRCVR_STATS_ADDRESS: `127.0.0.1:${stats}`,
    ...env,
  });
  const nc = await connect({ servers: nats.url });
  try {
    await fn({ port: rcv.port, tlsPort: rcv.tlsPort!, nc, certs, stats });
  } finally {
    await nc.close();
    await rcv.proc.stop();
    await nats.dispose();
    await Deno.remove(certs.dir, { recursive: true });
  }
  return rcv.proc.stderr;
}

Deno.test({
  name: "tcp TLS-only: Heka's signed TLS stream stored whole; plaintext refused; unsigned dropped",
  ignore: !(await hasOpenssl()),
  async fn() {
    const frames = frameCount(HEKA);
    assert.equal(frames, 25);
    await withTlsReceiver(
      { TCPRCVR_TLS_ONLY: "true", TCPRCVR_SIGNERS: SIGNERS, TCPRCVR_REQUIRE_SIGNED: "true" },
      async ({ tlsPort, nc, certs, stats }) => {
        // The exact bytes Heka's client wrote into its TLS connection.
        await sendTls(tlsPort, certs.caCert, HEKA);
        assert.equal(await waitStored(nc, frames), frames);

        // Unsigned messages over TLS are dropped: REQUIRE_SIGNED still applies.
        await sendTls(
          tlsPort,
          certs.caCert,
          concat([1, 2, 3].map((i) => frameMessage(makeMessage(i).bytes))),
        );

        // A plaintext Heka stream on the TLS port: the handshake fails, nothing is stored.
        const plain = await Deno.connect({ hostname: "127.0.0.1", port: tlsPort });
        await plain.write(frameMessage(makeMessage(9).bytes)).catch(() => 0);
        const closed = await plain.read(new Uint8Array(64)).catch(() => null);
        plain.close();
        assert.ok(
          closed === null || closed > 0,
          "the receiver answers plaintext with a TLS alert or EOF",
        );

        const vars = await (await fetch(`http://127.0.0.1:${stats}/debug/vars`)).json();
        assert.equal(vars.refused, 3, "three unsigned messages refused");
        assert.ok(vars.tls_handshakes_failed >= 1, JSON.stringify(vars));
        assert.equal(await streamMessages(nc, "LAGERMEISTER"), frames);
      },
    );
  },
});

Deno.test({
  name: "tcp TLS-only: no plaintext port is opened",
  ignore: !(await hasOpenssl()),
  async fn() {
    const certs = await makeCertificates();
    const nats = await NatsServer.start();
    const plainPort = freePort();
    const rcv = await startTcpReceiver(nats, {
      TCPRCVR_TLS_CERT: certs.serverCert,
      TCPRCVR_TLS_KEY: certs.serverKey,
      TCPRCVR_TLS_ONLY: "true",
      TCPRCVR_BIND_ADDRESS: `127.0.0.1:${plainPort}`,
    });
    try {
      await assert.rejects(
        () => Deno.connect({ hostname: "127.0.0.1", port: plainPort }),
        Deno.errors.ConnectionRefused,
      );
    } finally {
      await rcv.proc.stop();
      await nats.dispose();
      await Deno.remove(certs.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "tcp TLS beside plaintext: openssl s_client and a plaintext client both stored",
  ignore: !(await hasOpenssl()),
  async fn() {
    await withTlsReceiver({ TCPRCVR_SIGNERS: SIGNERS }, async ({ port, tlsPort, nc, certs }) => {
      const sc = new Deno.Command("openssl", {
        args: [
          "s_client",
          "-connect",
          `127.0.0.1:${tlsPort}`,
          "-servername",
          "localhost",
          "-CAfile",
          certs.caCert,
          "-verify_return_error",
          "-quiet",
          "-nocommands",
        ],
        stdin: "piped",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const w = sc.stdin.getWriter();
      await w.write(HEKA);
      assert.equal(await waitStored(nc, 25), 25, "s_client's stream stored");
      await w.close();
      sc.kill();
      await sc.output();

      const plain = await Deno.connect({ hostname: "127.0.0.1", port });
      await plain.write(frameMessage(makeMessage(1).bytes));
      plain.close();
      assert.equal(await waitStored(nc, 26), 26, "plaintext port still serves");
    });
  },
});

Deno.test({
  name: "tcp TLS: a renewed certificate is served without a restart (file renamed over)",
  ignore: !(await hasOpenssl()),
  async fn() {
    const log = await withTlsReceiver(
      { TCPRCVR_TLS_ONLY: "true" },
      async ({ tlsPort, nc, certs }) => {
        const before = await servedCertificate(tlsPort, certs.caCert);
        assert.equal(before?.subject, "CN = localhost");
        // A connection open across the renewal keeps working.
        const open = await Deno.connectTls({
          hostname: "localhost",
          port: tlsPort,
          caCerts: [await Deno.readTextFile(certs.caCert)],
        });
        await open.write(frameMessage(makeMessage(1).bytes));

        const serial = await renewServerCertificate(certs, "renewed.localhost");
        let now = await servedCertificate(tlsPort, certs.caCert);
        for (let i = 0; i < 100 && now?.serial !== serial; i++) {
          await sleep(100);
          now = await servedCertificate(tlsPort, certs.caCert);
        }
        assert.equal(now?.serial, serial, "the renewed certificate is served");
        assert.equal(now?.subject, "CN = renewed.localhost");
        assert.notEqual(now?.serial, before?.serial);

        await open.write(frameMessage(makeMessage(2).bytes));
        open.close();
        await sendTls(tlsPort, certs.caCert, frameMessage(makeMessage(3).bytes));
        assert.equal(await waitStored(nc, 3), 3);
      },
    );
    assert.match(log, /msg="TLS certificate reloaded" reason="file changed"/);
  },
});

Deno.test({
  name: "tcp TLS: a wrong or unreadable file stops the start with one clear line",
  ignore: !(await hasOpenssl()),
  async fn() {
    const certs = await makeCertificates();
    try {
      const cases: [Record<string, string>, RegExp][] = [
        [
          { TCPRCVR_TLS_CERT: `${certs.dir}/missing.pem`, TCPRCVR_TLS_KEY: certs.serverKey },
          /^tcp_receiver: cannot read TLS certificate .*missing\.pem: /,
        ],
        [
          { TCPRCVR_TLS_CERT: certs.serverCert, TCPRCVR_TLS_KEY: certs.clientKey },
          /^tcp_receiver: TLS certificate .* and key .*client\.key cannot be used together/,
        ],
        [
          { TCPRCVR_TLS_CERT: certs.serverKey, TCPRCVR_TLS_KEY: certs.serverKey },
          /^tcp_receiver: TLS certificate .*server\.key holds no PEM certificate/,
        ],
        [
          { TCPRCVR_TLS_CERT: certs.serverCert },
          /^tcp_receiver: TCPRCVR_TLS_CERT and TCPRCVR_TLS_KEY must be set together/,
        ],
        [{ TCPRCVR_TLS_ONLY: "true" }, /^tcp_receiver: TCPRCVR_TLS_ONLY needs TCPRCVR_TLS_CERT/],
      ];
      for (const [env, line] of cases) {
        const r = await ProgramProcess.run("services/tcp_receiver/main.ts", {
          TCPRCVR_CLIENT_ID: "t",
          // Nothing listens there: the check must come before connecting.
          TCPRCVR_NATS_URL: `nats://127.0.0.1:${freePort()}`,
          ...env,
        });
        assert.equal(r.code, 2, r.stderr);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], line);
      }
    } finally {
      await Deno.remove(certs.dir, { recursive: true });
    }
  },
});
