/**
 * Issue #5 (generator): generated messages are realistic, varied, valid
 * Heka messages of the requested size; stamped copies get fresh uuids and
 * timestamps; signed frames verify.
 */
import assert from "node:assert/strict";
import { decodeMessage, validateMessage } from "../../services/heka/codec.ts";
import { FrameSplitter, type HekaFrame } from "../../services/heka/framing.ts";
import { SignatureVerifier } from "../../services/heka/hmac.ts";
import { formatUuid, ValueType } from "../../services/heka/message.ts";
import { compileMatcher } from "../../services/heka/matcher/mod.ts";
import { parseSigner, redactSigner } from "../../services/log_generator/config.ts";
import { Pacer } from "../../services/log_generator/pacer.ts";
import {
  buildMessages,
  buildTemplates,
  PAYLOAD_KINDS,
} from "../../services/log_generator/payloads.ts";
import { MessageStamper, writeTimestamp } from "../../services/log_generator/stamp.ts";

function frames(bytes: Uint8Array): HekaFrame[] {
  const s = new FrameSplitter();
  s.push(bytes);
  const out: HekaFrame[] = [];
  for (let f = s.next(); f !== null; f = s.next()) out.push(f);
  assert.equal(s.stats.garbageBytes, 0);
  assert.equal(s.buffered, 0);
  return out;
}

Deno.test("templates decode, validate, hit the requested size and vary in kind and fields", () => {
  for (const size of [300, 1000, 3000, 20_000]) {
    const templates = buildTemplates({ size, hostname: "web-01", variants: 30 });
    assert.equal(templates.length, 30);
    for (const t of templates) {
      // Exact when the content fits; small sizes trim payloads and drop fields.
      if (size >= 1000) assert.equal(t.length, size, `size ${size}`);
      else assert.ok(t.length <= size && t.length >= size * 0.9, `size ${t.length} for ${size}`);
      const m = decodeMessage(t);
      assert.equal(validateMessage(m), undefined);
      assert.equal(m.hostname, "web-01");
      assert.ok(m.payload!.length > 0);
    }
  }
  const msgs = buildMessages({ size: 1000, hostname: "web-01", variants: 60 });
  assert.deepEqual(new Set(msgs.map((m) => m.type)), new Set(PAYLOAD_KINDS));
  const types = new Set(msgs.flatMap((m) => m.fields.map((f) => f.valueType)));
  for (const t of Object.values(ValueType)) assert.ok(types.has(t), `value type ${t} present`);
  assert.ok(msgs.some((m) => m.fields.some((f) => f.valueDouble.length > 1)), "repeated values");
  assert.ok(msgs.some((m) => m.fields.some((f) => f.representation !== "")), "representations");
  assert.ok(new Set(msgs.map((m) => m.payload)).size === 60, "every payload differs");
  assert.ok(new Set(msgs.map((m) => m.severity)).size >= 3, "severities follow the content");
  const nginx = msgs.find((m) => m.type === "nginx.access")!;
  assert.match(
    nginx.payload!,
    /^\d+\.\d+\.\d+\.\d+ - - \[\d\d\/\w{3}\/\d{4}:[\d:]+ \+0000\] "[A-Z]+ \//,
  );
  const json = msgs.find((m) => m.type === "app.json")!;
  assert.equal(typeof JSON.parse(json.payload!).level, "string");
  const trace = msgs.find((m) => m.type === "app.exception")!;
  assert.match(trace.payload!, /Exception[\s\S]*\n\tat /);
});

Deno.test("a typical matcher spec selects some nginx 5xx messages and nothing else", () => {
  const msgs = buildMessages({ size: 1000, hostname: "h", variants: 300 });
  const m = compileMatcher('Type == "nginx.access" && Severity <= 4 && Fields[status] >= 500');
  const hits = msgs.filter((x) => m.matches(x));
  assert.ok(hits.length > 0);
  assert.ok(hits.length < msgs.length / 3);
});

Deno.test("GEN_TYPE: a kind sends only that kind, another value renames the mix", () => {
  assert.ok(
    buildMessages({ size: 500, hostname: "h", type: "app.json", variants: 9 })
      .every((m) => m.type === "app.json" && m.payload!.startsWith("{")),
  );
  const custom = buildMessages({ size: 500, hostname: "h", type: "my.type", variants: 9 });
  assert.ok(custom.every((m) => m.type === "my.type"));
  assert.ok(
    custom.some((m) => m.payload!.startsWith("{")) &&
      custom.some((m) => m.payload!.includes("\tat ")),
  );
});

