/**
 * ClickHouse end to end, against the real server (Debian's clickhouse-server
 * 18.16, started here on free ports): Heka TCP → tcp_receiver → JetStream →
 * subscriber (SUB_FORMAT=ndjson, INSERT … FORMAT JSONEachRow) → ClickHouse,
 * 20,000 messages, the subscriber SIGKILLed once in the middle and
 * restarted. A ReplacingMergeTree ordered by Uuid collapses what the restart
 * sends twice: `SELECT count() FROM logs FINAL` counts each line once.
 *
 * Fails when clickhouse-server is missing; LAGERMEISTER_NO_CLICKHOUSE=1
 * skips it on purpose (tests/helpers/clickhouse_server.ts).
 */
import assert from "node:assert/strict";
import { frameMessage } from "../../services/heka/framing.ts";
import { encodeMessage } from "../../services/heka/codec.ts";
import { formatUuid, newField, newMessage, ValueType } from "../../services/heka/message.ts";
import { ClickHouseServer, clickhouseSkipReason } from "../helpers/clickhouse_server.ts";
import { NatsServer } from "../../testing/mod.ts";
import { startTcpReceiver } from "../helpers/receivers.ts";
import { sleep, SubscriberProcess } from "./helpers.ts";

const TOTAL = 20_000;
const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

/** The README's recipe (18.16 syntax; Timestamp kept as the RFC 3339 text). */
const DDL = `CREATE TABLE logs (
  Uuid String,
  Timestamp String,
  Type String,
  Logger String,
  Severity Int8,
  Payload String,
  EnvVersion String,
  Pid Int32,
  Hostname String,
  status Int64
) ENGINE = ReplacingMergeTree ORDER BY Uuid`;

const INSERT_URL = (ch: ClickHouseServer) =>
  `${ch.url}?query=INSERT%20INTO%20logs%20FORMAT%20JSONEachRow&input_format_skip_unknown_fields=1`;

/** Message i: non-ASCII payloads, every 100th with invalid UTF-8 (→ U+FFFD), a dynamic field. */
function message(i: number): { bytes: Uint8Array; uuid: string; payload: string } {
  const m = newMessage();
  m.uuid = crypto.getRandomValues(new Uint8Array(16));
  m.timestamp = BigInt(Date.now()) * 1_000_000n + BigInt(i);
  m.type = "app.log";
  m.logger = "clickhouse-test";
  m.severity = i % 8;
  m.hostname = `host-${i % 5}`;
  m.pid = 4242;
  const f = newField("status", ValueType.INTEGER);
  f.valueInteger.push(200 + (i % 300));
  m.fields.push(f);
  const text = `Grüße ${i} 東京 ✓ "quoted"`;
  if (i % 100 !== 7) {
    m.payload = text;
    return { bytes: encodeMessage(m), uuid: formatUuid(m.uuid), payload: text };
  }
  // Payload (field 6) as raw bytes with an invalid UTF-8 sequence (0xff).
  const raw = new Uint8Array([...new TextEncoder().encode(`bad ${i} `), 0xff, 0x41]);
  const head = encodeMessage(m);
  const bytes = new Uint8Array(head.length + 2 + raw.length);
  bytes.set(head);
  bytes.set([(6 << 3) | 2, raw.length], head.length);
  bytes.set(raw, head.length + 2);
  return { bytes, uuid: formatUuid(m.uuid), payload: `bad ${i} \uFFFDA` };
}

async function sendTcp(port: number, frames: Uint8Array[]): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    for (let i = 0; i < frames.length; i += 200) {
      const chunk = frames.slice(i, i + 200);
      const data = new Uint8Array(chunk.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const f of chunk) {
        data.set(f, at);
        at += f.length;
      }
      let w = 0;
      while (w < data.length) w += await conn.write(data.subarray(w));
    }
  } finally {
    conn.close();
  }
}

