/**
 * Issue #7: every NATS-using program (TCP receiver, HTTP receiver,
 * subscriber, stats proxy) against real nats-servers that require auth —
 * user/password in the URL, a token in the URL, a `.creds` file (operator
 * / JWT mode, keys and JWTs made in the test) — connects and does its job;
 * with a wrong password it logs a clear auth error and keeps retrying.
 * Passwords, tokens, seeds and JWTs never appear in any output.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { connect, credsAuthenticator, type NatsConnection } from "nats";
import { guardLateSocketErrors } from "../../services/broker/connection.ts";
import { frameMessage } from "../../services/heka/framing.ts";
import { makeMessage, streamMessages } from "../helpers/messages.ts";
import { freePort, NatsServer, waitForPort } from "../../testing/mod.ts";
import { operatorSetup } from "./nats_jwt.ts";
import {
  assertNoSecrets,
  exerciseAllPrograms,
  expectRefusedByAll,
  NATS_PROGRAMS,
  startProgram,
  stopAll,
} from "./programs.ts";

// The refused connections below would otherwise crash this test process too (see the function).
guardLateSocketErrors();

const PASSWORD = "s3cr3t-Pa55-word";
const TOKEN = "tok-0a9f7c2e51b4d8";

/** Proves that a plain, credential-less client is refused (the server really requires auth). */
async function assertAuthRequired(nats: NatsServer): Promise<void> {
  await assert.rejects(
    () => connect({ servers: nats.url, reconnect: false, timeout: 5000 }),
    /Authorization Violation/i,
  );
}

Deno.test("user/password in *_NATS_URL: every program connects and works; the password is never printed", async () => {
  const nats = await NatsServer.start({ args: ["--user", "lagermeister", "--pass", PASSWORD] });
  let admin: NatsConnection | undefined;
  try {
    await assertAuthRequired(nats);
    admin = await connect({ servers: nats.url, user: "lagermeister", pass: PASSWORD });
    await exerciseAllPrograms(
      admin,
      { NATS_URL: `nats://lagermeister:${PASSWORD}@127.0.0.1:${nats.port}` },
      [PASSWORD],
    );
  } finally {
    await admin?.close();
    await nats.dispose();
  }
});

Deno.test("token in *_NATS_URL: every program connects and works; the token is never printed", async () => {
  const nats = await NatsServer.start({ args: ["--auth", TOKEN] });
  let admin: NatsConnection | undefined;
  try {
    await assertAuthRequired(nats);
    admin = await connect({ servers: nats.url, token: TOKEN });
    await exerciseAllPrograms(admin, { NATS_URL: `nats://${TOKEN}@127.0.0.1:${nats.port}` }, [
      TOKEN,
    ]);
  } finally {
    await admin?.close();
    await nats.dispose();
  }
});

Deno.test(".creds file (*_NATS_CREDS) against an operator/JWT server: every program connects and works", async () => {
  const setup = await operatorSetup();
  const dir = await Deno.makeTempDir({ prefix: "lm-creds-" });
  const credsPath = `${dir}/lagermeister.creds`;
  await Deno.writeTextFile(credsPath, setup.creds);
  await Deno.chmod(credsPath, 0o600);
  const nats = await NatsServer.start({ config: setup.serverConfig });
  let admin: NatsConnection | undefined;
  try {
    await assertAuthRequired(nats);
    admin = await connect({
      servers: nats.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(setup.creds)),
    });
    // The JetStream the programs use is the JWT account's (the operator gave it unlimited storage).
    const account = await (await admin.jetstreamManager()).getAccountInfo();
    assert.equal(account.limits.max_storage, -1);
    await exerciseAllPrograms(
      admin,
      { NATS_URL: nats.url, NATS_CREDS: credsPath },
      [setup.userSeed, setup.userJwt],
    );
  } finally {
    await admin?.close();
    await nats.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wrong password: every program logs a clear auth error, keeps retrying, never prints it", async () => {
  const nats = await NatsServer.start({ args: ["--user", "lagermeister", "--pass", PASSWORD] });
  const wrong = "not-the-Right-one";
  try {
    await expectRefusedByAll(
      { NATS_URL: `nats://lagermeister:${wrong}@127.0.0.1:${nats.port}` },
      {
        kind: "auth",
        hint: /hint="the server refused the credentials/,
        secrets: [wrong, PASSWORD],
      },
    );
  } finally {
    await nats.dispose();
  }
});

Deno.test("password changed on the server while connected: the receiver keeps retrying and resumes when it fits again", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "lm-nats-rotate-" });
  const port = freePort();
  const serve = (pass: string) =>
    NatsServer.start({ port, storeDir, args: ["--user", "lagermeister", "--pass", pass] });
  let nats = await serve(PASSWORD);
  const [tcpP] = NATS_PROGRAMS;
  const tcp = startProgram(tcpP, { NATS_URL: `nats://lagermeister:${PASSWORD}@127.0.0.1:${port}` });
  let admin: NatsConnection | undefined;
  try {
    await tcp.proc.waitReady();
    await nats.stop();
    nats = await serve("the-new-password");
    await tcp.proc.waitFor(/msg="NATS error" error=AUTHORIZATION_VIOLATION/);
    // Several refused reconnects later it is still running...
    await sleep(1500);
    assert.equal(tcp.proc.exited, undefined, "the receiver must not give up");
    // ...and once the server takes its password again, messages flow.
    await nats.stop();
    nats = await serve(PASSWORD);
    await tcp.proc.waitFor(/msg="NATS reconnected"/);
    await waitForPort(tcp.port);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
    const frame = frameMessage(makeMessage(1).bytes);
    for (let w = 0; w < frame.length;) w += await conn.write(frame.subarray(w));
    conn.close();
    admin = await connect({ servers: nats.url, user: "lagermeister", pass: PASSWORD });
    const deadline = Date.now() + 10_000;
    while (await streamMessages(admin, "LAGERMEISTER") < 1 && Date.now() < deadline) {
      await sleep(100);
    }
    assert.equal(await streamMessages(admin, "LAGERMEISTER"), 1);
  } finally {
    await admin?.close();
    await stopAll([tcp]);
    await nats.dispose();
    await Deno.remove(storeDir, { recursive: true });
  }
  assertNoSecrets([tcp], [PASSWORD]);
});

Deno.test("no credentials at all: the programs say the server requires authentication", async () => {
  const nats = await NatsServer.start({ args: ["--auth", TOKEN] });
  try {
    await expectRefusedByAll(
      { NATS_URL: nats.url },
      { kind: "auth", hint: /hint="the server requires authentication/, secrets: [TOKEN] },
    );
  } finally {
    await nats.dispose();
  }
});
