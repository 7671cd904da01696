// HMAC signatures checked against independent implementations: Node's
// crypto in a separate `node` process, and WebCrypto. Headers and frames are
// built byte by byte here, not with the codec's encodeHeader.
import assert from "node:assert/strict";
import { decodeHeader, type HekaHeader, HmacHash } from "../../services/heka/codec.ts";
import { FrameSplitter, type HekaFrame } from "../../services/heka/framing.ts";
import {
  type HmacSigner,
  isAccepted,
  SignatureVerifier,
  signMessage,
  type VerifyResult,
} from "../../services/heka/hmac.ts";

const utf8 = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function unhex(text: string): Uint8Array {
  return new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A Header protobuf, hand-assembled: field 1 varint, 3 varint, 4 string, 5 varint, 6 bytes. */
function handHeader(
  messageLength: number,
  sig?: { hash: number; signer: string; version: number; digest: Uint8Array },
): Uint8Array {
  const b: number[] = [0x08, ...varint(messageLength)];
  if (sig) {
    const name = utf8.encode(sig.signer);
    b.push(0x18, ...varint(sig.hash));
    b.push(0x22, ...varint(name.length), ...name);
    b.push(0x28, ...varint(sig.version));
    b.push(0x32, ...varint(sig.digest.length), ...sig.digest);
  }
  return new Uint8Array(b);
}

/** 0x1E, header length, header, 0x1F, message — by hand. */
function handFrame(header: Uint8Array, message: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 + header.length + message.length);
  out[0] = 0x1e;
  out[1] = header.length;
  out.set(header, 2);
  out[2 + header.length] = 0x1f;
  out.set(message, 3 + header.length);
  return out;
}

interface NodeJob {
  hash: "md5" | "sha1";
  key: string;
  message: string; // hex
}

/** HMACs computed by a separate Node.js process (an independent implementation). */
async function nodeHmacs(jobs: NodeJob[]): Promise<Uint8Array[]> {
  const script = `
    const c = require("node:crypto");
    const jobs = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
    process.stdout.write(JSON.stringify(jobs.map((j) =>
      c.createHmac(j.hash, Buffer.from(j.key, "utf8")).update(Buffer.from(j.message, "hex")).digest("hex"))));
  `;
  const child = new Deno.Command("/usr/bin/node", {
    args: ["-e", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(utf8.encode(JSON.stringify(jobs)));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return (JSON.parse(new TextDecoder().decode(out.stdout)) as string[]).map(unhex);
}

async function webCryptoSha1(key: string, message: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    utf8.encode(key),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message as Uint8Array<ArrayBuffer>));
}

function split(bytes: Uint8Array): HekaFrame[] {
  const s = new FrameSplitter();
  s.push(bytes);
  const out: HekaFrame[] = [];
  for (let f = s.next(); f !== null; f = s.next()) out.push(f);
  assert.equal(s.stats.invalidHeaders, 0);
  return out;
}

function randomMessage(n: number): Uint8Array {
  const m = new Uint8Array(n);
  crypto.getRandomValues(m);
  return m;
}

const KEYS = { ops_1: "s3cr3t", ops_2: "rotated-key", "dev team_0": "ключ🔑", empty_7: "" };

Deno.test("HMAC MD5 and SHA1 digests from a separate node process verify", async () => {
  const cases = [
    { signer: "ops", version: 1, key: "s3cr3t" },
    { signer: "ops", version: 2, key: "rotated-key" },
    { signer: "dev team", version: 0, key: "ключ🔑" },
    { signer: "empty", version: 7, key: "" },
  ];
  const messages = [new Uint8Array(0), randomMessage(1), randomMessage(3000), randomMessage(65536)];
  const jobs: (NodeJob & { signer: string; version: number; msg: Uint8Array })[] = [];
  for (const c of cases) {
    for (const m of messages) {
      for (const hash of ["md5", "sha1"] as const) {
        jobs.push({ ...c, hash, message: hex(m), msg: m });
      }
    }
  }
  const digests = await nodeHmacs(jobs);
  const verifier = new SignatureVerifier({ signers: KEYS, requireSigned: true });
  const framedAll: Uint8Array[] = [];
  const expected: Uint8Array[] = [];
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i];
    assert.equal(digests[i].length, j.hash === "md5" ? 16 : 20);
    // Our signer computes the same digest.
    const signer: HmacSigner = { name: j.signer, version: j.version, key: j.key, hash: j.hash };
    assert.deepEqual(signMessage(j.msg, signer), digests[i]);
    const header = handHeader(j.msg.length, {
      hash: j.hash === "md5" ? 0 : 1,
      signer: j.signer,
      version: j.version,
      digest: digests[i],
    });
    const framed = handFrame(header, j.msg);
    framedAll.push(framed);
    expected.push(j.msg);
  }
  const stream = new Uint8Array(framedAll.reduce((n, f) => n + f.length, 0));
  framedAll.reduce((at, f) => (stream.set(f, at), at + f.length), 0);
  const frames = split(stream);
  assert.deepEqual(frames.map((f) => f.message), expected);
  for (const f of frames) {
    assert.equal(verifier.verify(f.header, f.message), "ok");
  }
});

Deno.test("HMAC SHA1 from WebCrypto verifies", async () => {
  const verifier = new SignatureVerifier({ signers: KEYS, requireSigned: false });
  for (const n of [0, 10, 3000]) {
    const m = randomMessage(n);
    const digest = await webCryptoSha1("s3cr3t", m);
    const header = handHeader(m.length, { hash: 1, signer: "ops", version: 1, digest });
    const [f] = split(handFrame(header, m));
    assert.equal(verifier.verify(f.header, f.message), "ok");
    assert.deepEqual(
      signMessage(m, { name: "ops", version: 1, key: "s3cr3t", hash: "sha1" }),
      digest,
    );
  }
});

