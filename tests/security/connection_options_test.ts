/**
 * Issue #7, unit level: how services/broker/connection_options.ts turns the
 * `*_NATS_*` settings into nats.js options, and how connect_error.ts
 * explains failed connection attempts.
 */
import assert from "node:assert/strict";
import {
  type BrokerOptions,
  connectionOptions,
  splitCredentials,
} from "../../services/broker/connection_options.ts";
import { explainConnectError, probeServerInfo } from "../../services/broker/connect_error.ts";
import { NatsServer } from "../../testing/mod.ts";

const base: BrokerOptions = { servers: ["nats://127.0.0.1:4222"], name: "t" };

/** An error shaped like nats.js's NatsError. */
function natsError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

Deno.test("credentials are split out of the URLs; the servers keep their scheme", () => {
  assert.deepEqual(splitCredentials(["nats://u:p%40ss@h:1", "nats://h2:2"]), {
    servers: ["nats://h:1", "nats://h2:2"],
    user: "u",
    pass: "p@ss",
    token: undefined,
  });
  assert.deepEqual(splitCredentials(["tls://tok@h:1"]), {
    servers: ["tls://h:1"],
    user: undefined,
    pass: undefined,
    token: "tok",
  });
});

Deno.test("options: retry forever, also after auth errors; tls:// turns TLS on", async () => {
  const plain = await connectionOptions(base);
  assert.equal(plain.maxReconnectAttempts, -1);
  assert.equal(plain.ignoreAuthErrorAbort, true);
  assert.equal(plain.tls, undefined);
  const tls = await connectionOptions({ ...base, servers: ["tls://127.0.0.1:4222"] });
  assert.deepEqual(tls.tls, {});
});

Deno.test("options: unreadable TLS or creds files, or a certificate without its key, fail at once", async () => {
  await assert.rejects(
    () => connectionOptions({ ...base, tlsCaFile: "/nonexistent/ca.pem" }),
    /cannot read the NATS TLS CA file \/nonexistent\/ca\.pem/,
  );
  await assert.rejects(
    () => connectionOptions({ ...base, credsFile: "/nonexistent/u.creds" }),
    /cannot read the NATS creds file/,
  );
  const cert = await Deno.makeTempFile();
  try {
    await assert.rejects(
      () => connectionOptions({ ...base, tlsCertFile: cert }),
      /needs both the _TLS_CERT and _TLS_KEY/,
    );
    const o = await connectionOptions({ ...base, tlsCertFile: cert, tlsKeyFile: cert });
    assert.deepEqual(o.tls, { certFile: cert, keyFile: cert });
  } finally {
    await Deno.remove(cert);
  }
});

Deno.test("failed attempts are explained: auth, TLS, unreachable", () => {
  const withPass = { ...base, servers: ["nats://u:p@127.0.0.1:4222"] };
  const auth = explainConnectError(
    natsError("'Authorization Violation'", "AUTHORIZATION_VIOLATION"),
    withPass,
  );
  assert.equal(auth.kind, "auth");
  assert.match(auth.hint ?? "", /refused the credentials/);
  const anonymous = explainConnectError(
    natsError("'Authorization Violation'", "AUTHORIZATION_VIOLATION"),
    base,
  );
  assert.match(anonymous.hint ?? "", /requires authentication/);
  const unknownCa = explainConnectError(
    natsError("unable to verify the first certificate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
    base,
  );
  assert.equal(unknownCa.kind, "tls");
  assert.match(unknownCa.hint ?? "", /set \*_NATS_TLS_CA/);
  const noTls = explainConnectError(natsError("tls", "SERVER_OPT_NA"), base);
  assert.match(noTls.hint ?? "", /does not offer TLS/);
  const timeout = natsError("TIMEOUT", "TIMEOUT");
  assert.equal(explainConnectError(timeout, base).kind, "unreachable");
  const needsCert = explainConnectError(timeout, base, { tls_required: true, tls_verify: true });
  assert.equal(needsCert.kind, "tls");
  assert.match(needsCert.hint ?? "", /requires a TLS client certificate/);
  const refused = explainConnectError(natsError("CONNECTION_REFUSED", "CONNECTION_REFUSED"), base);
  assert.deepEqual(refused, { kind: "unreachable", error: "CONNECTION_REFUSED" });
});

Deno.test("the server's INFO line is read without TLS or credentials; nothing there gives undefined", async () => {
  const nats = await NatsServer.start({ args: ["--auth", "tok-123456"] });
  try {
    const info = await probeServerInfo(`nats://127.0.0.1:${nats.port}`);
    assert.equal(info?.auth_required, true);
    assert.equal(await probeServerInfo("nats://127.0.0.1:1", 500), undefined);
  } finally {
    await nats.dispose();
  }
});
