/**
 * Issue #15, client certificates on the TCP receiver's TLS port
 * (TCPRCVR_TLS_CLIENT_CA, through node:tls): a client with a certificate
 * from that CA is stored; one without a certificate, or with one no listed
 * CA signed, is refused in the handshake and nothing it sent is stored. A
 * renewed server certificate is served without a restart here too.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect } from "nats";
import { readFixture } from "../heka/fixtures.ts";
import { freePort, NatsServer, ProgramProcess } from "../../testing/mod.ts";
import { streamMessages } from "../helpers/messages.ts";
import { startTcpReceiver } from "../helpers/receivers.ts";
import {
  hasOpenssl,
  makeCertificates,
  makeRogueClientCertificate,
  renewServerCertificate,
  servedCertificate,
} from "./certs.ts";

const HEKA = readFixture("heka-client-tls-signed.pbuf");

/** Sends `bytes` over TLS; returns whether every byte was written and the stream closed cleanly. */
async function sendTls(
  port: number,
  caCert: string,
  bytes: Uint8Array,
  client?: { cert: string; key: string },
): Promise<boolean> {
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.connectTls({
      hostname: "localhost",
      port,
      caCerts: [await Deno.readTextFile(caCert)],
      ...(client
        ? { cert: await Deno.readTextFile(client.cert), key: await Deno.readTextFile(client.key) }
        : {}),
    });
    await conn.handshake();
    let at = 0;
    while (at < bytes.length) at += await conn.write(bytes.subarray(at));
    await conn.closeWrite();
    // TLS 1.3: the server's verdict on the client certificate arrives after our first flight.
    const r = await conn.read(new Uint8Array(1));
    return r === null;
  } catch {
    return false;
  } finally {
    try {
      conn?.close();
    } catch {
      // closed by the server
    }
  }
}

Deno.test({
  name: "tcp TLS client certificates: only clients with a certificate from TCPRCVR_TLS_CLIENT_CA",
  ignore: !(await hasOpenssl()),
  async fn() {
    const certs = await makeCertificates();
    const rogue = await makeRogueClientCertificate(certs);
    const nats = await NatsServer.start();
    const stats = freePort();
    const rcv = await startTcpReceiver(nats, {
      TCPRCVR_TLS_CERT: certs.serverCert,
      TCPRCVR_TLS_KEY: certs.serverKey,
      TCPRCVR_TLS_CLIENT_CA: certs.caCert,
      TCPRCVR_TLS_ONLY: "true",
      TCPRCVR_SIGNERS: JSON.stringify({ ops_1: "s3cret" }),
      TCPRCVR_STATS_ADDRESS: `127.0.0.1:${stats}`,
    });
    const nc = await connect({ servers: nats.url });
    const good = { cert: certs.clientCert, key: certs.clientKey };
    try {
      const vars0 = await (await fetch(`http://127.0.0.1:${stats}/debug/vars`)).json();
      // No client certificate, and one signed by nobody the receiver trusts: refused.
      assert.equal(await sendTls(rcv.port, certs.caCert, HEKA), false, "no certificate refused");
      assert.equal(await sendTls(rcv.port, certs.caCert, HEKA, rogue), false, "rogue refused");
      await sleep(500);
      assert.equal(await streamMessages(nc, "LAGERMEISTER"), 0, "nothing refused was stored");
      const vars1 = await (await fetch(`http://127.0.0.1:${stats}/debug/vars`)).json();
      assert.equal(
        vars1.tls_handshakes_failed - vars0.tls_handshakes_failed,
        2,
        JSON.stringify(vars1),
      );
      assert.equal(vars1.received, 0);

      // The right certificate: Heka's signed stream is stored whole.
      assert.equal(await sendTls(rcv.port, certs.caCert, HEKA, good), true);
      const deadline = Date.now() + 10_000;
      while (await streamMessages(nc, "LAGERMEISTER") < 25 && Date.now() < deadline) {
        await sleep(50);
      }
      assert.equal(await streamMessages(nc, "LAGERMEISTER"), 25);

      // Renewal: node:tls swaps the certificate in place.
      const serial = await renewServerCertificate(certs, "renewed.localhost");
      let now = await servedCertificate(rcv.port, certs.caCert, good);
      for (let i = 0; i < 100 && now?.serial !== serial; i++) {
        await sleep(100);
        now = await servedCertificate(rcv.port, certs.caCert, good);
      }
      assert.equal(now?.serial, serial);
      assert.equal(now?.subject, "CN = renewed.localhost");
      assert.equal(await sendTls(rcv.port, certs.caCert, HEKA.subarray(0, 0), good), true);
    } finally {
      await nc.close();
      await rcv.proc.stop();
      await nats.dispose();
      await Deno.remove(certs.dir, { recursive: true });
    }
    assert.match(rcv.proc.stderr, /client_certificates=required/);
    assert.match(rcv.proc.stderr, /msg="TLS handshake failed"/);
  },
});

Deno.test({
  name: "tcp TLS client CA: unusable at start is one line, and it needs a certificate",
  ignore: !(await hasOpenssl()),
  async fn() {
    const certs = await makeCertificates();
    try {
      const cases: [Record<string, string>, RegExp][] = [
        [
          {
            TCPRCVR_TLS_CERT: certs.serverCert,
            TCPRCVR_TLS_KEY: certs.serverKey,
            TCPRCVR_TLS_CLIENT_CA: certs.serverKey,
          },
          /^tcp_receiver: TLS client CA file .*server\.key holds no PEM certificate$/,
        ],
        [
          { TCPRCVR_TLS_CLIENT_CA: certs.caCert },
          /^tcp_receiver: TCPRCVR_TLS_CLIENT_CA needs TCPRCVR_TLS_CERT and TCPRCVR_TLS_KEY$/,
        ],
      ];
      for (const [env, line] of cases) {
        const r = await ProgramProcess.run("services/tcp_receiver/main.ts", {
          TCPRCVR_CLIENT_ID: "t",
          TCPRCVR_NATS_URL: `nats://127.0.0.1:${freePort()}`,
          ...env,
        });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr.trim(), line);
      }
    } finally {
      await Deno.remove(certs.dir, { recursive: true });
    }
  },
});
