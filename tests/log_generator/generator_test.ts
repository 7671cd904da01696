/**
 * Issue #5 (generator): `deno task generate` as a real process against a
 * real TCP listener and a real HTTP server in the test — config errors,
 * --help, counts, signatures, 503 retries, rate, duration and SIGTERM.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { decodeMessage, validateMessage } from "../../services/heka/codec.ts";
import { FrameSplitter } from "../../services/heka/framing.ts";
import { SignatureVerifier, type VerifyResult } from "../../services/heka/hmac.ts";
import { formatUuid } from "../../services/heka/message.ts";
import { ProgramProcess } from "../../testing/mod.ts";

const GENERATOR = "services/log_generator/main.ts";

/** A Heka stream listener that splits, decodes and verifies what it gets. */
function heka(signers: Record<string, string> = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const verifier = new SignatureVerifier({ signers, requireSigned: false });
  const got = {
    connections: 0,
    frames: 0,
    invalid: 0,
    uuids: new Set<string>(),
    sigs: new Map<VerifyResult, number>(),
  };
  const serving = (async () => {
    const conns: Promise<void>[] = [];
    for await (const conn of listener) {
      got.connections++;
      conns.push(
        (async () => {
          const splitter = new FrameSplitter();
          for await (const chunk of conn.readable) {
            splitter.push(chunk);
            for (let f = splitter.next(); f !== null; f = splitter.next()) {
              got.frames++;
              const m = decodeMessage(f.message);
              if (validateMessage(m) !== undefined) got.invalid++;
              got.uuids.add(formatUuid(m.uuid));
              const v = verifier.verify(f.header, f.message);
              got.sigs.set(v, (got.sigs.get(v) ?? 0) + 1);
            }
          }
        })().catch(() => {}),
      );
    }
    await Promise.all(conns);
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    got,
    async close() {
      listener.close();
      await serving;
    },
  };
}

function doneLine(stderr: string): Record<string, string> {
  const line = stderr.split("\n").find((l) => l.includes("msg=done"));
  assert.ok(line, `no done line in:\n${stderr}`);
  return Object.fromEntries(
    [...line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)].map((m) => [m[1], m[2]]),
  );
}

Deno.test("--help prints the GEN_ env var table; bad values exit 2 with one clear line", async () => {
  const help = await ProgramProcess.run(GENERATOR, {}, ["--help"]);
  assert.equal(help.code, 0);
  for (
    const v of [
      "GEN_TARGET",
      "GEN_RATE",
      "GEN_SIZE",
      "GEN_COUNT",
      "GEN_DURATION",
      "GEN_CONNECTIONS",
      "GEN_SIGNER",
      "GEN_HOSTNAME",
      "GEN_TYPE",
    ]
  ) assert.match(help.stdout, new RegExp(`^${v}\\s`, "m"));
  assert.match(help.stdout, /^KEY\s+TYPE\s+DEFAULT\s+REQUIRED\s+DESCRIPTION/m);
  assert.match(help.stdout, /tcp:\/\/127\.0\.0\.1:35000/);

  const rate = await ProgramProcess.run(GENERATOR, { GEN_RATE: "fast" });
  assert.equal(rate.code, 2);
  assert.equal(
    rate.stderr.trim(),
    'log_generator: GEN_RATE must be a non-negative integer, got "fast"',
  );

  const target = await ProgramProcess.run(GENERATOR, { GEN_TARGET: "ftp://x/" });
  assert.equal(target.code, 2);
  assert.match(target.stderr, /^log_generator: GEN_TARGET must be a URL \(tcp or http or https\)/);

  const signer = await ProgramProcess.run(GENERATOR, { GEN_SIGNER: "ops:1:sha256:hushhush" });
  assert.equal(signer.code, 2);
  assert.match(signer.stderr, /GEN_SIGNER must be name:version:hash:key/);
  assert.ok(!signer.stderr.includes("hushhush"), "the key is never printed");
  assert.equal(signer.stderr.trim().split("\n").length, 1);
});

