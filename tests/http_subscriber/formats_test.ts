/**
 * The output formats (SUB_FORMAT): each encoder's records and request
 * bodies, the ES bulk response interpreter, and the poster settling a bulk
 * answer item by item against a real local `_bulk` stand-in.
 */
import assert from "node:assert/strict";
import { encodeMessage } from "../../services/heka/codec.ts";
import { JsonLineWriter } from "../../services/heka/json.ts";
import { newField, newMessage } from "../../services/heka/message.ts";
import {
  checkIndexPattern,
  createFormat,
  EsBulkResponseInterpreter,
  formatIndex,
  type FormatName,
  type OutputFormat,
  writesInPlace,
} from "../../services/http_subscriber/formats/mod.ts";
import { hashBytes } from "../../services/heka/json_bytes.ts";
import { Batcher } from "../../services/http_subscriber/batcher.ts";
import { BatchPoster, type RefusedItems } from "../../services/http_subscriber/poster.ts";
import { EsBulkSink, splitConcatenated } from "../../testing/mod.ts";
import { sleep, testLog } from "./helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function message(
  o: { ns: bigint; type?: string; host?: string; payload?: string; uuid?: boolean },
): Uint8Array {
  const m = newMessage();
  if (o.uuid !== false) m.uuid = crypto.getRandomValues(new Uint8Array(16));
  m.timestamp = o.ns;
  m.type = o.type ?? "nginx.access";
  m.logger = "nginx";
  m.severity = 6;
  m.hostname = o.host ?? "web-7";
  m.pid = 42;
  m.payload = o.payload ?? 'GET / "x" é';
  const f = newField("status");
  f.valueString.push("200");
  m.fields.push(f);
  return encodeMessage(m);
}

function format(name: FormatName, extra: Partial<Parameters<typeof createFormat>[0]> = {}) {
  return createFormat({
    name,
    json: {},
    esIndex: "logs-%Y.%m.%d",
    lokiLabels: ["Type", "Logger", "Hostname"],
    ...extra,
  });
}

/** The batch body of some messages, as the Batcher would build it. */
function records(f: OutputFormat, msgs: Uint8Array[]): Uint8Array {
  const parts = msgs.map((m) => [...f.encoder.encode(m), 10]).flat();
  return new Uint8Array(parts);
}

const T = 1_700_000_000_123_456_789n; // 2023-11-14T22:13:20.123456789Z

Deno.test("JsonLineWriter.valueOf and timestampParts describe the last message", () => {
  const w = new JsonLineWriter({ fields: ["Payload"] });
  const bytes = message({ ns: T, host: 'h"1' });
  w.encode(bytes);
  assert.equal(decoder.decode(w.valueOf("Hostname")), '"h\\"1"');
  assert.equal(decoder.decode(w.valueOf("Severity")), "6");
  assert.equal(decoder.decode(w.valueOf("Timestamp")), '"2023-11-14T22:13:20.123456789Z"');
  assert.deepEqual(w.timestampParts(), { seconds: 1_700_000_000, nanos: 123_456_789 });
  w.encode(message({ ns: -1n }));
  assert.deepEqual(w.timestampParts(), { seconds: -1, nanos: 999_999_999 });
  assert.throws(() => w.valueOf("Fields"), RangeError);
});

Deno.test("ndjson: the records are the body", () => {
  const f = format("ndjson");
  const body = records(f, [message({ ns: T }), message({ ns: T })]);
  assert.equal(f.request.build(body), body);
  assert.equal(f.request.contentType, "application/json");
  const lines = decoder.decode(body).trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].status, "200");
});

Deno.test("es-bulk: action line with dated index and _id = Uuid, then the document", () => {
  const f = format("es-bulk");
  const a = message({ ns: T });
  const noUuid = message({ ns: 0n, uuid: false });
  const body = decoder.decode(f.request.build(records(f, [a, noUuid])));
  const lines = body.split("\n");
  assert.equal(lines.length, 5, "two pairs and the final newline");
  assert.equal(lines[4], "");
  const action = JSON.parse(lines[0]);
  const doc = JSON.parse(lines[1]);
  assert.deepEqual(action, { index: { _index: "logs-2023.11.14", _id: doc.Uuid } });
  assert.equal(doc.Payload, 'GET / "x" é');
  assert.deepEqual(JSON.parse(lines[2]), { index: { _index: "logs-1970.01.01" } }, "no _id");
  assert.equal(f.request.contentType, "application/x-ndjson");
  // Items retried alone: their pairs only.
  const only = decoder.decode(f.request.build(records(f, [a, noUuid, a]), [1]));
  assert.equal(only, lines.slice(2, 4).join("\n") + "\n");
});

