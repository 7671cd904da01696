/**
 * The HTTP receiver's request handling: `POST /` → gate → JetStream, with
 * the answers listed in README.md (http_receiver). Independent of how the
 * server is started.
 *
 * A body is one protobuf message, or, with `Content-Type:
 * application/x-heka-stream`, a Heka stream of many: each is checked as a
 * single one would be, the accepted ones are stored, and the answer (200
 * once all of them are stored) counts what was stored and refused, and why.
 *
 * @module
 */
import type { JetStreamPublisher, PublishOutcome } from "../broker/mod.ts";
import { HEKA_STREAM_CONTENT_TYPE } from "../heka/chunk.ts";
import { FrameSplitter } from "../heka/framing.ts";
import type { MessageGate, MessageSink, ReceiverMetrics } from "../receiver/mod.ts";
import { statsHandler } from "../metrics/mod.ts";
import type { BearerAuth } from "../net/bearer_auth.ts";
import { BodyReader } from "./body.ts";

/** Options of {@link createHandler}. */
export interface HandlerOptions {
  gate: MessageGate;
  publisher: JetStreamPublisher;
  /** Where accepted messages go (chunks, or one JetStream message each). */
  sink: MessageSink;
  metrics: ReceiverMetrics;
  maxMessageSize: number;
  /** Largest `application/x-heka-stream` body. */
  maxStreamBytes: number;
  requestTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Bearer tokens a POST must carry (`RCVR_AUTH_TOKENS`). */
  auth?: BearerAuth;
  /** Token of the stats paths (`RCVR_STATS_TOKEN`); `auth` when unset. */
  statsAuth?: BearerAuth;
}

function error(status: number, message: string, headers?: HeadersInit): Response {
  return Response.json({ status: "error", message }, { status, headers });
}

const RETRY_AFTER = { "retry-after": "1" };
const CLOSE = { connection: "close" };

function notStored(
  m: ReceiverMetrics,
  outcome: PublishOutcome,
  publisher: JetStreamPublisher,
): Response {
  if (outcome === "rejected") {
    m.refused.value++;
    return error(
      413,
      `the NATS server refused the message: ${publisher.lastRejection?.reason ?? "too large"}`,
    );
  }
  m.unavailable.value++;
  const why = publisher.trouble ??
    (outcome === "timeout" ? "broker did not acknowledge in time" : "broker unavailable");
  return error(503, `${why}, retry later`, RETRY_AFTER);
}

/** Whether a request's Content-Type is a Heka stream. */
function isStreamBody(req: Request): boolean {
  const type = req.headers.get("content-type");
  if (type === null) return false;
  return type.split(";")[0].trim().toLowerCase() === HEKA_STREAM_CONTENT_TYPE;
}

