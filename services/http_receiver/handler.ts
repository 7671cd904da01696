/**
 * The HTTP receiver's request handling: `POST /` → gate → JetStream, with
 * the answers listed in README.md (http_receiver). Independent of how the
 * server is started.
 *
 * @module
 */
import type { JetStreamPublisher } from "../broker/mod.ts";
import type { MessageGate, ReceiverMetrics } from "../receiver/mod.ts";
import { statsHandler } from "../metrics/mod.ts";
import type { BearerAuth } from "../net/bearer_auth.ts";
import { BodyReader } from "./body.ts";

/** Options of {@link createHandler}. */
export interface HandlerOptions {
  gate: MessageGate;
  publisher: JetStreamPublisher;
  metrics: ReceiverMetrics;
  maxMessageSize: number;
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

/** A `Deno.serve` handler for the HTTP receiver. */
export function createHandler(o: HandlerOptions): (req: Request) => Promise<Response> {
  const m = o.metrics;
  const stats = statsHandler({
    registry: m.registry,
    health: () => m.health(),
    auth: o.statsAuth ?? o.auth,
  });
  const bodies = new BodyReader(o.maxMessageSize, o.bodyTimeoutMs);
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
      m.unavailable.value++;
      await req.body?.cancel().catch(() => {});
      return error(503, "broker unavailable, retry later", RETRY_AFTER);
    }
    const body = await bodies.read(req);
    if (!body.ok) {
      // The rest of the body is not read: the connection is closed, not kept alive.
      if (body.problem === "too-large") {
        m.refused.value++;
        return error(413, `message larger than ${o.maxMessageSize} bytes`, CLOSE);
      }
      if (body.problem === "timeout") {
        return error(408, "request body not received in time", CLOSE);
      }
      return error(400, "request body could not be read", CLOSE);
    }
    m.received.value++;
    if (body.bytes.length === 0) {
      m.invalid.value++;
      return error(400, "empty body: POST one protobuf Heka message");
    }
    if (m.refuseTooLarge(body.bytes.length)) {
      return error(
        413,
        `message of ${body.bytes.length} bytes is larger than the NATS server stores ` +
          `(${o.publisher.maxDataBytes()} bytes: its max_payload minus headers)`,
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
    const outcome = await o.publisher.publish(body.bytes, v.msgId, o.requestTimeoutMs);
    if (outcome === "ok") return Response.json({ status: "ok", uuid: v.msgId });
    if (outcome === "rejected") {
      m.refused.value++;
      return error(
        413,
        `the NATS server refused the message: ${o.publisher.lastRejection?.reason ?? "too large"}`,
      );
    }
    m.unavailable.value++;
    return error(
      503,
      outcome === "timeout"
        ? "broker did not acknowledge in time, retry"
        : "broker unavailable, retry later",
      RETRY_AFTER,
    );
  };
}