Deno.test("stamped frames: fresh v4 uuids and current timestamps, the rest untouched", () => {
  const templates = buildTemplates({ size: 2000, hostname: "h", variants: 4 });
  const stamper = new MessageStamper(templates);
  const buf = new Uint8Array(stamper.maxFrameSize * 50);
  const now = Date.now();
  let end = 0;
  for (let i = 0; i < 50; i++) end = stamper.writeFrame(buf, end, now);
  assert.equal(stamper.writeFrame(buf, end), -1, "a frame that does not fit is not written");
  const got = frames(buf.subarray(0, end));
  assert.equal(got.length, 50);
  const uuids = new Set<string>();
  got.forEach((f, i) => {
    const m = decodeMessage(f.message);
    assert.equal(validateMessage(m), undefined);
    const uuid = formatUuid(m.uuid);
    assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    uuids.add(uuid);
    assert.equal(m.timestamp, BigInt(now) * 1_000_000n);
    // Everything after the uuid and the timestamp is the template's, byte for byte.
    assert.deepEqual(f.message.subarray(28), templates[i % 4].subarray(28));
  });
  assert.equal(uuids.size, 50);
  const bare = decodeMessage(stamper.nextMessage());
  assert.equal(validateMessage(bare), undefined);
  assert.ok(Math.abs(Number(bare.timestamp! / 1_000_000n) - Date.now()) < 5_000);
});

Deno.test("writeTimestamp writes exact 9-byte varints of ns times", () => {
  for (
    const ms of [Date.UTC(1973, 0, 1), Date.now(), 1_795_643_199_769.123, Date.UTC(2200, 0, 1)]
  ) {
    const buf = new Uint8Array(9);
    writeTimestamp(buf, 0, ms);
    let v = 0n;
    for (let i = 8; i >= 0; i--) v = (v << 7n) | BigInt(buf[i] & 0x7f);
    assert.equal(v, BigInt(Math.floor(ms * 1000)) * 1000n);
    assert.ok(buf.slice(0, 8).every((b) => b >= 0x80) && buf[8] < 0x80);
  }
});

Deno.test("GEN_SIGNER: signed frames verify with SignatureVerifier (md5 and sha1)", () => {
  for (const spec of ["ops:1:md5:s3cr:et", "ops:2:sha1:other"]) {
    const signer = parseSigner(spec)!;
    const stamper = new MessageStamper(
      buildTemplates({ size: 800, hostname: "h", variants: 3 }),
      signer,
    );
    const buf = new Uint8Array(stamper.maxFrameSize * 10);
    let end = 0;
    for (let i = 0; i < 10; i++) end = stamper.writeFrame(buf, end);
    const verifier = new SignatureVerifier({
      signers: { [`ops_${signer.version}`]: String(signer.key) },
      requireSigned: true,
    });
    const wrongKey = new SignatureVerifier({
      signers: { [`ops_${signer.version}`]: "wrong" },
      requireSigned: true,
    });
    for (const f of frames(buf.subarray(0, end))) {
      assert.equal(f.header.hmacSigner, "ops");
      assert.equal(verifier.verify(f.header, f.message), "ok");
      assert.equal(wrongKey.verify(f.header, f.message), "bad-digest");
    }
  }
  assert.deepEqual(parseSigner("ops:1:md5:a:b"), {
    name: "ops",
    version: 1,
    hash: "md5",
    key: "a:b",
  });
  assert.equal(parseSigner("ops:1:sha256:k"), undefined);
  assert.equal(parseSigner("ops:x:md5:k"), undefined);
  assert.equal(parseSigner("ops:1:md5:"), undefined);
  assert.equal(redactSigner("ops:1:md5:topsecret"), "ops:1:md5:***");
});

Deno.test("Pacer: rate, count and stop", async () => {
  const paced = new Pacer({ rate: 400, count: 0, durationMs: 500 });
  let n = 0;
  for (let k = await paced.take(10); k > 0; k = await paced.take(10)) n += k;
  assert.ok(n >= 150 && n <= 260, `about 200 in 0.5 s at 400/s, got ${n}`);

  const counted = new Pacer({ rate: 0, count: 25, durationMs: 0 });
  assert.equal(await counted.take(10), 10);
  assert.equal(await counted.take(10), 10);
  assert.equal(await counted.take(10), 5);
  assert.equal(await counted.take(10), 0);

  const slow = new Pacer({ rate: 1, count: 0, durationMs: 0 });
  assert.equal(await slow.take(5), 1);
  setTimeout(() => slow.stop(), 50);
  assert.equal(await slow.take(5), 0, "stop ends a waiting take");
});
