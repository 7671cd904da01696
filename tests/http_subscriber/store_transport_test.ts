/**
 * The store transports (node:http for plain http:// URLs without a proxy,
 * fetch otherwise) against a real local sink: which one a URL gets, and
 * that both put the same request on the wire and read answers alike.
 */
import assert from "node:assert/strict";
import { PostClient } from "../../services/http_subscriber/post_client.ts";
import { storeTransport } from "../../services/http_subscriber/store_transport.ts";
import { Sink, sleep } from "./helpers.ts";

Deno.test("storeTransport: node:http for plain http:// URLs, fetch for https:// and behind a proxy", () => {
  const kind = (url: string) => {
    const t = storeTransport(url, 2);
    t.close();
    return t.kind;
  };
  const saved = Deno.env.get("HTTPS_PROXY");
  try {
    Deno.env.delete("HTTPS_PROXY");
    assert.equal(kind("http://127.0.0.1:9/in"), "node-http");
    assert.equal(kind("https://logs.example.com/in"), "fetch");
    Deno.env.set("HTTPS_PROXY", "http://proxy.example.com:3128");
    assert.equal(kind("http://127.0.0.1:9/in"), "fetch", "fetch honours the proxy variables");
  } finally {
    if (saved === undefined) Deno.env.delete("HTTPS_PROXY");
    else Deno.env.set("HTTPS_PROXY", saved);
  }
  const stub = storeTransport("http://127.0.0.1:9/in", 2, () => Promise.reject(new Error("x")));
  assert.equal(stub.kind, "fetch", "a given fetch forces the fetch transport");
});

for (const via of ["node-http", "fetch"] as const) {
  Deno.test(`${via} transport: exact bytes with Content-Length, statuses, Retry-After, answer text`, async () => {
    const sink = Sink.start((r) => {
      if (r.path === "/busy") {
        return new Response("slow down", { status: 429, headers: { "retry-after": "3" } });
      }
      return new Response(`got ${r.bytes.length}`);
    });
    const client = (path: string) =>
      new PostClient({
        url: sink.url(path),
        concurrency: 2,
        timeoutMs: 2000,
        headers: { authorization: "Bearer SECRET-TOKEN" },
        ...(via === "fetch" ? { fetch } : {}),
      }, new AbortController().signal);
    const ok = client("/in");
    const busy = client("/busy");
    try {
      assert.equal(ok.transport, via);
      const body = new Uint8Array(3 << 20).map((_, i) => (i * 31) % 256);
      for (let i = 0; i < 3; i++) {
        const r = await ok.attempt(body, true);
        assert.deepEqual(r, { ok: true, status: 200, text: `got ${body.length}` });
      }
      const req = sink.requests[0];
      assert.deepEqual(req.bytes, body);
      assert.equal(req.headers.get("content-length"), String(body.length));
      assert.equal(req.headers.get("transfer-encoding"), null);
      assert.equal(req.headers.get("authorization"), "Bearer SECRET-TOKEN");
      const refused = await busy.attempt(new Uint8Array([1]));
      assert.equal(refused.ok, false);
      if (!refused.ok) {
        assert.equal(refused.status, 429);
        assert.equal(refused.retryAfterMs, 3000);
        assert.equal(refused.retryable, true);
        assert.match(refused.reason, /HTTP 429: slow down/);
      }
    } finally {
      ok.close();
      busy.close();
      await sink.close();
    }
  });

  Deno.test(`${via} transport: a slow answer times out; shutdown aborts an attempt`, async () => {
    const sink = Sink.start(async () => {
      await sleep(1500);
      return new Response("late");
    });
    const shutdown = new AbortController();
    const c = new PostClient({
      url: sink.url("/in"),
      concurrency: 2,
      timeoutMs: 200,
      ...(via === "fetch" ? { fetch } : {}),
    }, shutdown.signal);
    try {
      const t0 = performance.now();
      const r = await c.attempt(new Uint8Array(10));
      assert.ok(performance.now() - t0 < 1000);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, /timeout after 200 ms/);
      const pending = c.attempt(new Uint8Array(10));
      await sleep(50);
      shutdown.abort(new Error("subscriber stopping"));
      const aborted = await pending;
      assert.equal(aborted.ok, false);
      if (!aborted.ok) assert.equal(aborted.status, 0);
    } finally {
      c.close();
      await sleep(1600); // let the sink's slow answers finish before it closes
      await sink.close();
    }
  });
}
