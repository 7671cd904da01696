/**
 * Micro benchmarks of the hot paths, in a fresh process: the frame
 * splitter over a large framed buffer (fed in socket-sized chunks), the
 * message matcher on a typical spec, and the subscriber's JSON line writer
 * (protobuf bytes in, JSON bytes out: all the per-message work between
 * JetStream and the batch body), and the receivers' validating scan
 * (`scanMessage`, run on every accepted message when no matcher is set).
 *
 * `deno run -A tools/bench/micro.ts [--mb 64] [--seconds 1]`
 *
 * Prints `{"event":"done","splitter_mb_s":…,"splitter_frames_s":…,
 * "matcher_evals_s":…,"json_lines_s":…,"json_mb_s":…,"scan_messages_s":…}`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { decodeMessage, encodeMessage, scanMessage } from "../../services/heka/codec.ts";
import { FrameSplitter } from "../../services/heka/framing.ts";
import { JsonLineWriter } from "../../services/heka/json.ts";
import type { HekaMessage } from "../../services/heka/message.ts";
import { compileMatcher } from "../../services/heka/matcher/mod.ts";
import { buildMessages, buildTemplates } from "../../services/log_generator/payloads.ts";
import { MessageStamper } from "../../services/log_generator/stamp.ts";
import { MESSAGE_SIZE } from "./frames.ts";

/** The matcher spec measured: a typical alerting filter. */
export const MATCHER_SPEC = 'Type == "nginx.access" && Severity <= 4 && Fields[status] >= 500';

/** Runs `fn` (which does `batch` operations) repeatedly for about `ms`; returns operations per second. */
function perSecond(ms: number, batch: number, fn: () => void): number {
  fn(); // warm up
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    ops += batch;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

/** Splitter throughput over `mb` MB of 3 KB records pushed in 64 KiB chunks; best of three. */
export function benchSplitter(mb: number): { mbPerSecond: number; framesPerSecond: number } {
  const stamper = new MessageStamper(
    buildTemplates({ size: MESSAGE_SIZE, hostname: "bench-host", variants: 64 }),
  );
  const frames = Math.ceil((mb * 1e6) / stamper.maxFrameSize);
  const data = new Uint8Array(frames * stamper.maxFrameSize);
  let end = 0;
  for (let i = 0; i < frames; i++) end = stamper.writeFrame(data, end);
  const chunk = 65536;
  let best = Infinity;
  let count = 0;
  for (let round = 0; round < 3; round++) {
    const splitter = new FrameSplitter();
    const start = performance.now();
    count = 0;
    for (let at = 0; at < end; at += chunk) {
      splitter.push(data.subarray(at, Math.min(end, at + chunk)));
      for (let f = splitter.next(); f !== null; f = splitter.next()) count++;
    }
    best = Math.min(best, performance.now() - start);
  }
  if (count !== frames) throw new Error(`splitter found ${count} of ${frames} frames`);
  return { mbPerSecond: end / 1e6 / (best / 1000), framesPerSecond: frames / (best / 1000) };
}

/** A mix of message kinds as receivers and the subscriber see them: decoded from their bytes. */
function sampleMessages(): HekaMessage[] {
  return buildMessages({ size: MESSAGE_SIZE, hostname: "bench-host", variants: 96 })
    .map((m) => decodeMessage(encodeMessage(m)));
}

/** Matcher evaluations per second over a mix of message kinds. */
export function benchMatcher(ms: number): { evalsPerSecond: number; matched: number } {
  const msgs = sampleMessages();
  const matcher = compileMatcher(MATCHER_SPEC);
  let matched = 0;
  const evals = perSecond(ms, msgs.length, () => {
    for (let i = 0; i < msgs.length; i++) if (matcher.matches(msgs[i])) matched++;
  });
  return { evalsPerSecond: evals, matched };
}

/** JSON lines (and MB of output) per second, written straight from the messages' bytes. */
export function benchJson(ms: number): { linesPerSecond: number; mbPerSecond: number } {
  const msgs = sampleMessages().map((m) => new Uint8Array(encodeMessage(m)));
  const writer = new JsonLineWriter();
  let bytes = 0;
  for (const m of msgs) bytes += writer.encode(m).length;
  const lines = perSecond(ms, msgs.length, () => {
    for (let i = 0; i < msgs.length; i++) writer.encode(msgs[i]);
  });
  return { linesPerSecond: lines, mbPerSecond: (lines * (bytes / msgs.length)) / 1e6 };
}

/** Messages per second through the receivers' validating scan (`scanMessage`). */
export function benchScan(ms: number): { messagesPerSecond: number } {
  const msgs = sampleMessages().map((m) => new Uint8Array(encodeMessage(m)));
  let valid = 0;
  const perS = perSecond(ms, msgs.length, () => {
    for (let i = 0; i < msgs.length; i++) if (typeof scanMessage(msgs[i]) !== "string") valid++;
  });
  if (valid === 0) throw new Error("scanMessage accepted none of the sample messages");
  return { messagesPerSecond: perS };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { mb: { type: "string", default: "64" }, seconds: { type: "string", default: "1" } },
  });
  const ms = Number(values.seconds) * 1000;
  const splitter = benchSplitter(Number(values.mb));
  const matcher = benchMatcher(ms);
  const json = benchJson(ms);
  const scan = benchScan(ms);
  console.log(JSON.stringify({
    event: "done",
    splitter_mb_s: Math.round(splitter.mbPerSecond),
    splitter_frames_s: Math.round(splitter.framesPerSecond),
    matcher_evals_s: Math.round(matcher.evalsPerSecond),
    matcher_matched: matcher.matched,
    json_lines_s: Math.round(json.linesPerSecond),
    json_mb_s: Math.round(json.mbPerSecond),
    scan_messages_s: Math.round(scan.messagesPerSecond),
  }));
}