Deno.test("TCP: 600 signed messages over 3 connections arrive valid, unique and verifiable; key redacted", async () => {
  const server = heka({ ops_1: "topsecret" });
  try {
    const r = await ProgramProcess.run(GENERATOR, {
      GEN_TARGET: `tcp://127.0.0.1:${server.port}`,
      GEN_RATE: "0",
      GEN_COUNT: "600",
      GEN_CONNECTIONS: "3",
      GEN_SIZE: "1500",
      GEN_SIGNER: "ops:1:md5:topsecret",
      GEN_HOSTNAME: "gen-test",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes("topsecret"), "the HMAC key is never printed");
    assert.match(r.stderr, /GEN_SIGNER=ops:1:md5:\*\*\*/);
    const done = doneLine(r.stderr);
    assert.equal(done.sent, "600");
    assert.equal(done.errors, "0");
    // The client closed its connections after the last write; let the server read them out.
    const deadline = Date.now() + 5000;
    while (server.got.frames < 600 && Date.now() < deadline) {
      await sleep(20);
    }
    assert.equal(server.got.connections, 3);
    assert.equal(server.got.frames, 600);
    assert.equal(server.got.invalid, 0);
    assert.equal(server.got.uuids.size, 600);
    assert.deepEqual([...server.got.sigs], [["ok", 600]]);
  } finally {
    await server.close();
  }
});

Deno.test("HTTP: POSTs every message, retries 503 after Retry-After, counts status codes", async () => {
  const byUuid = new Map<string, { first503?: number; okAt?: number }>();
  let requests = 0;
  let invalid = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const m = decodeMessage(body);
    if (validateMessage(m) !== undefined || req.method !== "POST") invalid++;
    const uuid = formatUuid(m.uuid);
    const entry = byUuid.get(uuid) ?? {};
    byUuid.set(uuid, entry);
    if (++requests <= 4) {
      entry.first503 = Date.now();
      return Response.json({ status: "error", message: "busy" }, {
        status: 503,
        headers: { "retry-after": "1" },
      });
    }
    entry.okAt = Date.now();
    return Response.json({ status: "ok", uuid });
  });
  try {
    const r = await ProgramProcess.run(GENERATOR, {
      GEN_TARGET: `http://127.0.0.1:${server.addr.port}/`,
      GEN_RATE: "0",
      GEN_COUNT: "200",
      GEN_CONNECTIONS: "4",
      GEN_SIZE: "700",
    });
    assert.equal(r.code, 0, r.stderr);
    const done = doneLine(r.stderr);
    assert.equal(done.sent, "200");
    assert.equal(done.retried, "4");
    assert.equal(done.failed, "0");
    assert.deepEqual(JSON.parse(JSON.parse(done.statuses)), { "200": 200, "503": 4 });
    assert.equal(invalid, 0);
    assert.equal(byUuid.size, 200);
    for (const e of byUuid.values()) {
      assert.ok(e.okAt !== undefined, "every message was eventually accepted");
      if (e.first503 !== undefined) {
        assert.ok(e.okAt - e.first503 >= 950, "retried after Retry-After");
      }
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("rate and duration are honoured; SIGTERM stops cleanly with a summary", async () => {
  const server = heka();
  try {
    const timed = await ProgramProcess.run(GENERATOR, {
      GEN_TARGET: `tcp://127.0.0.1:${server.port}`,
      GEN_RATE: "300",
      GEN_DURATION: "1s",
      GEN_SIZE: "400",
    });
    assert.equal(timed.code, 0, timed.stderr);
    const sent = Number(doneLine(timed.stderr).sent);
    assert.ok(sent >= 250 && sent <= 345, `about 300 messages in 1 s at 300/s, got ${sent}`);

    const proc = ProgramProcess.start(GENERATOR, {
      GEN_TARGET: `tcp://127.0.0.1:${server.port}`,
      GEN_RATE: "200",
    });
    await proc.waitFor(/msg=progress sent=\d+ rate=\d+/, 10_000);
    await proc.waitFor(/msg=progress[^\n]*\n[^\n]*msg=progress sent=\d+ rate=\d+/, 10_000);
    const status = await proc.stop("SIGTERM");
    assert.equal(status.code, 0, proc.stderr);
    const rates = [...proc.stderr.matchAll(/msg=progress sent=\d+ rate=(\d+) errors=0/g)].map((m) =>
      Number(m[1])
    );
    assert.ok(rates.length >= 2);
    assert.ok(rates.slice(1).every((r) => r >= 150 && r <= 250), `rates ${rates}`);
    assert.match(proc.stderr, /msg="shutting down" signal=SIGTERM/);
    const total = Number(doneLine(proc.stderr).sent);
    const deadline = Date.now() + 5000;
    while (server.got.frames < sent + total && Date.now() < deadline) {
      await sleep(20);
    }
    assert.equal(server.got.frames, sent + total, "everything counted as sent arrived");
  } finally {
    await server.close();
  }
});
