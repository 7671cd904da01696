/**
 * Issue #3 acceptance: `--help` and bad config values, for both receivers;
 * secrets never printed.
 */
import assert from "node:assert/strict";
import { parseEnv } from "../../services/config/mod.ts";
import { httpReceiverSpec } from "../../services/http_receiver/config.ts";
import { tcpReceiverSpec } from "../../services/tcp_receiver/config.ts";
import { ProgramProcess } from "../../testing/mod.ts";

const programs = [
  { script: "services/tcp_receiver/main.ts", prefix: "TCPRCVR_", port: ":35000" },
  { script: "services/http_receiver/main.ts", prefix: "RCVR_", port: ":35001" },
];

for (const p of programs) {
  Deno.test(`${p.script} --help prints the env table`, async () => {
    const r = await ProgramProcess.run(p.script, {}, ["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /KEY\s+TYPE\s+DEFAULT\s+REQUIRED\s+DESCRIPTION/);
    for (
      const name of [
        "BIND_ADDRESS",
        "NATS_URL",
        "CLUSTER_ID",
        "CLIENT_ID",
        "SUBJECT",
        "MATCH_SPEC",
        "STREAM",
        "SHUTDOWN_TIMEOUT",
      ]
    ) {
      assert.match(r.stdout, new RegExp(`^${p.prefix}${name}\\s`, "m"), name);
    }
    assert.match(r.stdout, new RegExp(`${p.prefix}BIND_ADDRESS\\s+String\\s+${p.port}`));
    assert.match(r.stdout, new RegExp(`${p.prefix}CLIENT_ID\\s+String\\s+true`));
  });

  Deno.test(`${p.script} exits non-zero with one clear line on bad config`, async () => {
    const missing = await ProgramProcess.run(p.script, {});
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, new RegExp(`${p.prefix}CLIENT_ID is required`));
    const bad = await ProgramProcess.run(p.script, {
      [`${p.prefix}CLIENT_ID`]: "x",
      [`${p.prefix}MAX_MESSAGE_SIZE`]: "ten",
    });
    assert.notEqual(bad.code, 0);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(
      bad.stderr,
      new RegExp(`${p.prefix}MAX_MESSAGE_SIZE must be an integer.*got "ten"`),
    );
    const spec = await ProgramProcess.run(p.script, {
      [`${p.prefix}CLIENT_ID`]: "x",
      [`${p.prefix}MATCH_SPEC`]: "Type == ",
    });
    assert.notEqual(spec.code, 0);
    assert.match(spec.stderr, /MATCH_SPEC.*column/);
  });

  Deno.test(`${p.script} never prints NATS passwords`, async () => {
    const proc = ProgramProcess.start(p.script, {
      [`${p.prefix}CLIENT_ID`]: "x",
      [`${p.prefix}NATS_URL`]: "nats://alice:hunter2@127.0.0.1:1",
      [`${p.prefix}BIND_ADDRESS`]: "127.0.0.1:0",
    });
    await proc.waitFor(/connecting to NATS/);
    await proc.stop("SIGKILL");
    assert.match(proc.stderr, /alice:\*\*\*@127\.0\.0\.1:1/);
    assert.doesNotMatch(proc.stderr, /hunter2/);
  });
}

Deno.test("receivers' shutdown waits: defaults of the former constants, values honoured", () => {
  const tcp = parseEnv(tcpReceiverSpec, { TCPRCVR_CLIENT_ID: "x" });
  assert.equal(tcp.shutdownTimeout, 30_000);
  assert.equal(
    parseEnv(tcpReceiverSpec, { TCPRCVR_CLIENT_ID: "x", TCPRCVR_SHUTDOWN_TIMEOUT: "2s" })
      .shutdownTimeout,
    2000,
  );
  const http = parseEnv(httpReceiverSpec, { RCVR_CLIENT_ID: "x" });
  assert.equal(http.shutdownTimeout, 30_000);
  assert.equal(http.shutdownRequestTimeout, 10_000);
  const set = parseEnv(httpReceiverSpec, {
    RCVR_CLIENT_ID: "x",
    RCVR_SHUTDOWN_TIMEOUT: "1m",
    RCVR_SHUTDOWN_REQUEST_TIMEOUT: "250ms",
  });
  assert.equal(set.shutdownTimeout, 60_000);
  assert.equal(set.shutdownRequestTimeout, 250);
});

Deno.test("http_receiver --help shows RCVR_SHUTDOWN_REQUEST_TIMEOUT", async () => {
  const r = await ProgramProcess.run("services/http_receiver/main.ts", {}, ["--help"]);
  assert.match(r.stdout, /^RCVR_SHUTDOWN_REQUEST_TIMEOUT\s+Duration\s+10s/m);
});
