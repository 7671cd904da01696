/**
 * The subscriber's JetStream consumer: how NATS Streaming's subscription
 * options (durable name, queue group, start position) map onto a pull
 * consumer with explicit acks, and creating or resuming it.
 *
 * - no durable, no group → an ephemeral consumer, removed by the server
 *   when idle and by the subscriber on exit;
 * - `SUB_DURABLE=d` → durable `d-<client id>` (NATS Streaming keyed a
 *   durable by client id and name), `d` without a client id;
 * - `SUB_QGROUP=g` → durable `g` (`g-d` with a durable name) shared by every
 *   member, so the stream hands each message to one of them.
 *
 * An existing durable resumes where it left off: its start position is
 * never changed; ack wait and ack window are updated to this process's.
 *
 * @module
 */
import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  type JetStreamManager,
  nanos,
  type NatsConnection,
  type NatsError,
  ReplayPolicy,
} from "nats";
import { errorMessage, type Logger } from "../log/mod.ts";
import { sleep } from "../runtime/async.ts";

/** Where a new consumer starts. */
export type StartPolicy =
  | { kind: "new" }
  | { kind: "all" }
  | { kind: "last" }
  | { kind: "seq"; seq: number }
  | { kind: "time"; time: Date };

/** The consumer a subscriber uses. */
export interface ConsumerPlan {
  stream: string;
  /** The subject (filter) consumed. */
  filterSubject: string;
  /** Durable name; undefined for an ephemeral consumer. */
  name: string | undefined;
  /** Whether other subscribers share the consumer (a queue group). */
  shared: boolean;
  /** Start position of a consumer created now. */
  start: StartPolicy;
  ackWaitMs: number;
  maxAckPending: number;
}

/** A consumer that exists but cannot be used as configured (the operator must act). */
export class ConsumerMismatchError extends Error {
  override name = "ConsumerMismatchError";
}

/** How long the server keeps an ephemeral consumer nobody pulls from. */
export const EPHEMERAL_INACTIVE_MS = 5 * 60_000;

const CONSUMER_NOT_FOUND = 10014;
const NAME_CHARS = /[\s.*>/\\]/g;

function apiCode(err: unknown): number | undefined {
  return (err as NatsError)?.api_error?.err_code;
}

/** The consumer name for the given subscription options (undefined: ephemeral). */
export function consumerName(
  o: { durable: string; qgroup: string; clientId: string },
): string | undefined {
  if (o.qgroup) return o.durable ? `${o.qgroup}-${o.durable}` : o.qgroup;
  if (!o.durable) return undefined;
  return o.clientId ? `${o.durable}-${o.clientId.replace(NAME_CHARS, "_")}` : o.durable;
}

/** A start policy as text for logs. */
export function describeStart(p: StartPolicy): string {
  switch (p.kind) {
    case "seq":
      return `sequence ${p.seq}`;
    case "time":
      return `time ${p.time.toISOString()}`;
    default:
      return p.kind;
  }
}

/** The JetStream config of a consumer created for a plan. */
export function consumerConfig(plan: ConsumerPlan, start = plan.start): ConsumerConfig {
  const c: ConsumerConfig = {
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    replay_policy: ReplayPolicy.Instant,
    filter_subject: plan.filterSubject,
    ack_wait: nanos(plan.ackWaitMs),
    max_ack_pending: plan.maxAckPending,
    max_deliver: -1,
    description: "lagermeister http_subscriber",
  };
  switch (start.kind) {
    case "all":
      c.deliver_policy = DeliverPolicy.All;
      break;
    case "last":
      c.deliver_policy = DeliverPolicy.Last;
      break;
    case "seq":
      c.deliver_policy = DeliverPolicy.StartSequence;
      c.opt_start_seq = start.seq;
      break;
    case "time":
      c.deliver_policy = DeliverPolicy.StartTime;
      c.opt_start_time = start.time.toISOString();
      break;
  }
  if (plan.name) c.durable_name = plan.name;
  else c.inactive_threshold = nanos(Math.max(EPHEMERAL_INACTIVE_MS, plan.ackWaitMs * 2));
  return c;
}

/** A consumer ready to pull from. */
export interface OpenedConsumer {
  consumer: Consumer;
  info: ConsumerInfo;
  /** Whether it was created now (false: an existing durable resumed). */
  created: boolean;
}

async function infoOrUndefined(
  jsm: JetStreamManager,
  stream: string,
  name: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (err) {
    if (apiCode(err) === CONSUMER_NOT_FOUND) return undefined;
    throw err;
  }
}

