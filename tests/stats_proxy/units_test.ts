// The stats proxy's parts: history ring, metric catalog, origin rules,
// the per-client queue, config parsing.
import assert from "node:assert/strict";
import { parseEnv } from "../../services/config/mod.ts";
import {
  type ClientLimits,
  MetricCatalog,
  normalizeOrigin,
  originAllowed,
  proxySpec,
  Ring,
  WsClient,
} from "../../services/stats_proxy/mod.ts";

Deno.test("Ring keeps the newest items, oldest first", () => {
  const r = new Ring<number>(3);
  assert.deepEqual(r.toArray(), []);
  assert.equal(r.push(1), undefined);
  r.push(2);
  r.push(3);
  assert.equal(r.push(4), 1, "evicts the oldest");
  assert.deepEqual(r.toArray(), [2, 3, 4]);
  assert.equal(r.shift(), 2);
  assert.equal(r.peek(), 3);
  r.push(5);
  r.push(6);
  assert.deepEqual(r.toArray(), [4, 5, 6]);
  assert.equal(r.size, 3);
  r.clear();
  assert.equal(r.size, 0);
  assert.equal(r.shift(), undefined);
  const none = new Ring<number>(0);
  assert.equal(none.push(1), 1);
  assert.deepEqual(none.toArray(), []);
});

Deno.test("MetricCatalog answers {MetricType: {Sender: true}}, bounded", () => {
  const c = new MetricCatalog(3);
  c.add("Throughput", "tcp-receiver");
  c.add("Throughput", "http-receiver");
  c.add("Throughput", "tcp-receiver");
  c.add("Lag", "http-output");
  c.add("BatchCount", "http-output"); // over the bound: ignored
  assert.deepEqual(c.toJSON(), {
    Lag: { "http-output": true },
    Throughput: { "http-receiver": true, "tcp-receiver": true },
  });
  assert.deepEqual(Object.keys(c.toJSON().Throughput), ["http-receiver", "tcp-receiver"]);
});

function req(headers: Record<string, string>): Request {
  return new Request("http://127.0.0.1:9010/messages", { headers });
}

Deno.test("origins: own host and no Origin pass, others only when listed", () => {
  assert.equal(normalizeOrigin("https://ops.example.com/"), "https://ops.example.com");
  assert.equal(normalizeOrigin("http://a:8080"), "http://a:8080");
  assert.equal(normalizeOrigin("*"), "*");
  assert.equal(normalizeOrigin("https://a/path"), undefined);
  assert.equal(normalizeOrigin("ftp://a"), undefined);
  assert.equal(normalizeOrigin("nope"), undefined);

  const host = { host: "127.0.0.1:9010" };
  assert.ok(originAllowed(req(host), []));
  assert.ok(originAllowed(req({ ...host, origin: "http://127.0.0.1:9010" }), []));
  assert.ok(
    originAllowed(req({ host: "Mon.Example:9010", origin: "http://mon.example:9010" }), []),
  );
  assert.ok(!originAllowed(req({ ...host, origin: "http://127.0.0.1:9011" }), []));
  assert.ok(!originAllowed(req({ ...host, origin: "https://evil.example" }), []));
  assert.ok(!originAllowed(req({ ...host, origin: "null" }), []));
  assert.ok(originAllowed(req({ ...host, origin: "https://ops.example.com" }), [
    "https://ops.example.com",
  ]));
  assert.ok(originAllowed(req({ ...host, origin: "https://evil.example" }), ["*"]));
});

/** A WebSocket stand-in whose unsent bytes the test controls. */
class FakeSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  sent: string[] = [];
  closed: [number, string] | undefined;
  send(text: string): void {
    this.sent.push(text);
    this.bufferedAmount += text.length;
  }
  close(code: number, reason: string): void {
    this.closed = [code, reason];
    this.readyState = WebSocket.CLOSED;
  }
}

function client(limits: ClientLimits): { c: WsClient; s: FakeSocket } {
  const s = new FakeSocket();
  return { c: new WsClient(1, s as unknown as WebSocket, "test", limits), s };
}

Deno.test("WsClient sends while the socket drains, queues past the limit, drops the oldest", () => {
  const { c, s } = client({ maxBuffered: 10, maxQueue: 3 });
  assert.equal(c.send("aaaa"), false);
  assert.equal(c.send("bbbb"), false);
  assert.equal(c.send("cccc"), false); // 8 < 10 when sent: goes out
  assert.equal(s.bufferedAmount, 12);
  assert.equal(c.send("d"), true, "over the limit: queued");
  c.send("e");
  c.send("f");
  c.send("g"); // queue full: "d" dropped
  assert.equal(c.queued, 3);
  assert.equal(c.dropped, 1);
  assert.equal(c.flush(), true, "socket still full");
  s.bufferedAmount = 0; // the browser read everything
  assert.equal(c.flush(), false);
  assert.deepEqual(s.sent, ["aaaa", "bbbb", "cccc", "e", "f", "g"]);
  assert.equal(c.sent, 6);
  assert.deepEqual(c.info().dropped, 1);
  // order is kept: a new event waits behind queued ones
  s.bufferedAmount = 100;
  c.send("h");
  s.bufferedAmount = 0;
  assert.equal(c.send("i"), true, "queued behind h, not sent ahead of it");
  c.flush();
  assert.deepEqual(s.sent.slice(-2), ["h", "i"]);
  c.close();
  assert.deepEqual(s.closed, [1001, "stats proxy shutting down"]);
  assert.equal(c.send("j"), false);
});

Deno.test("proxy config: the original's defaults, and the new variables", () => {
  const d = parseEnv(proxySpec, {});
  assert.equal(d.httpPort, 9010);
  assert.deepEqual(d.natsUrl, ["nats://localhost:4222"]);
  assert.equal(d.subChannel, "stats-events");
  assert.equal(d.bindAddress, "0.0.0.0");
  assert.deepEqual(d.allowedOrigins, []);
  assert.equal(d.history, 500);
  const c = parseEnv(proxySpec, {
    PROXY_HTTP_PORT: "8080",
    PROXY_BIND_ADDRESS: "[::1]",
    PROXY_ALLOWED_ORIGINS: "https://ops.example.com/, http://10.0.0.5:9010",
    PROXY_SUB_CHANNEL: "stats.eu",
    PROXY_NATS_URL: "nats://a:4222,nats://b:4222",
  });
  assert.equal(c.httpPort, 8080);
  assert.equal(c.bindAddress, "::1");
  assert.deepEqual(c.allowedOrigins, ["https://ops.example.com", "http://10.0.0.5:9010"]);
  assert.equal(c.subChannel, "stats.eu");
  assert.deepEqual(c.natsUrl, ["nats://a:4222", "nats://b:4222"]);
  assert.throws(() => parseEnv(proxySpec, { PROXY_BIND_ADDRESS: "a b" }), /PROXY_BIND_ADDRESS/);
  assert.throws(() => parseEnv(proxySpec, { PROXY_HTTP_PORT: "70000" }), /PROXY_HTTP_PORT/);
});