Deno.test("es-bulk index patterns: date directives, and names Elasticsearch refuses", () => {
  assert.equal(formatIndex("logs-%Y.%m.%d-%H%%", 1_700_000_000), "logs-2023.11.14-22%");
  assert.equal(formatIndex("plain", 0), "plain");
  assert.equal(checkIndexPattern("logs-%Y.%m.%d"), undefined);
  assert.match(checkIndexPattern("logs-%j")!, /unknown date directive %j/);
  assert.match(checkIndexPattern("Logs")!, /lowercase/);
  assert.match(checkIndexPattern("_logs")!, /start with/);
  assert.match(checkIndexPattern("a b")!, /must not contain/);
});

Deno.test("es-bulk answers: errors:false is all ok; per-item 429/5xx retry, other 4xx refused", () => {
  const r = new EsBulkResponseInterpreter();
  assert.equal(r.interpret('{"took":3,"errors":false,"items":[]}', 0), undefined);
  const items = [
    { index: { status: 201 } },
    { index: { status: 429, error: { type: "es_rejected_execution_exception", reason: "busy" } } },
    {
      index: {
        status: 400,
        error: { type: "mapper_parsing_exception", reason: "failed to parse field [status]" },
      },
    },
    { create: { status: 503, error: { type: "unavailable_shards_exception", reason: "no" } } },
  ];
  const out = r.interpret(JSON.stringify({ took: 1, errors: true, items }), 4)!;
  assert.deepEqual(out.map((x) => x.kind), ["ok", "retry", "refused", "retry"]);
  assert.match(
    (out[2] as { reason: string }).reason,
    /400: mapper_parsing_exception: failed to parse field \[status\]/,
  );
  assert.throws(() => r.interpret(JSON.stringify({ errors: true, items }), 5), /4 items for 5/);
});

Deno.test("loki: streams grouped by labels, values sorted by time, lines are the NDJSON", () => {
  const f = format("loki");
  const msgs = [
    message({ ns: T + 30n, host: "a" }),
    message({ ns: T + 10n, host: "b" }),
    message({ ns: T + 20n, host: "a" }),
    message({ ns: T + 5n, host: "a", payload: "tab\there" }),
    message({ ns: 999n, host: "b" }),
  ];
  const push = JSON.parse(decoder.decode(f.request.build(records(f, msgs))));
  assert.equal(push.streams.length, 2);
  const [a, b] = push.streams;
  assert.deepEqual(a.stream, { Type: "nginx.access", Logger: "nginx", Hostname: "a" });
  assert.deepEqual(a.values.map((v: string[]) => v[0]), [
    String(T + 5n),
    String(T + 20n),
    String(T + 30n),
  ]);
  assert.deepEqual(b.values.map((v: string[]) => v[0]), ["999", String(T + 10n)]);
  const line = JSON.parse(a.values[0][1]);
  assert.equal(line.Payload, "tab\there");
  assert.equal(line.Hostname, "a");
  // A retried subset, and numeric labels become strings.
  const sev = format("loki", { lokiLabels: ["Severity", "Hostname"] });
  const sub = JSON.parse(decoder.decode(sev.request.build(records(sev, msgs), [1, 4])));
  assert.deepEqual(sub.streams, [{
    stream: { Severity: "6", Hostname: "b" },
    values: [["999", sub.streams[0].values[0][1]], [String(T + 10n), sub.streams[0].values[1][1]]],
  }]);
  assert.throws(() => format("loki", { lokiLabels: ["Payload"] }), /not a message field/);
  assert.throws(() => format("loki", { lokiLabels: ["nope"] }), /not a message field/);
});

