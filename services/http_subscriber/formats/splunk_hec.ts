/**
 * `SUB_FORMAT=splunk-hec`: the Splunk HTTP Event Collector
 * (`POST /services/collector/event`). Events are JSON objects sent one after
 * another in one body ("batched events" in Splunk's docs, here separated
 * by newlines):
 *
 * ```
 * {"time":1700000000.123456789,"host":"web-7","sourcetype":"nginx.access","event":{"Uuid":…}}
 * ```
 *
 * `time` is the message Timestamp in seconds with its fraction, `host` the
 * Hostname and `sourcetype` the Type (each left out when empty), `event`
 * the NDJSON object. Splunk wants `Authorization: Splunk <token>`
 * (`SUB_SPLUNK_TOKEN`).
 *
 * @module
 */
import { JsonLineWriter } from "../../heka/json.ts";
import type { JsonEncoderOptions } from "../../heka/json_options.ts";
import {
  ByteSink,
  ConcatenatingBuilder,
  type InPlaceRecordEncoder,
  type OutputFormat,
} from "./format.ts";

/** Encodes messages as HEC events. */
export class SplunkHecEncoder implements InPlaceRecordEncoder {
  readonly #writer: JsonLineWriter;
  readonly #out = new ByteSink();

  constructor(json: JsonEncoderOptions) {
    this.#writer = new JsonLineWriter(json);
  }

  encode(messageBytes: Uint8Array): Uint8Array {
    const line = this.#writer.encode(messageBytes);
    const out = this.#head();
    out.bytes(line);
    out.byte(0x7d);
    return out.view();
  }

  maxRecordBytes(messageLength: number): number {
    // The line, and the head's host and type (escaped parts of the same message).
    return 2 * JsonLineWriter.maxLineBytes(messageLength) + 256;
  }

  encodeInto(messageBytes: Uint8Array, out: Uint8Array, outView: DataView, at: number): number {
    const w = this.#writer;
    w.prepare(messageBytes);
    const head = this.#head().view();
    out.set(head, at);
    let o = w.writePrepared(out, outView, at + head.length);
    out[o++] = 0x7d;
    return o;
  }

  /** `{"time":…,"host":…,"sourcetype":…,"event":` of the message the writer last saw, in #out. */
  #head(): ByteSink {
    const w = this.#writer;
    const out = this.#out;
    out.length = 0;
    out.reserve(256);
    out.ascii('{"time":');
    const ts = w.timestampParts();
    const seconds = ts.seconds;
    let nanos = ts.nanos;
    if (seconds < 0) {
      out.ascii(String(seconds + nanos / 1e9));
    } else {
      out.ascii(String(seconds));
      if (nanos !== 0) {
        // ".123456789" without trailing zeros, digit by digit (no strings).
        out.reserve(10);
        const buf = out.buf;
        const at = out.length;
        buf[at] = 0x2e;
        let end = at + 10;
        for (let p = end - 1; p > at; p--) {
          const q = Math.floor(nanos / 10);
          buf[p] = 0x30 + nanos - q * 10;
          nanos = q;
        }
        while (buf[end - 1] === 0x30) end--;
        out.length = end;
      }
    }
    const host = w.valueOf("Hostname");
    if (host.length > 2) {
      out.ascii(',"host":');
      out.bytes(host);
    }
    const type = w.valueOf("Type");
    if (type.length > 2) {
      out.ascii(',"sourcetype":');
      out.bytes(type);
    }
    out.ascii(',"event":');
    return out;
  }
}

/** The Splunk HEC format. */
export function splunkHecFormat(json: JsonEncoderOptions): OutputFormat {
  return {
    name: "splunk-hec",
    encoder: new SplunkHecEncoder(json),
    request: new ConcatenatingBuilder("application/json"),
  };
}