async function resume(
  jsm: JetStreamManager,
  plan: ConsumerPlan,
  info: ConsumerInfo,
  log: Logger,
): Promise<ConsumerInfo> {
  const c = info.config;
  if (c.deliver_subject) {
    throw new ConsumerMismatchError(
      `consumer ${info.name} on stream ${plan.stream} is a push consumer; choose another SUB_DURABLE/SUB_QGROUP or delete it`,
    );
  }
  if (c.ack_policy !== AckPolicy.Explicit) {
    throw new ConsumerMismatchError(
      `consumer ${info.name} on stream ${plan.stream} does not use explicit acks; choose another SUB_DURABLE/SUB_QGROUP or delete it`,
    );
  }
  const filter = c.filter_subject ?? c.filter_subjects?.join(",") ?? "";
  if (filter !== plan.filterSubject) {
    throw new ConsumerMismatchError(
      `consumer ${info.name} on stream ${plan.stream} consumes ${
        JSON.stringify(filter)
      }, not SUB_SUBJECT ${
        JSON.stringify(plan.filterSubject)
      }; choose another SUB_DURABLE/SUB_QGROUP or delete it`,
    );
  }
  log.info("resuming existing consumer; start options do not apply", {
    consumer: info.name,
    delivered: info.delivered.stream_seq,
    pending: info.num_pending,
  });
  const ackWait = nanos(plan.ackWaitMs);
  if (c.ack_wait === ackWait && c.max_ack_pending === plan.maxAckPending) return info;
  try {
    return await jsm.consumers.update(plan.stream, info.name, {
      ack_wait: ackWait,
      max_ack_pending: plan.maxAckPending,
    });
  } catch (err) {
    log.warn("could not update the consumer's ack wait and window; keeping its own", {
      consumer: info.name,
      error: errorMessage(err),
    });
    return info;
  }
}

/**
 * Creates the plan's consumer, or resumes the durable of that name. `start`
 * overrides the plan's start position (used to re-create a lost ephemeral
 * consumer where it left off). Throws {@link ConsumerMismatchError} when an
 * existing consumer of that name cannot be used.
 */
export async function openConsumer(
  nc: NatsConnection,
  plan: ConsumerPlan,
  log: Logger,
  start: StartPolicy = plan.start,
): Promise<OpenedConsumer> {
  const jsm = await nc.jetstreamManager({ checkAPI: false });
  let info: ConsumerInfo | undefined;
  let created = false;
  if (plan.name) {
    info = await infoOrUndefined(jsm, plan.stream, plan.name);
    if (info === undefined) {
      try {
        info = await jsm.consumers.add(plan.stream, consumerConfig(plan, start));
        created = true;
      } catch (err) {
        // Another member of the group created it at the same moment.
        info = await infoOrUndefined(jsm, plan.stream, plan.name);
        if (info === undefined) throw err;
      }
    }
    if (!created) info = await resume(jsm, plan, info, log);
  } else {
    info = await jsm.consumers.add(plan.stream, consumerConfig(plan, start));
    created = true;
  }
  if (created) {
    log.info("created consumer", {
      consumer: info.name,
      durable: plan.name !== undefined,
      start: describeStart(start),
    });
  }
  const consumer = await nc.jetstream().consumers.get(plan.stream, info.name);
  return { consumer, info, created };
}

/**
 * Deletes a consumer on exit. A shared (group) consumer is deleted only when
 * no other member is pulling from it. Returns whether it was deleted.
 */
export async function deleteConsumer(
  nc: NatsConnection,
  stream: string,
  name: string,
  shared: boolean,
  log: Logger,
): Promise<boolean> {
  const jsm = await nc.jetstreamManager({ checkAPI: false });
  try {
    if (shared) {
      const info = await jsm.consumers.info(stream, name);
      if (info.num_waiting > 0) {
        log.info("other group members are pulling; keeping the shared consumer", {
          consumer: name,
          waiting: info.num_waiting,
        });
        return false;
      }
    }
  } catch (err) {
    if (apiCode(err) === CONSUMER_NOT_FOUND) return false;
    log.warn("could not look up the consumer", { consumer: name, error: errorMessage(err) });
    return false;
  }
  // nats-server 2.9 may refuse a delete racing with the consumer's last ack
  // writes ("directory not empty"): try a few times.
  for (let attempt = 1;; attempt++) {
    try {
      await jsm.consumers.delete(stream, name);
      log.info("deleted consumer", { consumer: name });
      return true;
    } catch (err) {
      if (apiCode(err) === CONSUMER_NOT_FOUND) return false;
      if (attempt >= 5) {
        log.warn("could not delete the consumer", { consumer: name, error: errorMessage(err) });
        return false;
      }
      await sleep(200);
    }
  }
}
