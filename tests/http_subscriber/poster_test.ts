import assert from "node:assert/strict";
import {
  type AttemptFailure,
  BatchPoster,
  type PosterOptions,
} from "../../services/http_subscriber/poster.ts";
import { backoffDelay } from "../../services/http_subscriber/retry_policy.ts";
import { parseRetryAfter } from "../../services/net/retry_after.ts";
import { stubFetch } from "../../services/http_subscriber/stub_sink.ts";
import { Logger } from "../../services/log/mod.ts";
import { freePort } from "../../testing/mod.ts";
import { Sink, sleep } from "./helpers.ts";

const enc = new TextEncoder();

function poster(url: string, o: Partial<PosterOptions> = {}, lines: string[] = []) {
  const failures: AttemptFailure[] = [];
  const p = new BatchPoster({
    url,
    concurrency: 4,
    timeoutMs: 2000,
    rejectAttempts: 3,
    retryMinMs: 20,
    retryMaxMs: 200,
    log: new Logger("test", "debug", {}, (l) => lines.push(l)),
    onAttemptFailed: (f) => failures.push(f),
    ...o,
  });
  return { p, failures };
}

Deno.test("poster retries 500 and 429 (honouring Retry-After) until a 2xx", async () => {
  const sink = Sink.start((r) => {
    if (r.n === 1) return new Response("boom", { status: 500 });
    if (r.n === 2) {
      return new Response("slow down", { status: 429, headers: { "retry-after": "1" } });
    }
    return new Response("ok");
  });
  const { p, failures } = poster(sink.url("/in"));
  try {
    const t0 = performance.now();
    const outcome = await p.submit(enc.encode('{"a":1}\n{"a":2}\n'));
    const took = performance.now() - t0;
    assert.deepEqual(outcome, { kind: "delivered", status: 200, attempts: 3 });
    assert.ok(took >= 1000, `Retry-After: 1 honoured (took ${took.toFixed(0)} ms)`);
    assert.deepEqual(failures.map((f) => [f.status, f.retryable]), [[500, true], [429, true]]);
    assert.equal(sink.requests.length, 3);
    assert.deepEqual(sink.accepted, ['{"a":1}', '{"a":2}']);
    const h = sink.requests[2].headers;
    assert.equal(h.get("content-type"), "application/json");
    assert.equal(sink.requests[2].method, "POST");
    assert.equal(sink.requests[2].path, "/in");
  } finally {
    p.close();
    await sink.close();
  }
});

Deno.test("poster rejects after rejectAttempts answers of another 4xx, with the reason", async () => {
  const sink = Sink.start(() => new Response("bad field Foo", { status: 400 }));
  const { p, failures } = poster(sink.url(), { rejectAttempts: 3 });
  try {
    const outcome = await p.submit(enc.encode("x\n"));
    assert.equal(outcome.kind, "rejected");
    if (outcome.kind !== "rejected") return;
    assert.equal(outcome.status, 400);
    assert.equal(outcome.attempts, 3);
    assert.match(outcome.reason, /HTTP 400: bad field Foo/);
    assert.equal(sink.requests.length, 3);
    assert.deepEqual(failures.map((f) => f.retryable), [false, false, false]);
    assert.equal(failures[2].delayMs, undefined);
  } finally {
    p.close();
    await sink.close();
  }
});

Deno.test("poster does not follow redirects (a POST must not turn into a GET)", async () => {
  const sink = Sink.start((r) =>
    r.path === "/moved" ? new Response("ok") : Response.redirect(sink.url("/moved"), 302)
  );
  const { p } = poster(sink.url("/old"), { rejectAttempts: 1 });
  try {
    const outcome = await p.submit(enc.encode("x\n"));
    assert.equal(outcome.kind, "rejected");
    assert.equal(sink.requests.length, 1);
    assert.equal(sink.accepted.length, 0);
  } finally {
    p.close();
    await sink.close();
  }
});

Deno.test("poster times out a slow attempt and retries it", async () => {
  const sink = Sink.start(async (r) => {
    if (r.n === 1) await sleep(800);
    return new Response("ok");
  });
  const { p, failures } = poster(sink.url(), { timeoutMs: 200 });
  try {
    const outcome = await p.submit(enc.encode("x\n"));
    assert.equal(outcome.kind, "delivered");
    assert.equal(outcome.attempts, 2);
    assert.equal(failures[0].status, 0);
    assert.match(failures[0].reason, /timeout after 200 ms/);
  } finally {
    p.close();
    await sink.close();
  }
});

Deno.test("poster gzips bodies with Content-Encoding: gzip", async () => {
  const sink = Sink.start();
  const { p } = poster(sink.url(), { gzip: true });
  try {
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ i, p: "y".repeat(100) }));
    const outcome = await p.submit(enc.encode(lines.join("\n") + "\n"));
    assert.equal(outcome.kind, "delivered");
    assert.equal(sink.requests[0].headers.get("content-encoding"), "gzip");
    assert.deepEqual(sink.accepted, lines);
  } finally {
    p.close();
    await sink.close();
  }
});

