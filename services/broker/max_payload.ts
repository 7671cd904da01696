/**
 * How large a message the connected NATS server accepts.
 *
 * @module
 */
import type { NatsConnection } from "nats";

/** What nats-server allows when it does not say (its default max_payload, 1 MiB). */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * The largest message the connected server accepts (`max_payload` of its
 * INFO; headers count against it), or {@link DEFAULT_MAX_PAYLOAD} before it
 * said. Read it again after a reconnect: another server may allow less.
 */
export function serverMaxPayload(nc: NatsConnection): number {
  const max = nc.info?.max_payload;
  return typeof max === "number" && max > 0 ? max : DEFAULT_MAX_PAYLOAD;
}