Deno.test("splunk-hec: concatenated events with time, host, sourcetype and the event", () => {
  const f = format("splunk-hec");
  const body = decoder.decode(
    f.request.build(records(f, [message({ ns: T }), message({ ns: 2_000_000_000n, host: "" })])),
  );
  const events = splitConcatenated(body) as Record<string, unknown>[];
  assert.equal(events.length, 2);
  assert.equal(Object.keys(events[0]).join(), "time,host,sourcetype,event");
  assert.equal(events[0].host, "web-7");
  assert.equal(events[0].sourcetype, "nginx.access");
  assert.match(body, /^\{"time":1700000000\.123456789,/);
  assert.equal((events[0].event as Record<string, unknown>).status, "200");
  assert.deepEqual(Object.keys(events[1]), ["time", "sourcetype", "event"], "no empty host");
  assert.equal(events[1].time, 2);
});

Deno.test("poster: a mixed bulk answer is settled item by item against a real _bulk endpoint", async () => {
  const f = format("es-bulk");
  const msgs = Array.from({ length: 10 }, (_, i) => message({ ns: T + BigInt(i) }));
  const uuids = msgs.map((m) => {
    const w = new JsonLineWriter();
    w.encode(m);
    return JSON.parse(decoder.decode(w.valueOf("Uuid")));
  });
  // Items 2 and 5: 429 the first two times; 3 and 7: mapping errors; 8: 503 once.
  const seen = new Map<string, number>();
  const es = new EsBulkSink((item) => {
    const i = uuids.indexOf(item.id);
    const n = (seen.get(item.id!) ?? 0) + 1;
    seen.set(item.id!, n);
    if ((i === 2 || i === 5) && n <= 2) {
      return { status: 429, error: { type: "es_rejected_execution_exception", reason: "queue" } };
    }
    if (i === 3 || i === 7) {
      return { status: 400, error: { type: "mapper_parsing_exception", reason: "bad field" } };
    }
    if (i === 8 && n === 1) return { status: 503, error: { type: "unavailable", reason: "x" } };
    return { status: 201 };
  });
  const retried: number[] = [];
  const poster = new BatchPoster({
    url: es.url(),
    concurrency: 1,
    timeoutMs: 5000,
    gzip: true,
    rejectAttempts: 1,
    retryMinMs: 5,
    retryMaxMs: 20,
    request: f.request,
    response: f.response,
    log: testLog,
    onItemsRetried: (n) => retried.push(n),
  });
  const refused: RefusedItems[] = [];
  try {
    const outcome = await poster.submit(records(f, msgs), "mixed", {
      count: msgs.length,
      onRefused: (r) => {
        refused.push(r);
        return Promise.resolve(true);
      },
    });
    assert.deepEqual(outcome, { kind: "delivered", status: 200, attempts: 3, refused: 2 });
    assert.equal(refused.length, 1);
    assert.deepEqual(refused[0].indexes, [3, 7]);
    assert.equal(refused[0].status, 400);
    assert.match(refused[0].reason, /mapper_parsing_exception: bad field/);
    assert.deepEqual(retried, [3, 2], "2, 5 and 8 retried alone, then 2 and 5");
    assert.deepEqual(es.bulks.map((b) => b.length), [10, 3, 2]);
    assert.deepEqual(es.bulks[1].map((i) => uuids.indexOf(i.id)), [2, 5, 8]);
    assert.equal(es.docs.size, 8, "every item but the refused two is stored once");
    assert.deepEqual(es.malformed, []);
  } finally {
    poster.close();
    await es.close();
  }
});

Deno.test("poster: a 200 bulk answer that does not match the batch is a rejection, not retried forever", async () => {
  const f = format("es-bulk");
  let posts = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    posts++;
    // errors:true with the items of some other request
    return Response.json({ took: 1, errors: true, items: [{ index: { status: 201 } }] });
  });
  const poster = new BatchPoster({
    url: `http://127.0.0.1:${server.addr.port}/_bulk`,
    concurrency: 1,
    timeoutMs: 5000,
    rejectAttempts: 2,
    retryMinMs: 5,
    retryMaxMs: 20,
    request: f.request,
    response: f.response,
    log: testLog,
  });
  try {
    const msgs = [message({ ns: T }), message({ ns: T + 1n }), message({ ns: T + 2n })];
    const outcome = await Promise.race([
      poster.submit(records(f, msgs), "x", {
        count: msgs.length,
        onRefused: () => Promise.resolve(true),
      }),
      sleep(3000).then(() => ({ kind: `still posting after 3 s (${posts} POSTs)` })),
    ]);
    assert.equal(outcome.kind, "rejected");
    assert.equal(posts, 2, "SUB_REJECT_ATTEMPTS answers, then given up");
    assert.match((outcome as { reason: string }).reason, /unreadable answer: .*1 items for 3/);
  } finally {
    poster.close();
    await server.shutdown();
  }
});

