// The process plumbing in services/runtime/: async helpers, the readiness
// line, and choosing a nats-server binary.
import assert from "node:assert/strict";
import { backoff, errorMessage, sleep, withTimeout } from "../../services/runtime/async.ts";
import { findReadyLine } from "../../services/runtime/ready.ts";
import {
  compareVersions,
  findNatsServer,
  natsServerVersion,
} from "../../services/runtime/nats_server_bin.ts";

Deno.test("sleep resolves true after the delay, false at once when aborted", async () => {
  assert.equal(await sleep(5), true);
  const ac = new AbortController();
  const t0 = performance.now();
  const waiting = sleep(10_000, ac.signal);
  ac.abort();
  assert.equal(await waiting, false);
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(await sleep(10_000, ac.signal), false, "already aborted");
});

Deno.test("withTimeout gives the value, or the fallback when the timer wins", async () => {
  assert.equal(await withTimeout(Promise.resolve(7), 1000), 7);
  assert.equal(await withTimeout(new Promise(() => {}), 10, "late"), "late");
  assert.equal(await withTimeout(new Promise(() => {}), 10), undefined);
});

Deno.test("backoff doubles from min, caps at max, and jitter takes off at most its share", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoff(a, 100, 1000)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
  assert.equal(backoff(0, 100, 1000), 100, "attempt 0 counts as the first");
  assert.equal(backoff(3, 100, 1000, 0.5, () => 0), 200);
  assert.equal(backoff(3, 100, 1000, 0.5, () => 1), 400);
  assert.equal(backoff(1e6, 100, 1000), 1000, "no overflow");
});

Deno.test("errorMessage reads Errors and anything else thrown", () => {
  assert.equal(errorMessage(new Error("boom")), "boom");
  assert.equal(errorMessage("plain"), "plain");
  assert.equal(errorMessage(42), "42");
  // nats.js's JetStream API errors say only the status; the server's words go with it.
  const full = Object.assign(new Error("503"), {
    api_error: { code: 503, err_code: 10077, description: "maximum bytes exceeded" },
  });
  assert.equal(errorMessage(full), "503: maximum bytes exceeded");
  const said = Object.assign(new Error("stream not found"), {
    api_error: { description: "stream not found" },
  });
  assert.equal(errorMessage(said), "stream not found");
});

Deno.test("the readiness line is found among other output, and only whole", () => {
  const line = '{"event":"ready","program":"tcp_receiver","listen":"127.0.0.1:1"}';
  assert.deepEqual(findReadyLine(`noise\n${line}\nmore`), {
    event: "ready",
    program: "tcp_receiver",
    listen: "127.0.0.1:1",
  });
  assert.equal(findReadyLine(line.slice(0, 20)), undefined);
  assert.equal(findReadyLine('{"event":"other"}\n'), undefined);
});

Deno.test("nats-server versions compare numerically; the chosen binary runs", async () => {
  assert.ok(compareVersions("2.15.1", "2.9.10") > 0);
  assert.ok(compareVersions("2.9.10", "2.10.27") < 0);
  assert.equal(compareVersions("2.10.0", "2.10"), 0);
  const bin = await findNatsServer();
  assert.ok(bin, "a nats-server is installed");
  assert.equal(await natsServerVersion(bin.path), bin.version);
  const named = Deno.env.get("NATS_SERVER_BIN");
  if (named) assert.equal(bin.path, named, "NATS_SERVER_BIN decides");
  assert.equal(await natsServerVersion("/nonexistent/nats-server"), undefined);
});
