/**
 * Issue #7: HTTP bodies over the limit are refused without being read
 * whole; slow bodies time out; the receiver keeps serving others.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { NatsServer } from "../../testing/mod.ts";
import { makeMessage } from "../helpers/messages.ts";
import { postMessage, startHttpReceiver } from "../helpers/receivers.ts";

async function rawRequest(port: number, head: string, body: Uint8Array[], pauseMs = 0) {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  const enc = new TextEncoder();
  let sent = 0;
  try {
    await c.write(enc.encode(head));
    for (const part of body) {
      await c.write(part);
      sent += part.length;
      if (pauseMs) await sleep(pauseMs);
    }
  } catch {
    // the server closed the connection: that is fine here
  }
  const buf = new Uint8Array(4096);
  const n = await c.read(buf).catch(() => null);
  c.close();
  return { response: n ? new TextDecoder().decode(buf.subarray(0, n)) : "", sent };
}

Deno.test("HTTP: declared or streamed bodies over the limit get 413, slow bodies 408", async () => {
  const nats = await NatsServer.start();
  const http = await startHttpReceiver(nats, {
    RCVR_MAX_MESSAGE_SIZE: "65536",
    RCVR_BODY_TIMEOUT: "1s",
  });
  try {
    // A declared 1 GB body: refused from the header, before any body byte is read.
    const t0 = performance.now();
    const declared = await rawRequest(
      http.port,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n",
      [],
    );
    assert.match(declared.response, /^HTTP\/1\.1 413/);
    assert.ok(performance.now() - t0 < 2000);

    // A chunked body that never ends: cut off once past the limit.
    const abort = new AbortController();
    const streamed = await fetch(`http://127.0.0.1:${http.port}/`, {
      method: "POST",
      signal: abort.signal,
      body: new ReadableStream({
        pull(ctrl) {
          ctrl.enqueue(new Uint8Array(16384).fill(0x41));
        },
      }),
    });
    assert.equal(streamed.status, 413);
    assert.equal((await streamed.json()).status, "error");
    abort.abort();

    // A slow body: 408 after RCVR_BODY_TIMEOUT.
    const msg = makeMessage(1).bytes;
    const slow = rawRequest(
      http.port,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${msg.length}\r\n\r\n`,
      Array.from({ length: 10 }, (_, i) => msg.subarray(i, i + 1)),
      250,
    );
    // Meanwhile others are served normally.
    const ok = await postMessage(http.port, makeMessage(2).bytes);
    assert.equal(ok.status, 200);
    const slowResult = await slow;
    assert.match(slowResult.response, /^HTTP\/1\.1 408/);

    // A client that declares a body and hangs up halfway: nothing stored, nothing breaks.
    const cut = await Deno.connect({ hostname: "127.0.0.1", port: http.port });
    await cut.write(
      new TextEncoder().encode(
        `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${msg.length}\r\n\r\n`,
      ),
    );
    await cut.write(msg.subarray(0, 10));
    cut.close();
    const after = await postMessage(http.port, makeMessage(3).bytes);
    assert.equal(after.status, 200);
    assert.equal(http.proc.exited, undefined);
  } finally {
    await http.proc.stop();
    await nats.dispose();
  }
});
