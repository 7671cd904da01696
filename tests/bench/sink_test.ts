// The bench sink counts Loki push values as the bytes pass, without parsing
// the JSON: checked against JSON.parse on bodies the subscriber's own Loki
// format builds, cut at every byte.
import assert from "node:assert/strict";
import { encodeMessage } from "../../services/heka/codec.ts";
import { newMessage } from "../../services/heka/message.ts";
import { createFormat } from "../../services/http_subscriber/formats/mod.ts";
import { countLokiValues } from "../../tools/bench/sink.ts";

const decoder = new TextDecoder();

/** A Loki push body of `n` messages whose payloads and labels hold brackets and quotes. */
function lokiBody(n: number): Uint8Array {
  const f = createFormat({
    name: "loki",
    json: {},
    esIndex: "logs-%Y.%m.%d",
    lokiLabels: ["Type", "Logger", "Hostname"],
  });
  const parts: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = newMessage();
    m.uuid = crypto.getRandomValues(new Uint8Array(16));
    m.timestamp = 1_700_000_000_000_000_000n + BigInt(i);
    m.type = i % 2 ? 'type["x"]' : "nginx";
    m.logger = '["';
    m.hostname = `host-${i % 3}`;
    m.payload = `["quoted", [1,2], "[\\"nested\\"]" ${i}]\n{"a":["b"]}`;
    parts.push(...f.encoder.encode(encodeMessage(m)), 10);
  }
  return f.request.build(new Uint8Array(parts));
}

function parsedValues(body: Uint8Array): number {
  const push = JSON.parse(decoder.decode(body)) as { streams: { values: unknown[] }[] };
  return push.streams.reduce((n, s) => n + s.values.length, 0);
}

Deno.test("bench sink: Loki values counted as JSON.parse counts them, across any cut", () => {
  for (const n of [1, 2, 7, 40]) {
    const body = lokiBody(n);
    assert.equal(parsedValues(body), n);
    assert.equal(countLokiValues(body, 0), n);
    for (let cut = 1; cut < body.length; cut += n > 7 ? 13 : 1) {
      const a = body.subarray(0, cut);
      const b = body.subarray(cut);
      assert.equal(countLokiValues(a, 0) + countLokiValues(b, a[a.length - 1]), n, `cut at ${cut}`);
    }
  }
});