async function endToEnd(gzip: boolean): Promise<void> {
  const ch = await ClickHouseServer.start();
  const nats = await NatsServer.start();
  const subs: SubscriberProcess[] = [];
  let receiver: Awaited<ReturnType<typeof startTcpReceiver>> | undefined;
  try {
    await ch.query(DDL);
    receiver = await startTcpReceiver(nats);
    const env = {
      SUB_NATS_URL: nats.url,
      SUB_REMOTE_URL: INSERT_URL(ch),
      SUB_FORMAT: "ndjson",
      SUB_GZIP: String(gzip),
      SUB_DURABLE: "clickhouse",
      SUB_CLIENT_ID: "ch1",
      SUB_DELIVER_ALL: "true",
      SUB_BATCH_SIZE: "500",
      SUB_BATCH_TIMEOUT: "200ms",
      SUB_POSTERS: "4",
      SUB_RETRY_MIN: "50ms",
      SUB_RETRY_MAX: "1s",
    };
    const msgs = Array.from({ length: TOTAL }, (_, i) => message(i));
    const first = SubscriberProcess.spawn(env);
    subs.push(first);
    await first.waitReady();
    await sendTcp(receiver.port, msgs.map((m) => frameMessage(m.bytes)));

    // SIGKILL the subscriber in the middle, with batches in flight.
    const rows = () => ch.number("SELECT count() FROM logs");
    let n = 0;
    for (let t = 0; t < 1200 && n < TOTAL / 4; t++) {
      n = await rows();
      if (n < TOTAL / 4) await sleep(50);
    }
    assert.ok(n >= TOTAL / 4, `ClickHouse got ${n} rows\n${first.stderr.slice(-2000)}`);
    first.kill("SIGKILL");
    assert.equal((await first.exited()).signal, "SIGKILL");
    const atKill = await rows();
    assert.ok(atKill < TOTAL, `killed in the middle (${atKill} rows)`);

    const second = SubscriberProcess.spawn(env);
    subs.push(second);
    await second.waitReady();
    let unique = 0;
    for (let t = 0; t < 1200 && unique < TOTAL; t++) {
      unique = await ch.number("SELECT uniqExact(Uuid) FROM logs");
      if (unique < TOTAL) await sleep(100);
    }
    assert.equal(unique, TOTAL, second.stderr.slice(-3000));
    await sleep(500);
    assert.equal((await second.stop()).code, 0, second.stderr.slice(-2000));

    assert.equal(await ch.number("SELECT count() FROM logs FINAL"), TOTAL);
    const all = await rows();
    console.log(
      `gzip=${gzip}: killed at ${atKill} rows; ${all} rows stored for ${TOTAL} messages ` +
        `(${all - TOTAL} duplicates collapsed by FINAL)`,
    );

    // The columns, row by row for a sample (one with invalid UTF-8).
    for (const i of [0, 7, 1234, 19_999]) {
      const m = msgs[i];
      const row = JSON.parse(
        await ch.query(
          `SELECT Payload, Severity, Hostname, Type, status FROM logs FINAL ` +
            `WHERE Uuid = '${m.uuid}' FORMAT JSONEachRow`,
        ),
      );
      assert.equal(row.Payload, m.payload, `Payload of message ${i}`);
      assert.equal(row.Severity, i % 8);
      assert.equal(row.Hostname, `host-${i % 5}`);
      assert.equal(row.Type, "app.log");
      assert.equal(Number(row.status), 200 + (i % 300), "the dynamic field");
    }
    assert.equal(
      await ch.number("SELECT count() FROM logs FINAL WHERE position(Payload, '\u00fc') > 0"),
      TOTAL - TOTAL / 100,
      "non-ASCII payloads intact",
    );
    assert.equal(
      await ch.number(`SELECT count() FROM logs FINAL WHERE Payload LIKE '%\uFFFD%'`),
      TOTAL / 100,
      "invalid UTF-8 stored as U+FFFD",
    );
  } finally {
    for (const s of subs) {
      s.kill("SIGKILL");
      await s.exited();
    }
    if (receiver) await receiver.proc.stop();
    await nats.dispose();
    await ch.dispose();
  }
}

Deno.test({
  name:
    "ClickHouse: 20,000 messages Heka TCP → JetStream → subscriber → ClickHouse across a SIGKILL",
  ignore: skip !== undefined,
  fn: () => endToEnd(false),
});

Deno.test({
  name: "ClickHouse: the same with SUB_GZIP=true",
  ignore: skip !== undefined,
  fn: () => endToEnd(true),
});