/** A `Deno.serve` handler for the HTTP receiver. */
export function createHandler(o: HandlerOptions): (req: Request) => Promise<Response> {
  const m = o.metrics;
  const stats = statsHandler({
    registry: m.registry,
    health: () => m.health(),
    auth: o.statsAuth ?? o.auth,
  });
  const bodies = new BodyReader(o.maxMessageSize, o.bodyTimeoutMs);
  const streams = new BodyReader(o.maxStreamBytes, o.bodyTimeoutMs);
  return async (req) => {
    const path = new URL(req.url).pathname;
    if (path !== "/") {
      return stats(req) ?? error(404, `no such path: ${path} (POST / or GET /health)`);
    }
    if (req.method !== "POST") {
      return error(405, `method ${req.method} not allowed: POST a protobuf message`, {
        allow: "POST",
      });
    }
    if (o.auth) {
      const r = o.auth.check(req);
      if (!r.ok) {
        await req.body?.cancel().catch(() => {});
        return o.auth.unauthorized(r.reason);
      }
    }
    if (!o.publisher.available) {
      await req.body?.cancel().catch(() => {});
      return notStored(m, "unavailable", o.publisher);
    }
    const stream = isStreamBody(req);
    const body = stream ? await streams.readChunks(req) : await bodies.read(req);
    if (!body.ok) {
      // The rest of the body is not read: the connection is closed, not kept alive.
      if (body.problem === "too-large") {
        m.refused.value++;
        return stream
          ? error(413, `Heka stream body larger than ${o.maxStreamBytes} bytes`, CLOSE)
          : error(413, `message larger than ${o.maxMessageSize} bytes`, CLOSE);
      }
      if (body.problem === "timeout") {
        return error(408, "request body not received in time", CLOSE);
      }
      return error(400, "request body could not be read", CLOSE);
    }
    const deadline = performance.now() + o.requestTimeoutMs;
    if ("chunks" in body) return storeStream(o, body.chunks, deadline);
    m.received.value++;
    if (body.bytes.length === 0) {
      m.invalid.value++;
      return error(400, "empty body: POST one protobuf Heka message");
    }
    if (m.refuseTooLarge(body.bytes.length)) {
      return error(
        413,
        `message of ${body.bytes.length} bytes is larger than the NATS server stores ` +
          `(${o.sink.maxMessageBytes()} bytes: its max_payload minus headers)`,
      );
    }
    const v = o.gate.inspect(body.bytes);
    if (v.kind === "invalid") {
      m.invalid.value++;
      return error(400, v.reason);
    }
    if (v.kind === "filtered") {
      m.filtered.value++;
      return Response.json({ status: "filtered" });
    }
    m.accepted.value++;
    const outcome = await o.sink.store(body.bytes, v.msgId, deadline);
    if (outcome === "ok") return Response.json({ status: "ok", uuid: v.msgId });
    return notStored(m, outcome, o.publisher);
  };
}

/**
 * Checks every message of a Heka stream body and stores the accepted ones:
 * 200 with counts once all are stored, 503 when they could not be (the
 * client resends the whole body; messages stored already are then stored
 * again — at least once), 400 when the body holds no message at all.
 */
async function storeStream(
  o: HandlerOptions,
  chunks: readonly Uint8Array[],
  deadline: number,
): Promise<Response> {
  const m = o.metrics;
  const splitter = new FrameSplitter({ maxMessageSize: o.maxMessageSize });
  const accepted: Uint8Array[] = [];
  const ids: string[] = [];
  const reasons: Record<string, number> = {};
  let filtered = 0;
  let invalid = 0;
  for (const chunk of chunks) {
    splitter.push(chunk);
    for (let f = splitter.next(); f !== null; f = splitter.next()) {
      m.received.value++;
      const v = o.gate.inspect(f.message);
      if (v.kind === "accept") {
        accepted.push(f.message);
        ids.push(v.msgId);
      } else if (v.kind === "filtered") {
        filtered++;
      } else {
        invalid++;
        reasons[v.reason] = (reasons[v.reason] ?? 0) + 1;
      }
    }
  }
  const s = splitter.stats;
  const broken = s.invalidHeaders + (splitter.buffered > 0 ? 1 : 0);
  if (broken > 0) reasons["invalid frame"] = broken;
  if (s.oversized > 0) reasons[`message larger than ${o.maxMessageSize} bytes`] = s.oversized;
  if (s.garbageBytes > s.invalidHeaders) {
    reasons["bytes between frames skipped"] = s.garbageBytes - s.invalidHeaders;
  }
  m.invalid.value += invalid + broken;
  m.refused.value += s.oversized;
  m.filtered.value += filtered;
  const refused = invalid + broken + s.oversized;
  if (accepted.length + filtered + refused === 0) {
    return error(400, "no Heka stream frame in the body (0x1E, header, 0x1F, message)");
  }
  if (accepted.length > 0) {
    m.accepted.value += accepted.length;
    const outcome = await o.sink.storeAll(accepted, ids, deadline);
    if (outcome !== "ok") return notStored(m, outcome, o.publisher);
  }
  return Response.json({ status: "ok", stored: accepted.length, filtered, refused, reasons });
}