Deno.test("poster: items refused while being stored elsewhere abort the body (no ack)", async () => {
  const f = format("es-bulk");
  const es = new EsBulkSink(() => ({ status: 400, error: { type: "x", reason: "y" } }));
  const poster = new BatchPoster({
    url: es.url(),
    concurrency: 1,
    timeoutMs: 5000,
    rejectAttempts: 1,
    retryMinMs: 5,
    retryMaxMs: 20,
    request: f.request,
    response: f.response,
    log: testLog,
  });
  try {
    const outcome = await poster.submit(records(f, [message({ ns: T })]), "x", {
      count: 1,
      onRefused: () => Promise.resolve(false),
    });
    assert.equal(outcome.kind, "aborted");
  } finally {
    poster.close();
    await es.close();
  }
});

Deno.test("poster: SUB_HEADERS values go out and are scrubbed from logged errors", async () => {
  let seen: Headers | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    seen = req.headers;
    return new Response("token s3cr3t-t0ken is not valid", { status: 401 });
  });
  const poster = new BatchPoster({
    url: `http://127.0.0.1:${server.addr.port}/`,
    concurrency: 1,
    timeoutMs: 5000,
    rejectAttempts: 1,
    retryMinMs: 5,
    retryMaxMs: 20,
    headers: { authorization: "Bearer s3cr3t-t0ken", "x-scope-orgid": "tenant-1" },
    log: testLog,
  });
  try {
    const outcome = await poster.submit(encoder.encode("{}\n"));
    assert.equal(outcome.kind, "rejected");
    assert.equal(seen?.get("authorization"), "Bearer s3cr3t-t0ken");
    assert.equal(seen?.get("x-scope-orgid"), "tenant-1");
    assert.ok(!(outcome as { reason: string }).reason.includes("s3cr3t"), "scrubbed");
  } finally {
    poster.close();
    await server.shutdown();
  }
});

Deno.test("formats encode the same Uuid the NDJSON line carries", () => {
  const m = message({ ns: T });
  const w = new JsonLineWriter();
  const line = JSON.parse(decoder.decode(w.encode(m)));
  const es = decoder.decode(format("es-bulk").encoder.encode(m));
  assert.ok(es.includes(`"_id":"${line.Uuid}"`));
});

Deno.test("every format: a batch cut by SUB_BATCH_BYTES builds a body no larger than the cap", () => {
  const msgs = Array.from(
    { length: 300 },
    (_, i) =>
      message({
        ns: T + BigInt((i * 37) % 300),
        host: `h${i % 4}`,
        payload: `"q\\\\${i}" ${"y".repeat(i % 200)} \\ "end"`,
      }),
  );
  for (const name of ["ndjson", "es-bulk", "loki", "splunk-hec"] as const) {
    const f = format(name);
    const bodies: Uint8Array[] = [];
    const b = new Batcher<number>({
      maxItems: 10_000,
      maxBytes: 16_384,
      maxWaitMs: 60_000,
      onBatch: (x) => bodies.push(f.request.build(x.body)),
    });
    for (let i = 0; i < msgs.length; i++) b.addBytes(i, f.encoder.encode(msgs[i]));
    b.close();
    assert.ok(bodies.length > 3, `${name}: several batches`);
    for (const body of bodies) assert.ok(body.length <= 16_384, `${name}: ${body.length} bytes`);
    if (name === "loki") {
      const payloads = bodies.flatMap((body) =>
        JSON.parse(decoder.decode(body)).streams.flatMap((s: { values: string[][] }) =>
          s.values.map((v) => JSON.parse(v[1]).Payload)
        )
      );
      assert.equal(payloads.length, 300);
      assert.ok(payloads.includes(`"q\\\\7" ${"y".repeat(7)} \\ "end"`), "quotes and backslashes");
    }
  }
});