Deno.test("a flipped bit in the message or in the digest fails", async () => {
  const verifier = new SignatureVerifier({ signers: KEYS, requireSigned: true });
  const m = randomMessage(200);
  for (const hash of [0, 1]) {
    const digest = hash === 1
      ? await webCryptoSha1("s3cr3t", m)
      : signMessage(m, { name: "ops", version: 1, key: "s3cr3t", hash: "md5" });
    const header = decodeHeader(handHeader(m.length, { hash, signer: "ops", version: 1, digest }));
    assert.equal(verifier.verify(header, m), "ok");
    for (const bit of [0, 7, 100 * 8 + 3, 199 * 8 + 7]) {
      const bad = m.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      assert.equal(verifier.verify(header, bad), "bad-digest", `message bit ${bit}`);
    }
    for (let bit = 0; bit < digest.length * 8; bit += 13) {
      const bad = digest.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      assert.equal(verifier.verify({ ...header, hmac: bad }, m), "bad-digest", `digest bit ${bit}`);
    }
    // Truncated, extended and empty digests.
    assert.equal(verifier.verify({ ...header, hmac: digest.subarray(1) }, m), "bad-digest");
    assert.equal(
      verifier.verify({ ...header, hmac: new Uint8Array([...digest, 0]) }, m),
      "bad-digest",
    );
    assert.equal(verifier.verify({ ...header, hmac: new Uint8Array(0) }, m), "bad-digest");
    // The other hash function with the same digest fails too.
    assert.equal(verifier.verify({ ...header, hmacHashFunction: hash ? 0 : 1 }, m), "bad-digest");
  }
});

Deno.test("unknown signer, unknown key version and wrong key fail", () => {
  const m = randomMessage(50);
  const digest = signMessage(m, { name: "ops", version: 1, key: "s3cr3t", hash: "sha1" });
  const header = (signer: string | undefined, version: number | undefined): HekaHeader => ({
    messageLength: m.length,
    hmacHashFunction: HmacHash.SHA1,
    hmacSigner: signer,
    hmacKeyVersion: version,
    hmac: digest,
  });
  const v = new SignatureVerifier({ signers: KEYS, requireSigned: false });
  assert.equal(v.verify(header("ops", 1), m), "ok");
  assert.equal(v.verify(header("ops", 3), m), "unknown-signer");
  assert.equal(v.verify(header("nobody", 1), m), "unknown-signer");
  assert.equal(v.verify(header(undefined, undefined), m), "unknown-signer");
  assert.equal(v.verify(header("ops", 2), m), "bad-digest"); // known signer, other key
  // Prototype keys are not signers.
  assert.equal(v.verify(header("constructor", undefined), m), "unknown-signer");
  assert.equal(v.verify(header("__proto__", undefined), m), "unknown-signer");
  // A signed message with no signers configured is rejected even when signing is optional.
  const none = new SignatureVerifier({ signers: {}, requireSigned: false });
  assert.equal(none.size, 0);
  assert.equal(none.verify(header("ops", 1), m), "unknown-signer");
});

Deno.test("absent key version means version 0, as in Heka", () => {
  const m = randomMessage(10);
  const signer: HmacSigner = { name: "dev team", version: 0, key: "ключ🔑", hash: "md5" };
  const v = new SignatureVerifier({ signers: KEYS, requireSigned: true });
  const digest = signMessage(m, signer);
  const h = decodeHeader(handHeader(m.length, { hash: 0, signer: "dev team", version: 0, digest }));
  assert.equal(v.verify({ ...h, hmacKeyVersion: undefined }, m), "ok");
});

Deno.test("unsigned messages pass unless signatures are required", () => {
  const m = randomMessage(10);
  const [f] = split(handFrame(handHeader(m.length), m));
  assert.equal(f.header.hmac, undefined);
  const optional = new SignatureVerifier({ signers: KEYS, requireSigned: false });
  const required = new SignatureVerifier({ signers: KEYS, requireSigned: true });
  assert.equal(optional.verify(f.header, f.message), "unsigned");
  assert.equal(required.verify(f.header, f.message), "unsigned-rejected");
  const results: VerifyResult[] = [
    "ok",
    "unsigned",
    "unsigned-rejected",
    "unknown-signer",
    "bad-digest",
    "unsupported-hash",
  ];
  assert.deepEqual(results.filter(isAccepted), ["ok", "unsigned"]);
});

Deno.test("an unknown hash function is unsupported", () => {
  const m = randomMessage(10);
  const digest = signMessage(m, { name: "ops", version: 1, key: "s3cr3t", hash: "sha1" });
  const h = decodeHeader(handHeader(m.length, { hash: 2, signer: "ops", version: 1, digest }));
  const v = new SignatureVerifier({ signers: KEYS, requireSigned: false });
  assert.equal(v.verify(h, m), "unsupported-hash");
});

Deno.test("signMessage: key as bytes equals key as UTF-8 string; cache follows key changes", () => {
  const m = randomMessage(100);
  const s1: HmacSigner = { name: "a", version: 1, key: "ключ", hash: "sha1" };
  const s2: HmacSigner = { ...s1, key: utf8.encode("ключ") };
  assert.deepEqual(signMessage(m, s1), signMessage(m, s2));
  const before = signMessage(m, s1);
  s1.key = "other";
  assert.notDeepEqual(signMessage(m, s1), before);
  assert.equal(signMessage(m, s1).constructor, Uint8Array);
});
