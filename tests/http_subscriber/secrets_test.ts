/**
 * Acceptance 5: the remote URL's token never appears in logs, `--help`,
 * the printed config or config errors — not even when fetch's errors or
 * the remote's answers quote the URL.
 */
import assert from "node:assert/strict";
import { connect } from "nats";
import { freePort, NatsServer } from "../../testing/mod.ts";
import {
  hekaMessages,
  makeStream,
  pollUntil,
  publishAll,
  Sink,
  SubscriberProcess,
} from "./helpers.ts";

const TOKEN = "ZaVnC4dhaV2Djfx_aJ93Ht013FC51G9_SeCrEt";

Deno.test("the remote URL's token never appears in logs, --help or config output", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const port = freePort(); // nothing listens yet: connection errors first
  const path = `/receiver/v1/http/${TOKEN}`;
  const url = `http://127.0.0.1:${port}${path}?key=${TOKEN}`;
  let sink: Sink | undefined;
  let sub: SubscriberProcess | undefined;
  try {
    await makeStream(nc, "LAGERMEISTER", "lagermeister-test");
    sub = SubscriberProcess.spawn({
      SUB_NATS_URL: server.url,
      SUB_REMOTE_URL: url,
      SUB_LOGGING_LEVEL: "debug",
      SUB_DELIVER_ALL: "true",
      SUB_BATCH_SIZE: "5",
      SUB_BATCH_TIMEOUT: "50ms",
      SUB_RETRY_MIN: "50ms",
      SUB_RETRY_MAX: "200ms",
    });
    await sub.waitReady();
    await publishAll(nc.jetstream(), "lagermeister-test", hekaMessages(20, "secret-test"));
    await sub.waitForLog(/msg="POST failed; retrying".*(Connection refused|ECONNREFUSED)/);

    // A remote that quotes the URL in its error answers, then accepts.
    sink = Sink.start(
      (r) =>
        r.n <= 3
          ? new Response(`no collector at ${r.path}?key=${TOKEN} (${url}), token ${TOKEN}`, {
            status: 503,
          })
          : new Response("ok"),
      port,
    );
    assert.ok(await pollUntil(() => sink!.accepted.length >= 20, 15_000), sub.stderr);
    assert.equal(sink.requests[0].path, path, "the real URL was used");
    const status = await sub.stop();
    assert.equal(status.code, 0);

    const logs = sub.stderr + sub.stdout;
    assert.match(logs, /HTTP 503: no collector at/);
    assert.match(logs, /SUB_REMOTE_URL=http:\/\/127\.0\.0\.1:\d+\/receiver\/\*\*\*\?\*\*\*/);
    assert.ok(!logs.includes(TOKEN), "token leaked into the logs");

    const help = SubscriberProcess.spawn({ SUB_REMOTE_URL: url }, ["--help"]);
    await help.exited();
    assert.ok(help.stdout.length > 1000);
    assert.ok(!(help.stdout + help.stderr).includes(TOKEN), "token in --help");

    const bad = SubscriberProcess.spawn({ SUB_REMOTE_URL: `ftp://h${path}` });
    assert.notEqual((await bad.exited()).code, 0);
    assert.match(bad.stderr, /SUB_REMOTE_URL must be a URL/);
    assert.ok(!bad.stderr.includes(TOKEN), "token in the config error");
  } finally {
    if (sub) {
      sub.kill("SIGKILL");
      await sub.exited();
    }
    await sink?.close();
    await nc.close();
    await server.dispose();
  }
});
