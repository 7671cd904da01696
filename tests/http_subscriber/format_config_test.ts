/**
 * SUB_FORMAT and its settings (SUB_HEADERS, SUB_ES_INDEX, SUB_LOKI_LABELS,
 * SUB_SPLUNK_TOKEN): defaults, one clear line for bad values, secrets
 * redacted in --help and the start-up summary.
 */
import assert from "node:assert/strict";
import { ConfigError, parseEnv } from "../../services/config/mod.ts";
import { subscriberSpec } from "../../services/http_subscriber/config.ts";
import {
  resolveSettings,
  type SubscriberSettings,
} from "../../services/http_subscriber/settings.ts";
import { NatsServer } from "../../testing/mod.ts";
import { SubscriberProcess } from "./helpers.ts";

function settings(env: Record<string, string>): SubscriberSettings {
  return resolveSettings(
    parseEnv(subscriberSpec, { SUB_REMOTE_URL: "https://example.com/in", ...env }),
    0,
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

Deno.test("format settings: defaults and what each format takes", () => {
  const d = settings({});
  assert.equal(d.format.name, "ndjson");
  assert.deepEqual(d.headers, {});
  const es = settings({ SUB_FORMAT: "es-bulk", SUB_ES_INDEX: "logs-%Y.%m.%d" });
  assert.equal(es.format.esIndex, "logs-%Y.%m.%d");
  assert.deepEqual(settings({ SUB_FORMAT: "loki" }).format.lokiLabels, [
    "Type",
    "Logger",
    "Hostname",
  ]);
  assert.deepEqual(
    settings({ SUB_FORMAT: "loki", SUB_LOKI_LABELS: "hostname, severity" }).format.lokiLabels,
    ["Hostname", "Severity"],
  );
  assert.deepEqual(
    settings({ SUB_FORMAT: "splunk-hec", SUB_SPLUNK_TOKEN: "abc-123" }).headers,
    { authorization: "Splunk abc-123" },
  );
  assert.deepEqual(
    settings({
      SUB_FORMAT: "splunk-hec",
      SUB_HEADERS: '{"Authorization":"Splunk xyz","X-Tenant":"t1"}',
    }).headers,
    { authorization: "Splunk xyz", "x-tenant": "t1" },
  );
});

Deno.test("format settings: bad values are one clear line naming the variable", () => {
  assert.match(
    configError({ SUB_FORMAT: "elastic" }),
    /^SUB_FORMAT must be one of ndjson, es-bulk, loki, splunk-hec, got "elastic"$/,
  );
  const notShown = configError({ SUB_HEADERS: '["Bearer secret-value"]' });
  assert.match(notShown, /^SUB_HEADERS must be a JSON object of strings/);
  assert.ok(!notShown.includes("secret-value"));
  assert.match(configError({ SUB_HEADERS: '{"a":1}' }), /^SUB_HEADERS must be a JSON object/);
  assert.match(configError({ SUB_HEADERS: '{"bad name":"x"}' }), /is not a header name/);
  assert.match(
    configError({ SUB_HEADERS: '{"Content-Encoding":"br"}' }),
    /set by the subscriber/,
  );
  assert.match(
    configError({ SUB_FORMAT: "loki", SUB_LOKI_LABELS: "Type,Payload" }),
    /^SUB_LOKI_LABELS: "Payload" is not a message field usable as a label; choose from Type/,
  );
  assert.match(
    configError({ SUB_FORMAT: "loki", SUB_LOKI_LABELS: "colour" }),
    /"colour" is not a message field/,
  );
  assert.match(
    configError({ SUB_FORMAT: "es-bulk", SUB_ES_INDEX: "Logs-%Y" }),
    /^SUB_ES_INDEX "Logs-%Y": index names must be lowercase$/,
  );
  assert.match(
    configError({ SUB_FORMAT: "es-bulk", SUB_ES_INDEX: "logs-%q" }),
    /unknown date directive %q/,
  );
  assert.match(configError({ SUB_FORMAT: "splunk-hec" }), /needs SUB_SPLUNK_TOKEN/);
  assert.match(configError({ SUB_SPLUNK_TOKEN: "x" }), /only used with SUB_FORMAT=splunk-hec/);
  assert.match(
    configError({
      SUB_FORMAT: "splunk-hec",
      SUB_SPLUNK_TOKEN: "x",
      SUB_HEADERS: '{"authorization":"Splunk y"}',
    }),
    /either SUB_SPLUNK_TOKEN or an Authorization header/,
  );
});

Deno.test("the program: a bad format setting exits non-zero with one line", async () => {
  const p = SubscriberProcess.spawn({
    SUB_STUB_HTTP: "true",
    SUB_FORMAT: "loki",
    SUB_LOKI_LABELS: "Uuid",
  });
  const status = await p.exited();
  assert.equal(status.code, 2);
  assert.equal(p.stderr.trim().split("\n").length, 1, p.stderr);
  assert.match(p.stderr, /^http_subscriber: SUB_LOKI_LABELS: "Uuid" is not a message field/);
});

Deno.test("SUB_HEADERS and SUB_SPLUNK_TOKEN values never show in --help or the summary", async () => {
  const secret = "hec-0a1b2c3d4e5f";
  const header = "Bearer hdr-9z8y7x6w";
  const help = SubscriberProcess.spawn({
    SUB_HEADERS: JSON.stringify({ Authorization: header }),
    SUB_SPLUNK_TOKEN: secret,
  }, ["--help"]);
  assert.equal((await help.exited()).code, 0);
  assert.match(help.stdout, /SUB_FORMAT\s+String\s+ndjson/);
  assert.match(help.stdout, /SUB_HEADERS\s+JSON/);
  assert.match(help.stdout, /SUB_LOKI_LABELS\s+List\s+Type,Logger,Hostname/);

  const server = await NatsServer.start();
  const sub = SubscriberProcess.spawn({
    SUB_NATS_URL: server.url,
    SUB_REMOTE_URL: "http://127.0.0.1:9/services/collector/event",
    SUB_FORMAT: "splunk-hec",
    SUB_SPLUNK_TOKEN: secret,
    SUB_HEADERS: JSON.stringify({ "X-Extra": header }),
  });
  try {
    await sub.waitReady();
    assert.match(sub.stderr, /SUB_SPLUNK_TOKEN=\*\*\*/);
    assert.match(sub.stderr, /format=splunk-hec/);
    assert.ok(sub.stderr.includes("X-Extra"), "header names are shown");
  } finally {
    await sub.stop();
    await server.dispose();
  }
  for (const text of [help.stdout, help.stderr, sub.stderr, sub.stdout]) {
    assert.ok(!text.includes(secret), "the token is never printed");
    assert.ok(!text.includes("hdr-9z8y7x6w"), "header values are never printed");
  }
});
