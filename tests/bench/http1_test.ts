/**
 * The bench's lean HTTP parts over real sockets: the line-counting sink
 * server (Content-Length and chunked bodies, keep-alive, line starts) and
 * the raw batch client (statuses, answers read, connection reused).
 */
import assert from "node:assert/strict";
import { serveLineCounting } from "../../tools/bench/line_counting_server.ts";
import { RawHttpConnection } from "../../tools/bench/raw_http_client.ts";

const enc = new TextEncoder();

Deno.test("line-counting server: lines of Content-Length and chunked bodies, line starts, keep-alive", async () => {
  const seen: number[] = [];
  const starts: string[] = [];
  const server = serveLineCounting(0, (r) => {
    if (r.method === "GET") {
      return { status: 200, body: '{"ok":true}', contentType: "application/json" };
    }
    seen.push(r.lines);
    return { status: r.path === "/refuse" ? 503 : 200 };
  }, {
    head: 3,
    onLine: (buf, start) => starts.push(new TextDecoder().decode(buf.subarray(start, start + 3))),
  });
  const url = `http://127.0.0.1:${server.port}`;
  try {
    // Content-Length, a last line without its newline.
    let r = await fetch(`${url}/in`, { method: "POST", body: "aaa1\nbbb2\nccc3" });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    // Chunked, lines split across chunks.
    const pieces = ["ddd4\nee", "e5\nfff6\n", "", "ggg7\n"];
    r = await fetch(`${url}/in`, {
      method: "POST",
      body: new ReadableStream({
        start(c) {
          for (const p of pieces) if (p) c.enqueue(enc.encode(p));
          c.close();
        },
      }),
    });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    // Many bodies over one kept-alive connection, and another status.
    const conn = await RawHttpConnection.open(new URL(`${url}/in`), { "x-test": "1" });
    const big = enc.encode("hhh\n".repeat(300_000)); // larger than the server's read buffer
    assert.equal(await conn.post(big), 200);
    assert.equal(await conn.post(enc.encode("iii\n")), 200);
    conn.close();
    const refused = await RawHttpConnection.open(new URL(`${url}/refuse`), {});
    assert.equal(await refused.post(enc.encode("x\n")), 503);
    refused.close();
    const stats = await fetch(`${url}/stats`);
    assert.deepEqual(await stats.json(), { ok: true });
    assert.deepEqual(seen, [3, 4, 300_000, 1, 1]);
    // "eee" starts in one chunk and may end in the next (then it is skipped), if fetch sent them apart.
    assert.deepEqual(starts.filter((s) => s !== "eee").slice(0, 6), [
      "aaa",
      "bbb",
      "ccc",
      "ddd",
      "fff",
      "ggg",
    ]);
    assert.ok(starts.filter((s) => s === "hhh").length > 290_000, "nearly every line start seen");
  } finally {
    server.close();
  }
});

Deno.test("raw HTTP client: statuses, answer bodies read, one connection for many POSTs", async () => {
  const peers = new Set<string>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req, info) => {
      peers.add(`${info.remoteAddr.hostname}:${info.remoteAddr.port}`);
      const body = await req.bytes();
      if (req.headers.get("content-type") !== "application/x-test") {
        return new Response("wrong type", { status: 415 });
      }
      return new Response(`{"stored":${body.length}}`, { status: body.length > 10 ? 200 : 400 });
    },
  );
  try {
    const url = new URL(`http://127.0.0.1:${server.addr.port}/`);
    const conn = await RawHttpConnection.open(url, { "content-type": "application/x-test" });
    for (let i = 0; i < 20; i++) assert.equal(await conn.post(new Uint8Array(1000 + i)), 200);
    assert.equal(await conn.post(new Uint8Array(3)), 400);
    assert.equal(await conn.post(new Uint8Array(300_000)), 200);
    conn.close();
    assert.equal(peers.size, 1, "kept alive: one connection");
    const wrong = await RawHttpConnection.open(url, {});
    assert.equal(await wrong.post(new Uint8Array(20)), 415);
    wrong.close();
  } finally {
    await server.shutdown();
  }
});
