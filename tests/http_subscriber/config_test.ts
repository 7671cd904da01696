/**
 * Acceptance 6 (`--help`, one-line config errors) and the settings derived
 * from the `SUB_*` variables.
 */
import assert from "node:assert/strict";
import { ConfigError, parseEnv } from "../../services/config/mod.ts";
import { subscriberSpec } from "../../services/http_subscriber/config.ts";
import {
  defaultAckWait,
  resolveSettings,
  type SubscriberSettings,
} from "../../services/http_subscriber/settings.ts";
import { consumerConfig } from "../../services/http_subscriber/consumer.ts";
import { SubscriberProcess } from "./helpers.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");

function settings(env: Record<string, string>): SubscriberSettings {
  return resolveSettings(
    parseEnv(subscriberSpec, { SUB_REMOTE_URL: "https://example.com/in", ...env }),
    NOW,
    "host",
  );
}

function configError(env: Record<string, string>): string {
  try {
    settings(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail(`no error for ${JSON.stringify(env)}`);
}

Deno.test("--help prints the env var table with every original SUB_ variable", async () => {
  const p = SubscriberProcess.spawn({}, ["--help"]);
  const status = await p.exited();
  assert.equal(status.code, 0);
  const out = p.stdout;
  assert.match(out, /^KEY\s+TYPE\s+DEFAULT\s+REQUIRED\s+DESCRIPTION$/m);
  const original = [
    "SUB_CLUSTER_ID",
    "SUB_CLIENT_ID",
    "SUB_START_SEQ",
    "SUB_START_DELTA",
    "SUB_DELIVER_ALL",
    "SUB_DELIVER_LAST",
    "SUB_DURABLE",
    "SUB_QGROUP",
    "SUB_UNSUBSCRIBE",
    "SUB_NATS_URL",
    "SUB_SUBJECT",
    "SUB_STUB_HTTP",
    "SUB_REMOTE_URL",
    "SUB_LOGGING_LEVEL",
    "SUB_BATCH_TIMEOUT",
    "SUB_BATCH_SIZE",
  ];
  for (const name of [...original, "SUB_STREAM", "SUB_POSTERS", "SUB_GZIP", "SUB_BATCH_BYTES"]) {
    assert.match(out, new RegExp(`^${name}\\s`, "m"), `${name} in --help`);
  }
  assert.match(out, /^SUB_BATCH_TIMEOUT\s+Duration\s+10s\s/m);
  assert.match(out, /^SUB_BATCH_SIZE\s+\S+ Integer\s+100\s/m);
  assert.match(out, /^SUB_CLUSTER_ID\s+String\s+test-cluster\s+accepted and ignored/m);
  assert.match(out, /resumes where it left off, whatever the start options say/);
});

Deno.test("a bad value exits non-zero with one clear line", async () => {
  const p = SubscriberProcess.spawn({ SUB_BATCH_SIZE: "ten", SUB_STUB_HTTP: "true" });
  const status = await p.exited();
  assert.notEqual(status.code, 0);
  assert.equal(p.stderr, 'http_subscriber: SUB_BATCH_SIZE must be a positive integer, got "ten"\n');

  const q = SubscriberProcess.spawn({ SUB_DURABLE: "false", SUB_STUB_HTTP: "true" });
  assert.notEqual((await q.exited()).code, 0);
  assert.equal(q.stderr.trim().split("\n").length, 1);
  assert.match(q.stderr, /SUB_DURABLE must be a consumer name, got "false"/);

  const r = SubscriberProcess.spawn({});
  assert.notEqual((await r.exited()).code, 0);
  assert.match(r.stderr, /^http_subscriber: SUB_REMOTE_URL is required/);
});

Deno.test("settings: defaults, dead-letter subject, ack wait and window", () => {
  const s = settings({});
  assert.equal(s.consumer.stream, "LAGERMEISTER");
  assert.equal(s.consumer.filterSubject, "lagermeister-test");
  assert.equal(s.deadLetterSubject, "lagermeister-test.dead");
  assert.equal(s.consumer.name, undefined);
  assert.deepEqual(s.consumer.start, { kind: "new" });
  assert.equal(s.consumer.maxAckPending, 100 * 27);
  assert.equal(s.consumer.ackWaitMs, 10_000 + 2 * 30_000 + 30_000);
  assert.equal(s.config.batchBytes, 1_048_576);
  assert.equal(s.config.posters, 25);
  assert.equal(s.config.statsAddress?.port, 34998);
  assert.equal(s.connectionName, `http_subscriber-host-${Deno.pid}`);
  assert.equal(s.remoteUrl, "https://example.com/in");

  const t = settings({
    SUB_BATCH_SIZE: "500",
    SUB_POSTERS: "8",
    SUB_BATCH_TIMEOUT: "2s",
    SUB_REQUEST_TIMEOUT: "5s",
    SUB_STATS_ADDRESS: "off",
    SUB_STUB_HTTP: "true",
    SUB_REMOTE_URL: "",
  });
  assert.equal(t.consumer.maxAckPending, 500 * 10);
  assert.equal(t.consumer.ackWaitMs, defaultAckWait(t.config));
  assert.equal(t.consumer.ackWaitMs, 2000 + 10_000 + 30_000);
  assert.equal(t.config.statsAddress, undefined);
  assert.equal(t.remoteUrl, undefined);
  const u = settings({ SUB_ACK_WAIT: "5s", SUB_MAX_ACK_PENDING: "64" });
  assert.equal(u.consumer.ackWaitMs, 5000);
  assert.equal(u.consumer.maxAckPending, 64);
});

Deno.test("settings: durable, queue group and client id make the consumer name", () => {
  assert.equal(settings({ SUB_DURABLE: "sumo" }).consumer.name, "sumo");
  assert.equal(
    settings({ SUB_DURABLE: "sumo", SUB_CLIENT_ID: "web.01 a" }).consumer.name,
    "sumo-web_01_a",
  );
  const g = settings({ SUB_QGROUP: "workers", SUB_CLIENT_ID: "m1" });
  assert.equal(g.consumer.name, "workers");
  assert.equal(g.consumer.shared, true);
  assert.equal(g.connectionName, "m1");
  assert.equal(settings({ SUB_QGROUP: "workers", SUB_DURABLE: "d" }).consumer.name, "workers-d");
  assert.match(configError({ SUB_DURABLE: "true" }), /SUB_DURABLE must be a consumer name/);
  assert.match(configError({ SUB_QGROUP: "FALSE" }), /SUB_QGROUP must be a consumer name/);
  assert.match(configError({ SUB_DURABLE: "a.b" }), /SUB_DURABLE must be a consumer name/);
});

Deno.test("settings: start options map to deliver policies; at most one", () => {
  const seq = settings({ SUB_START_SEQ: "42" });
  assert.deepEqual(seq.consumer.start, { kind: "seq", seq: 42 });
  assert.equal(consumerConfig(seq.consumer).deliver_policy, "by_start_sequence");
  assert.equal(consumerConfig(seq.consumer).opt_start_seq, 42);
  const delta = settings({ SUB_START_DELTA: "1m30s" });
  assert.equal(consumerConfig(delta.consumer).opt_start_time, "2024-05-01T11:58:30.000Z");
  assert.equal(consumerConfig(settings({ SUB_DELIVER_ALL: "1" }).consumer).deliver_policy, "all");
  assert.equal(
    consumerConfig(settings({ SUB_DELIVER_LAST: "true", SUB_DELIVER_ALL: "false" }).consumer)
      .deliver_policy,
    "last",
  );
  assert.equal(consumerConfig(settings({ SUB_START_SEQ: "0" }).consumer).deliver_policy, "new");
  const c = consumerConfig(settings({ SUB_DURABLE: "d" }).consumer);
  assert.equal(c.durable_name, "d");
  assert.equal(c.ack_policy, "explicit");
  assert.equal(c.filter_subject, "lagermeister-test");
  assert.equal(c.inactive_threshold, undefined);
  assert.ok(consumerConfig(settings({}).consumer).inactive_threshold! > 0);
  assert.match(
    configError({ SUB_START_SEQ: "3", SUB_DELIVER_LAST: "true" }),
    /set at most one of SUB_START_SEQ/,
  );
});

Deno.test("settings: subjects, fields and the remote URL are checked", () => {
  assert.match(configError({ SUB_SUBJECT: "logs.>" }), /SUB_DEAD_LETTER_SUBJECT must be set/);
  assert.equal(
    settings({ SUB_SUBJECT: "logs.>", SUB_DEAD_LETTER_SUBJECT: "dead.logs" }).deadLetterSubject,
    "dead.logs",
  );
  assert.match(
    configError({ SUB_SUBJECT: "logs.>", SUB_DEAD_LETTER_SUBJECT: "logs.dead" }),
    /must not match SUB_SUBJECT/,
  );
  assert.match(configError({ SUB_SUBJECT: "a..b" }), /SUB_SUBJECT must be a NATS subject/);
  assert.match(configError({ SUB_DEAD_LETTER_SUBJECT: "x.*" }), /without wildcards/);
  assert.match(configError({ SUB_FIELDS: "Uuid,Nope" }), /SUB_FIELDS: unknown field "Nope"/);
  assert.deepEqual(
    settings({ SUB_FIELDS: "payload, uuid" }).json.fields,
    ["Payload", "Uuid"],
  );
  assert.match(configError({ SUB_REMOTE_URL: "" }), /SUB_REMOTE_URL is required/);
  assert.match(
    configError({ SUB_RETRY_MIN: "2s", SUB_RETRY_MAX: "1s" }),
    /SUB_RETRY_MAX must be at least/,
  );
});