Deno.test("poster keeps exactly `concurrency` requests in flight", async () => {
  let inFlight = 0;
  let peak = 0;
  const sink = Sink.start(async () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await sleep(40);
    inFlight--;
    return new Response("ok");
  });
  const { p } = poster(sink.url(), { concurrency: 3 });
  try {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => p.submit(enc.encode(`${i}\n`))),
    );
    assert.ok(outcomes.every((o) => o.kind === "delivered"));
    assert.equal(peak, 3);
    assert.equal(sink.accepted.length, 20);
    await p.idle();
    assert.equal(p.active, 0);
  } finally {
    p.close();
    await sink.close();
  }
});

Deno.test("poster retries network errors without leaking the URL's secret, and aborts on close", async () => {
  const port = freePort(); // nothing listens here
  const lines: string[] = [];
  const url = `http://127.0.0.1:${port}/receiver/v1/http/SECRETTOKEN42?key=SECRETKEY`;
  const { p, failures } = poster(url, {}, lines);
  p.submit(enc.encode("x\n"));
  const pending = p.submit(enc.encode("y\n"));
  await sleep(300);
  p.abort("test over");
  const outcome = await pending;
  assert.equal(outcome.kind, "aborted");
  assert.ok(failures.length >= 2, "connection errors were retried");
  assert.ok(failures.every((f) => f.status === 0 && f.retryable));
  for (const f of failures) assert.ok(!f.reason.includes("SECRET"), f.reason);
  assert.ok(lines.length > 0);
  for (const l of lines) assert.ok(!l.includes("SECRET"), l);
  assert.ok(failures[0].reason.includes("receiver/***"), failures[0].reason);
  assert.match(p.scrub(`error sending request for url (${url})`), /receiver\/\*\*\*/);
  p.close();
  assert.equal((await p.submit(enc.encode("z\n"))).kind, "aborted");
});

Deno.test("stub remote answers 200 after 50-700 ms", async () => {
  const { p } = poster("http://stub.invalid/", { fetch: stubFetch(), concurrency: 10 });
  try {
    const t0 = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => p.submit(enc.encode("x\n"))),
    );
    const took = performance.now() - t0;
    assert.ok(outcomes.every((o) => o.kind === "delivered"));
    assert.ok(took >= 50 && took < 1000, `took ${took.toFixed(0)} ms`);
  } finally {
    p.close();
  }
});

Deno.test("Retry-After parsing and backoff bounds", () => {
  const now = Date.parse("2024-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("3", now), 3000);
  assert.equal(parseRetryAfter("Mon, 01 Jan 2024 00:00:05 GMT", now), 5000);
  assert.equal(parseRetryAfter("Sun, 31 Dec 2023 00:00:05 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(backoffDelay(1, 100, 10_000, () => 0), 50);
  assert.equal(backoffDelay(1, 100, 10_000, () => 1), 100);
  assert.equal(backoffDelay(4, 100, 10_000, () => 1), 800);
  assert.equal(backoffDelay(40, 100, 10_000, () => 1), 10_000);
  assert.equal(backoffDelay(40, 100, 10_000, () => 0), 5_000);
});

/** A request builder that copies the records into fresh bodies and spoils each body given back. */
class SpoilingBuilder {
  readonly contentType = "application/x-ndjson";
  readonly linesPerRecord = 1;
  readonly built: Uint8Array[] = [];
  readonly released: Uint8Array[] = [];
  build(records: Uint8Array): Uint8Array {
    const body = records.slice();
    this.built.push(body);
    return body;
  }
  release(body: Uint8Array): void {
    this.released.push(body);
    body.fill(0x58); // "X": a body sent after this is visibly wrong
  }
}

Deno.test("a body goes back to its builder only after its last attempt was written, never before a retry", async () => {
  const sink = Sink.start((r) =>
    r.n <= 2 ? new Response("busy", { status: 503 }) : new Response("ok")
  );
  const request = new SpoilingBuilder();
  const { p } = poster(sink.url("/in"), { request, retryMinMs: 5, retryMaxMs: 20 });
  try {
    const records = enc.encode('{"a":1}\n{"a":2}\n');
    const outcome = await p.submit(records);
    assert.deepEqual(outcome, { kind: "delivered", status: 200, attempts: 3 });
    assert.deepEqual(sink.requests.map((r) => r.body), Array(3).fill('{"a":1}\n{"a":2}\n'));
    assert.equal(request.built.length, 1);
    assert.deepEqual(request.released, request.built, "given back once, after the job");
    const second = await p.submit(enc.encode('{"b":1}\n'));
    assert.equal(second.kind, "delivered");
    assert.equal(sink.requests.at(-1)!.body, '{"b":1}\n');
    assert.equal(request.released.length, 2);
  } finally {
    p.close();
    await sink.close();
  }
});

Deno.test("a body whose write was cut short is not given back (it may still be read)", async () => {
  // A server that never answers: the attempt times out and is destroyed mid-request.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const c of listener) held.push(c); // accepted, never read
  })().catch(() => {});
  const request = new SpoilingBuilder();
  const { p } = poster(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`, {
    request,
    timeoutMs: 300,
    rejectAttempts: 1,
  });
  try {
    // Larger than the socket buffers: its write cannot finish while nobody reads.
    const outcome = p.submit(new Uint8Array(32 << 20).fill(0x31));
    await sleep(1200);
    p.abort("test over");
    assert.equal((await outcome).kind, "aborted");
    assert.equal(request.built.length, 1);
    assert.equal(request.released.length, 0, "a body still being written was given back");
  } finally {
    p.close();
    listener.close();
    for (const c of held) c.close();
  }
});
