/**
 * The subscriber's settings, resolved from its parsed env vars
 * (`config.ts`): what one variable alone cannot check (names, subjects,
 * headers, format options, retry bounds), and what is derived (consumer
 * name, start policy, dead-letter subject, ack wait and ack window).
 *
 * @module
 */
import { ConfigError, formatDuration } from "../config/mod.ts";
import { subjectCovered } from "../broker/mod.ts";
import { errorMessage } from "../log/mod.ts";
import { JsonLineWriter } from "../heka/json.ts";
import type { JsonEncoderOptions } from "../heka/json_options.ts";
import { consumerName, type ConsumerPlan, type StartPolicy } from "./consumer.ts";
import { checkIndexPattern, checkLokiLabels, type FormatOptions } from "./formats/mod.ts";
import type { SubscriberConfig } from "./config.ts";

/** Everything the subscriber runs with, validated and derived from the env vars. */
export interface SubscriberSettings {
  /** The parsed env vars. */
  config: SubscriberConfig;
  /** The NATS connection name. */
  connectionName: string;
  /** The JetStream consumer to create or resume. */
  consumer: ConsumerPlan;
  /** Where rejected and undecodable messages are stored. */
  deadLetterSubject: string;
  /** The JSON line shape (SUB_FIELDS, SUB_DYNAMIC_FIELDS), validated and canonical. */
  json: JsonEncoderOptions;
  /** The remote URL, or undefined for the stub. */
  remoteUrl: string | undefined;
  /** The output format (SUB_FORMAT and its options), validated. */
  format: FormatOptions;
  /** Extra request headers (SUB_HEADERS, and the Splunk token); the values are secrets. */
  headers: Record<string, string>;
}

/** RFC 9110 `token`: a header name. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the subscriber sets itself. */
const OWN_HEADERS = new Set(["content-encoding", "content-length", "host", "transfer-encoding"]);

/** SUB_HEADERS and SUB_SPLUNK_TOKEN checked and merged. */
function requestHeaders(cfg: SubscriberConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(cfg.headers)) {
    if (!HEADER_NAME.test(name)) {
      throw new ConfigError(`SUB_HEADERS: ${JSON.stringify(name)} is not a header name`);
    }
    if (OWN_HEADERS.has(name.toLowerCase())) {
      throw new ConfigError(`SUB_HEADERS: ${name} is set by the subscriber and cannot be given`);
    }
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
      throw new ConfigError(
        `SUB_HEADERS: the value of ${name} has a line break or control character (not shown: it may be a secret)`,
      );
    }
    out[name.toLowerCase()] = value.trim();
  }
  if (cfg.splunkToken !== "") {
    if (cfg.format !== "splunk-hec") {
      throw new ConfigError("SUB_SPLUNK_TOKEN is only used with SUB_FORMAT=splunk-hec");
    }
    if (out.authorization !== undefined) {
      throw new ConfigError(
        "set either SUB_SPLUNK_TOKEN or an Authorization header in SUB_HEADERS, not both",
      );
    }
    out.authorization = `Splunk ${cfg.splunkToken.trim()}`;
  } else if (cfg.format === "splunk-hec" && out.authorization === undefined && !cfg.stubHttp) {
    throw new ConfigError(
      "SUB_FORMAT=splunk-hec needs SUB_SPLUNK_TOKEN (or an Authorization header in SUB_HEADERS)",
    );
  }
  return out;
}

/** The format options, checked. */
function formatOptions(cfg: SubscriberConfig, json: JsonEncoderOptions): FormatOptions {
  if (cfg.format === "es-bulk") {
    const why = checkIndexPattern(cfg.esIndex);
    if (why !== undefined) {
      throw new ConfigError(`SUB_ES_INDEX ${JSON.stringify(cfg.esIndex)}: ${why}`);
    }
  }
  let lokiLabels: string[] = cfg.lokiLabels;
  if (cfg.format === "loki") {
    try {
      lokiLabels = checkLokiLabels(cfg.lokiLabels);
    } catch (err) {
      throw new ConfigError(`SUB_LOKI_LABELS: ${errorMessage(err)}`);
    }
  }
  return { name: cfg.format, json, esIndex: cfg.esIndex, lokiLabels };
}

const BAD_NAME = /[\s.*>/\\]/;

function checkName(varName: string, value: string): void {
  if (value === "") return;
  if (/^(true|false)$/i.test(value)) {
    throw new ConfigError(
      `${varName} must be a consumer name, got ${JSON.stringify(value)} (it is not a boolean)`,
    );
  }
  if (BAD_NAME.test(value)) {
    throw new ConfigError(
      `${varName} must be a consumer name without spaces, '.', '*', '>', '/' or '\\', got ${
        JSON.stringify(value)
      }`,
    );
  }
}