Deno.test("formats that write in place write exactly what encode returns, within maxRecordBytes", () => {
  const msgs = [
    message({ ns: T }),
    message({ ns: -T, host: "", type: "", uuid: false }),
    message({ ns: 0n, payload: 'quote " backslash \\ tab \t nul \u0000 ✓'.repeat(40) }),
    message({ ns: T + 3_600_000_000_000n, payload: "x".repeat(10_000) }),
  ];
  // Worst cases for the heads: a long Uuid (its hex is the _id), a hostname and type of escapes.
  const odd = newMessage();
  odd.uuid = new Uint8Array(4000).fill(0xab);
  odd.hostname = "\u0001".repeat(2000);
  odd.type = '"'.repeat(2000);
  odd.payload = "\u0002".repeat(1000);
  msgs.push(encodeMessage(odd));
  const inPlace: string[] = [];
  for (const name of ["ndjson", "es-bulk", "loki", "splunk-hec"] as const) {
    const e = format(name).encoder;
    if (!writesInPlace(e)) continue;
    inPlace.push(name);
    const reference = format(name).encoder;
    for (const m of msgs) {
      const want = reference.encode(m).slice();
      const room = e.maxRecordBytes(m.length);
      const out = new Uint8Array(7 + room + 7).fill(0xee);
      const end = e.encodeInto(m, out, new DataView(out.buffer), 7);
      assert.deepEqual(out.subarray(7, end), want, name);
      assert.ok(end - 7 <= room, `${name}: ${end - 7} > ${room}`);
      assert.ok(out.subarray(end).every((b) => b === 0xee), `${name}: wrote past the record`);
    }
    assert.throws(() =>
      e.encodeInto(
        new Uint8Array([0x0f]),
        new Uint8Array(600),
        new DataView(new ArrayBuffer(600)),
        0,
      )
    );
  }
  assert.deepEqual(inPlace, ["ndjson", "es-bulk", "loki", "splunk-hec"]);
});

Deno.test("loki: labels whose hashes collide are still two streams", () => {
  const f = format("loki");
  // A record's labels object (before its first tab), with the hostname in the middle.
  const r = records(f, [message({ ns: T, host: "HOST" })]);
  const [before, after] = decoder.decode(r.subarray(0, r.indexOf(9))).split("HOST");
  const enc = new TextEncoder();
  // Search hostnames until two label objects share a hash (the birthday bound: ~10^5).
  const seen = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; pair === undefined; i++) {
    const host = `h${i}`;
    const b = enc.encode(before + host + after);
    const h = hashBytes(b, 0, b.length);
    const other = seen.get(h);
    if (other !== undefined) pair = [other, host];
    else seen.set(h, host);
  }
  const msgs = [
    message({ ns: T + 1n, host: pair[0] }),
    message({ ns: T + 2n, host: pair[1] }),
    message({ ns: T + 3n, host: pair[0] }),
  ];
  const push = JSON.parse(decoder.decode(f.request.build(records(f, msgs))));
  assert.deepEqual(
    push.streams.map((s: { stream: { Hostname: string }; values: string[][] }) => [
      s.stream.Hostname,
      s.values.map((v) => v[0]),
    ]),
    [[pair[0], [String(T + 1n), String(T + 3n)]], [pair[1], [String(T + 2n)]]],
  );
});

Deno.test("loki: a body given back is built into again, and only the builder's own bodies are taken", () => {
  const f = format("loki");
  const msgs = [message({ ns: T + 2n, host: "b" }), message({ ns: T + 1n, host: "b" })];
  const first = f.request.build(records(f, [...msgs, message({ ns: T, host: "a" })]));
  const firstBuffer = first.buffer;
  f.request.release!(first);
  const second = f.request.build(records(f, msgs));
  assert.equal(second.buffer, firstBuffer, "the given-back buffer was reused");
  const push = JSON.parse(decoder.decode(second));
  assert.deepEqual(push.streams[0].values.map((v: string[]) => v[0]), [
    String(T + 1n),
    String(T + 2n),
  ]);
  // A buffer it did not build is not taken: the next body is built elsewhere.
  const foreign = new Uint8Array(1 << 20);
  f.request.release!(foreign);
  const third = f.request.build(records(f, msgs));
  assert.notEqual(third.buffer, foreign.buffer);
  assert.notEqual(third.buffer, firstBuffer, "second is still out");
  assert.deepEqual(JSON.parse(decoder.decode(third)), push);
});
