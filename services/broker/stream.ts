/**
 * Making sure the JetStream stream exists — without ever changing the data
 * of one that does.
 *
 * @module
 */
import {
  type JetStreamManager,
  nanos,
  type NatsConnection,
  type NatsError,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from "nats";
import type { Logger } from "../log/mod.ts";

/** What a stream should look like when it has to be created. */
export interface StreamSpec {
  /** Stream name (`*_STREAM`, default `LAGERMEISTER`). */
  name: string;
  /** Subjects it must cover. */
  subjects: string[];
  /** Window in which a repeated `Nats-Msg-Id` is stored once. */
  duplicateWindowMs?: number;
  /** Replicas (3 in a cluster for fault tolerance). */
  replicas?: number;
}

const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;

function apiCode(err: unknown): number | undefined {
  return (err as NatsError)?.api_error?.err_code;
}

/** Whether a stream's configured subjects cover `subject` (with `*`/`>` wildcards). */
export function subjectCovered(patterns: string[], subject: string): boolean {
  const want = subject.split(".");
  return patterns.some((p) => {
    const pt = p.split(".");
    for (let i = 0; i < pt.length; i++) {
      if (pt[i] === ">") return want.length > i;
      if (i >= want.length) return false;
      if (pt[i] !== "*" && pt[i] !== want[i]) return false;
    }
    return pt.length === want.length;
  });
}

/**
 * Creates the stream if missing (file storage, limits retention, duplicate
 * window), tolerating another process creating it at the same moment. An
 * existing stream that lacks a subject gets that subject added — its
 * messages, limits and retention are never touched.
 */
export async function ensureStream(
  nc: NatsConnection,
  spec: StreamSpec,
  log: Logger,
): Promise<StreamInfo> {
  const jsm: JetStreamManager = await nc.jetstreamManager({ checkAPI: false });
  for (let attempt = 0;; attempt++) {
    try {
      const info = await jsm.streams.info(spec.name);
      const missing = spec.subjects.filter((s) => !subjectCovered(info.config.subjects ?? [], s));
      if (missing.length === 0) return info;
      log.info("adding subjects to the existing stream (its messages are untouched)", {
        stream: spec.name,
        subjects: missing.join(","),
      });
      return await jsm.streams.update(spec.name, {
        ...info.config,
        subjects: [...(info.config.subjects ?? []), ...missing],
      });
    } catch (err) {
      if (apiCode(err) !== STREAM_NOT_FOUND) throw err;
    }
    try {
      const info = await jsm.streams.add({
        name: spec.name,
        subjects: spec.subjects,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        duplicate_window: nanos(spec.duplicateWindowMs ?? 120_000),
        num_replicas: spec.replicas ?? 1,
      });
      log.info("created stream", { stream: spec.name, subjects: spec.subjects.join(",") });
      return info;
    } catch (err) {
      // Another receiver created it between our info and add: look again.
      if (apiCode(err) === STREAM_NAME_IN_USE && attempt < 3) continue;
      throw err;
    }
  }
}