function checkSubject(varName: string, subject: string, wildcards: boolean): void {
  const tokens = subject.split(".");
  const bad = subject === "" || /\s/.test(subject) ||
    tokens.some((t, i) =>
      t === "" || (t.includes("*") && t !== "*") || (t.includes(">") && t !== ">") ||
      (t === ">" && i !== tokens.length - 1)
    );
  if (bad) {
    throw new ConfigError(`${varName} must be a NATS subject, got ${JSON.stringify(subject)}`);
  }
  if (!wildcards && tokens.some((t) => t === "*" || t === ">")) {
    throw new ConfigError(
      `${varName} must be a subject without wildcards, got ${JSON.stringify(subject)}`,
    );
  }
}

function startPolicy(cfg: SubscriberConfig, now: number): StartPolicy {
  const chosen: StartPolicy[] = [];
  if (cfg.startSeq !== undefined && cfg.startSeq > 0) {
    chosen.push({ kind: "seq", seq: cfg.startSeq });
  }
  if (cfg.startDelta !== undefined) {
    chosen.push({ kind: "time", time: new Date(now - cfg.startDelta) });
  }
  if (cfg.deliverAll) chosen.push({ kind: "all" });
  if (cfg.deliverLast) chosen.push({ kind: "last" });
  if (chosen.length > 1) {
    throw new ConfigError(
      "set at most one of SUB_START_SEQ, SUB_START_DELTA, SUB_DELIVER_ALL=true, SUB_DELIVER_LAST=true",
    );
  }
  return chosen[0] ?? { kind: "new" };
}

/** The default ack wait: longer than a batch can wait to be sent plus two slow POST attempts. */
export function defaultAckWait(cfg: SubscriberConfig): number {
  return cfg.batchTimeout + 2 * cfg.requestTimeout + 30_000;
}

/** The default ack window: every poster busy with a full batch, one batch filling, one queued. */
export function defaultMaxAckPending(cfg: SubscriberConfig): number {
  return cfg.batchSize * (cfg.posters + 2);
}

/**
 * Validates what one variable alone cannot and derives the settings.
 * Throws {@link ConfigError} with a one-line message naming the variable.
 */
export function resolveSettings(
  cfg: SubscriberConfig,
  now: number = Date.now(),
  host: string = hostName(),
): SubscriberSettings {
  if (!cfg.stubHttp && cfg.remoteUrl === "") {
    throw new ConfigError(
      "SUB_REMOTE_URL is required: the URL batches are POSTed to (or set SUB_STUB_HTTP=true)",
    );
  }
  checkName("SUB_DURABLE", cfg.durable);
  checkName("SUB_QGROUP", cfg.qgroup);
  checkName("SUB_STREAM", cfg.stream);
  checkSubject("SUB_SUBJECT", cfg.subject, true);
  const deadLetterSubject = cfg.deadLetterSubject || `${cfg.subject}.dead`;
  if (cfg.deadLetterSubject === "" && /(^|\.)[*>](\.|$)/.test(cfg.subject)) {
    throw new ConfigError(
      "SUB_DEAD_LETTER_SUBJECT must be set when SUB_SUBJECT has wildcards",
    );
  }
  checkSubject("SUB_DEAD_LETTER_SUBJECT", deadLetterSubject, false);
  if (subjectCovered([cfg.subject], deadLetterSubject)) {
    throw new ConfigError(
      `SUB_DEAD_LETTER_SUBJECT must not match SUB_SUBJECT (dead letters would come back), got ${
        JSON.stringify(deadLetterSubject)
      }`,
    );
  }
  if (cfg.retryMax < cfg.retryMin) {
    throw new ConfigError(
      `SUB_RETRY_MAX must be at least SUB_RETRY_MIN (${formatDuration(cfg.retryMin)})`,
    );
  }
  let json: JsonEncoderOptions;
  try {
    const writer = new JsonLineWriter({
      fields: cfg.fields.length > 0 ? cfg.fields : undefined,
      dynamicFields: cfg.dynamicFields,
    });
    json = {
      fields: writer.fields,
      dynamicFields: writer.dynamicFields === undefined ? undefined : [...writer.dynamicFields],
    };
  } catch (err) {
    throw new ConfigError(`SUB_FIELDS: ${errorMessage(err)}`);
  }
  const ackWaitMs = cfg.ackWait ?? defaultAckWait(cfg);
  const maxAckPending = cfg.maxAckPending ?? defaultMaxAckPending(cfg);
  const connectionName = cfg.clientId || `http_subscriber-${host}-${Deno.pid}`;
  return {
    config: cfg,
    connectionName,
    consumer: {
      stream: cfg.stream,
      filterSubject: cfg.subject,
      name: consumerName({ durable: cfg.durable, qgroup: cfg.qgroup, clientId: cfg.clientId }),
      shared: cfg.qgroup !== "",
      start: startPolicy(cfg, now),
      ackWaitMs,
      maxAckPending,
    },
    deadLetterSubject,
    json,
    remoteUrl: cfg.stubHttp ? undefined : cfg.remoteUrl,
    format: formatOptions(cfg, json),
    headers: requestHeaders(cfg),
  };
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}
