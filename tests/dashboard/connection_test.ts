// The dashboard's WebSocket client, with a scripted socket (no browser).
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import {
  backoffDelay,
  type ConnectionState,
  DEFAULT_BACKOFF,
  messagesUrl,
  parseEvent,
  type SocketLike,
  StatsConnection,
} from "../../dashboard/connection.ts";
import type { MetricEvent } from "../../services/metrics/event.ts";

class ScriptedSocket implements SocketLike {
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  closedWith: number | undefined;
  constructor(readonly url: string) {}
  open(): void {
    this.onopen?.(new Event("open"));
  }
  message(data: string): void {
    this.onmessage?.(new MessageEvent("message", { data }));
  }
  drop(): void {
    this.onerror?.(new Event("error"));
    this.onclose?.(new CloseEvent("close", { code: 1006 }));
  }
  close(code?: number): void {
    this.closedWith = code;
    this.onclose?.(new CloseEvent("close", { code }));
  }
}

const EVENT: MetricEvent = {
  Timestamp: 1_780_000_000,
  Value: 12.5,
  Sender: "http-output",
  SourceIP: "relay-1",
  MetricType: "Lag",
  Aggregate: "Average",
  Threshold: { Warn: 30, Error: 60 },
};

Deno.test("parseEvent accepts MetricEvents and nothing else", () => {
  assert.deepEqual(parseEvent(JSON.stringify(EVENT)), EVENT);
  const { Threshold: _t, ...plain } = EVENT;
  assert.deepEqual(parseEvent(JSON.stringify(plain)), plain);
  for (
    const bad of [
      "nope",
      "null",
      "[]",
      JSON.stringify({ ...EVENT, Value: "1" }),
      JSON.stringify({ ...EVENT, Aggregate: "Max" }),
      JSON.stringify({ ...EVENT, Sender: "" }),
      JSON.stringify({ ...EVENT, Threshold: { Warn: 1 } }),
    ]
  ) assert.equal(parseEvent(bad), undefined, bad);
  assert.equal(parseEvent(new ArrayBuffer(3)), undefined);
});

Deno.test("backoff doubles from 0.5 s up to 10 s, with ±20 % jitter", () => {
  const mid = () => 0.5;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, DEFAULT_BACKOFF, mid)),
    [500, 1000, 2000, 4000, 8000, 10_000, 10_000],
  );
  assert.equal(backoffDelay(1, DEFAULT_BACKOFF, () => 0), 400);
  assert.equal(backoffDelay(1, DEFAULT_BACKOFF, () => 1), 600);
});

Deno.test("messagesUrl follows the page's scheme and host", () => {
  assert.equal(messagesUrl({ protocol: "http:", host: "mon:9010" }), "ws://mon:9010/messages");
  assert.equal(messagesUrl({ protocol: "https:", host: "mon" }), "wss://mon/messages");
});

Deno.test("connects, delivers events, reconnects with backoff after a drop, stops", async () => {
  const sockets: ScriptedSocket[] = [];
  const states: ConnectionState[] = [];
  const events: MetricEvent[] = [];
  let sessions = 0;
  const conn = new StatsConnection({
    url: "ws://x/messages",
    onEvent: (e) => events.push(e),
    onOpen: () => sessions++,
    onState: (s) => states.push(s),
    backoff: { initialMs: 10, maxMs: 40, factor: 2, jitter: 0 },
    createSocket: (url) => {
      const s = new ScriptedSocket(url);
      sockets.push(s);
      return s;
    },
  });
  conn.start();
  assert.equal(conn.state.status, "connecting");
  sockets[0].open();
  assert.equal(conn.state.status, "connected");
  assert.equal(sessions, 1);
  sockets[0].message(JSON.stringify(EVENT));
  sockets[0].message("garbage");
  assert.equal(events.length, 1);
  assert.equal(conn.invalid, 1);
  assert.equal(conn.state.events, 1);

  sockets[0].drop();
  assert.equal(conn.state.status, "reconnecting");
  assert.equal(conn.state.attempt, 1);
  await sleep(30);
  assert.equal(sockets.length, 2, "retried after the backoff");
  sockets[1].drop(); // still down
  assert.equal(conn.state.attempt, 2);
  assert.ok(conn.state.retryAt! - Date.now() <= 20);
  conn.retryNow();
  assert.equal(sockets.length, 3, "retry now skips the wait");
  sockets[2].open();
  assert.equal(conn.state.status, "connected");
  assert.equal(conn.state.attempt, 0);
  assert.equal(sessions, 2, "each connection starts a session (history is replayed)");
  assert.deepEqual(
    states.map((s) => s.status),
    ["connected", "reconnecting", "reconnecting", "connected"],
  );

  conn.stop();
  assert.equal(conn.state.status, "stopped");
  assert.equal(sockets[2].closedWith, 1000);
  await sleep(60);
  assert.equal(sockets.length, 3, "no reconnect after stop");
});
