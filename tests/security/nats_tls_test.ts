/**
 * Issue #7: NATS over TLS with client certificates. A CA, a server
 * certificate (SAN IP:127.0.0.1, DNS:localhost) and a client certificate
 * are made with `openssl`; nats-server runs with `tls { ... verify: true }`.
 * Every NATS-using program connects with `*_NATS_TLS_CA/_CERT/_KEY` and
 * works; without the client certificate, without the CA, or asking for TLS
 * from a server without it, each fails clearly and keeps retrying.
 */
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "nats";
import { guardLateSocketErrors } from "../../services/broker/connection.ts";
import { NatsServer } from "../../testing/mod.ts";
import { hasOpenssl, makeCertificates, pemBody, type TestCertificates } from "./certs.ts";
import { exerciseAllPrograms, expectRefusedByAll } from "./programs.ts";

guardLateSocketErrors();

const PASSWORD = "tls-and-Pa55word";

if (!await hasOpenssl()) {
  throw new Error(
    "the TLS tests need the openssl command: apt-get install -y openssl (.ci/dev installs it)",
  );
}

/** nats-server config text requiring TLS with verified client certificates. */
function tlsConfig(c: TestCertificates, extra = ""): string {
  return [
    "tls {",
    `  cert_file: ${JSON.stringify(c.serverCert)}`,
    `  key_file: ${JSON.stringify(c.serverKey)}`,
    `  ca_file: ${JSON.stringify(c.caCert)}`,
    "  verify: true",
    "  timeout: 2",
    "}",
    extra,
    "",
  ].join("\n");
}

/** Runs `fn` with fresh certificates and a TLS server, cleaning both up. */
async function withTlsServer(
  fn: (nats: NatsServer, c: TestCertificates) => Promise<void>,
  extraConfig = "",
): Promise<void> {
  const certs = await makeCertificates();
  let nats: NatsServer | undefined;
  try {
    nats = await NatsServer.start({ config: tlsConfig(certs, extraConfig) });
    await fn(nats, certs);
  } finally {
    await nats?.dispose();
    await Deno.remove(certs.dir, { recursive: true });
  }
}

Deno.test("TLS with client certificates (tls:// URL): every program connects and works; the key is never printed", async () => {
  await withTlsServer(async (nats, c) => {
    // A client without a certificate is refused: the server really verifies clients.
    await assert.rejects(() =>
      connect({ servers: nats.url, tls: { caFile: c.caCert }, reconnect: false, timeout: 3000 })
    );
    let admin: NatsConnection | undefined;
    try {
      const tls = { caFile: c.caCert, certFile: c.clientCert, keyFile: c.clientKey };
      admin = await connect({ servers: `tls://127.0.0.1:${nats.port}`, tls });
      assert.equal(admin.info?.tls_required, true);
      await exerciseAllPrograms(admin, {
        NATS_URL: `tls://127.0.0.1:${nats.port}`,
        NATS_TLS_CA: c.caCert,
        NATS_TLS_CERT: c.clientCert,
        NATS_TLS_KEY: c.clientKey,
      }, [await pemBody(c.clientKey)]);
      // Every client connection the server holds is TLS (the admin's and nothing else now).
      const connz = await nats.monitor("/connz") as { connections?: { tls_version?: string }[] };
      for (const conn of connz.connections ?? []) assert.ok(conn.tls_version, "a plain connection");
    } finally {
      await admin?.close();
    }
  });
});

Deno.test("TLS + user/password with a nats:// URL and localhost: TLS is taken from the server and works", async () => {
  await withTlsServer(
    async (nats, c) => {
      let admin: NatsConnection | undefined;
      try {
        admin = await connect({
          servers: nats.url,
          user: "lm",
          pass: PASSWORD,
          tls: { caFile: c.caCert, certFile: c.clientCert, keyFile: c.clientKey },
        });
        await exerciseAllPrograms(admin, {
          NATS_URL: `nats://lm:${PASSWORD}@localhost:${nats.port}`,
          NATS_TLS_CA: c.caCert,
          NATS_TLS_CERT: c.clientCert,
          NATS_TLS_KEY: c.clientKey,
        }, [PASSWORD, await pemBody(c.clientKey)]);
      } finally {
        await admin?.close();
      }
    },
    `authorization { user: lm, password: ${JSON.stringify(PASSWORD)} }`,
  );
});

Deno.test("TLS without the client certificate: every program says one is required and keeps retrying", async () => {
  await withTlsServer(async (nats, c) => {
    // The server ends the handshake; nats.js sees the connection time out (10 s) — the
    // hint comes from the server's INFO line (tls_verify).
    await expectRefusedByAll(
      { NATS_URL: `tls://127.0.0.1:${nats.port}`, NATS_TLS_CA: c.caCert },
      {
        kind: "tls",
        hint:
          /hint="the server requires a TLS client certificate: set \*_NATS_TLS_CERT and \*_NATS_TLS_KEY"/,
        secrets: [],
        attempts: 2,
        ms: 40_000,
      },
    );
  });
});

Deno.test("TLS without the CA: every program says the server certificate cannot be verified", async () => {
  await withTlsServer(async (nats, c) => {
    await expectRefusedByAll(
      {
        NATS_URL: `tls://127.0.0.1:${nats.port}`,
        NATS_TLS_CERT: c.clientCert,
        NATS_TLS_KEY: c.clientKey,
      },
      {
        kind: "tls",
        hint: /hint="the server certificate could not be verified: set \*_NATS_TLS_CA/,
        secrets: [await pemBody(c.clientKey)],
      },
    );
  });
});

Deno.test("tls:// against a server without TLS: every program says the server does not offer TLS", async () => {
  const nats = await NatsServer.start();
  try {
    await expectRefusedByAll({ NATS_URL: `tls://127.0.0.1:${nats.port}` }, {
      kind: "tls",
      hint:
        /hint="TLS was asked for \(tls:\/\/ or \*_NATS_TLS_\*\) but the server does not offer TLS"/,
      secrets: [],
    });
  } finally {
    await nats.dispose();
  }
});
