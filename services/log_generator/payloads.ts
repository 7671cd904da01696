/**
 * Realistic, varied Heka messages for load: nginx access lines, JSON
 * application logs and stack traces, with dynamic fields of every value
 * type (single and repeated values, representations), each padded or
 * trimmed to a requested encoded size.
 *
 * Messages are built once, deterministically from a seed; the generator
 * then only patches uuid and timestamp per message (see `stamp.ts`).
 *
 * @module
 */
import { encodeMessage } from "../heka/codec.ts";
import {
  type HekaField,
  type HekaMessage,
  newField,
  newMessage,
  ValueType,
} from "../heka/message.ts";

/** The kinds of message the generator makes; each is also its Heka `Type`. */
export const PAYLOAD_KINDS = ["nginx.access", "app.json", "app.exception"] as const;

/** One of {@link PAYLOAD_KINDS}. */
export type PayloadKind = typeof PAYLOAD_KINDS[number];

/** Options of {@link buildMessages} and {@link buildTemplates}. */
export interface PayloadOptions {
  /** Target size of each encoded message in bytes (met exactly when possible). */
  size: number;
  /** Hostname of every message. */
  hostname: string;
  /**
   * A kind of {@link PAYLOAD_KINDS} to make only that kind; empty or absent
   * mixes them; another string mixes them under that Type.
   */
  type?: string;
  /** How many distinct messages (default 64). */
  variants?: number;
  /** Seed of the pseudo-random choices (default 1): same seed, same messages. */
  seed?: number;
}

/** A small deterministic PRNG (mulberry32). */
class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

const METHODS = ["GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD"] as const;
const PATHS = [
  "/api/v1/orders",
  "/api/v1/orders/{id}",
  "/api/v1/users/{id}/cart",
  "/static/js/app.{id}.js",
  "/healthz",
  "/search",
  "/api/v2/inventory/{id}",
  "/login",
] as const;
const STATUSES = [
  200,
  200,
  200,
  200,
  200,
  200,
  200,
  200,
  200,
  200,
  201,
  204,
  301,
  304,
  404,
  404,
  429,
  500,
  502,
  503,
] as const;
const AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
  "curl/8.5.0",
  "Go-http-client/1.1",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
] as const;
const REFERERS = ["-", "https://shop.example.com/", "https://www.google.com/"] as const;
const LEVELS = ["info", "info", "info", "info", "debug", "warn", "error"] as const;
const LEVEL_SEVERITY: Record<string, number> = { error: 3, warn: 4, info: 6, debug: 7 };
const APP_MESSAGES = [
  "order created",
  "payment authorized",
  "cache miss",
  "user logged in",
  "inventory reserved",
  "retrying upstream call",
  "slow query",
] as const;
const TAGS = ["checkout", "eu-west-1", "canary", "blue", "k8s", "v2.31.0"] as const;
const EXCEPTIONS = [
  "java.lang.NullPointerException",
  "java.net.SocketTimeoutException: Read timed out",
  "org.postgresql.util.PSQLException: connection refused",
  "java.lang.IllegalStateException: order already shipped",
] as const;
const FRAMES = [
  "com.example.checkout.OrderService.create(OrderService.java:{n})",
  "com.example.checkout.PaymentClient.authorize(PaymentClient.java:{n})",
  "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:{n})",
  "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:{n})",
  "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:{n})",
  "java.base/java.lang.Thread.run(Thread.java:{n})",
] as const;
const WORDS = [
  "lorem",
  "ipsum",
  "dolor",
  "sit",
  "amet",
  "consectetur",
  "adipiscing",
  "elit",
  "sed",
  "do",
  "eiusmod",
  "tempor",
] as const;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function field(
  name: string,
  type: ValueType,
  values: (string | number | boolean | Uint8Array)[],
  representation = "",
): HekaField {
  const f = newField(name, type, representation);
  for (const v of values) {
    if (type === ValueType.STRING) f.valueString.push(v as string);
    else if (type === ValueType.BYTES) f.valueBytes.push(v as Uint8Array);
    else if (type === ValueType.INTEGER) f.valueInteger.push(v as number);
    else if (type === ValueType.DOUBLE) f.valueDouble.push(v as number);
    else f.valueBool.push(v as boolean);
  }
  return f;
}

/** Filler text of exactly `n` ASCII characters, in the style of a kind. */
function filler(kind: PayloadKind, n: number, rng: Rng): string {
  if (n <= 0) return "";
  let s = "";
  if (kind === "app.exception") {
    while (s.length < n) {
      s += "\n\tat " + rng.pick(FRAMES).replace("{n}", String(20 + rng.int(900)));
    }
  } else {
    while (s.length < n) s += (s ? (kind === "nginx.access" ? "+" : " ") : "") + rng.pick(WORDS);
  }
  return s.slice(0, n);
}

function nginxDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${
    p(d.getUTCHours())
  }:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** A message of a kind, with its payload as a function of the padding text. */
interface Draft {
  msg: HekaMessage;
  render: (pad: string) => string;
}

function nginxDraft(rng: Rng, now: Date): Draft {
  const msg = newMessage();
  const ip = `${10 + rng.int(200)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;
  const method = rng.pick(METHODS);
  const path = rng.pick(PATHS).replace("{id}", String(1000 + rng.int(90000)));
  const status = rng.pick(STATUSES);
  const bytes = status === 204 || status === 304 ? 0 : 200 + rng.int(50_000);
  const rt = Math.round(rng.next() * rng.next() * 2_000) / 1000;
  const agent = rng.pick(AGENTS);
  const referer = rng.pick(REFERERS);
  const upstream = Array.from(
    { length: 1 + rng.int(3) },
    () => Math.round(rng.next() * 900) / 1000,
  );
  msg.severity = status >= 500 ? 3 : status >= 400 ? 4 : 6;
  msg.logger = "nginx";
  msg.fields = [
    field("remote_addr", ValueType.STRING, [ip], "ipv4"),
    field("method", ValueType.STRING, [method]),
    field("path", ValueType.STRING, [path], "uri"),
    field("status", ValueType.INTEGER, [status]),
    field("bytes_sent", ValueType.INTEGER, [bytes], "B"),
    field("request_time", ValueType.DOUBLE, [rt], "s"),
    field("upstream_response_time", ValueType.DOUBLE, upstream, "s"),
    field("cache_hit", ValueType.BOOL, [rng.next() < 0.3]),
    field("request_id", ValueType.BYTES, [rng.bytes(8)]),
    field("user_agent", ValueType.STRING, [agent]),
  ];
  return {
    msg,
    render: (pad) =>
      `${ip} - - [${nginxDate(now)}] "${method} ${path}${pad ? "?q=" + pad : ""} HTTP/1.1" ` +
      `${status} ${bytes} "${referer}" "${agent}" rt=${rt.toFixed(3)}`,
  };
}

function appJsonDraft(rng: Rng, now: Date): Draft {
  const msg = newMessage();
  const level = rng.pick(LEVELS);
  const userId = 1 + rng.int(5_000_000);
  const duration = Math.round(rng.next() * 50_000) / 100;
  const success = level !== "error";
  const traceId = rng.bytes(16);
  const tags = Array.from({ length: 1 + rng.int(3) }, () => rng.pick(TAGS));
  const text = rng.pick(APP_MESSAGES);
  msg.severity = LEVEL_SEVERITY[level];
  msg.logger = "checkout-service";
  msg.fields = [
    field("level", ValueType.STRING, [level]),
    field("user_id", ValueType.INTEGER, [userId]),
    field("duration_ms", ValueType.DOUBLE, [duration], "ms"),
    field("success", ValueType.BOOL, [success]),
    field("trace_id", ValueType.BYTES, [traceId]),
    field("tags", ValueType.STRING, tags),
    field("attempts", ValueType.INTEGER, [1, 1 + rng.int(3)]),
  ];
  const trace = [...traceId].map((b) => b.toString(16).padStart(2, "0")).join("");
  return {
    msg,
    render: (pad) =>
      JSON.stringify({
        ts: now.toISOString(),
        level,
        msg: text,
        user_id: userId,
        duration_ms: duration,
        success,
        trace_id: trace,
        tags,
        ...(pad ? { context: pad } : {}),
      }),
  };
}

function exceptionDraft(rng: Rng): Draft {
  const msg = newMessage();
  const exception = rng.pick(EXCEPTIONS);
  const frames = 3 + rng.int(4);
  const lines = [`Exception in thread "http-nio-8080-exec-${1 + rng.int(200)}" ${exception}`];
  for (let i = 0; i < frames; i++) {
    lines.push(
      "\tat " + FRAMES[(i + rng.int(2)) % FRAMES.length].replace("{n}", String(20 + rng.int(900))),
    );
  }
  const base = lines.join("\n");
  msg.severity = rng.next() < 0.1 ? 2 : 3;
  msg.logger = "checkout-service";
  msg.fields = [
    field("exception", ValueType.STRING, [exception.split(":")[0]]),
    field("frames", ValueType.INTEGER, [frames]),
    field("retryable", ValueType.BOOL, [exception.includes("Timeout")]),
    field(
      "latencies",
      ValueType.DOUBLE,
      [rng.next() * 10, rng.next() * 100, rng.next() * 1000],
      "ms",
    ),
    field("fingerprint", ValueType.BYTES, [rng.bytes(20)]),
    field("flags", ValueType.BOOL, [true, rng.next() < 0.5]),
  ];
  return { msg, render: (pad) => base + pad };
}

function draftOf(kind: PayloadKind, rng: Rng, now: Date): Draft {
  if (kind === "nginx.access") return nginxDraft(rng, now);
  if (kind === "app.json") return appJsonDraft(rng, now);
  return exceptionDraft(rng);
}

/** Payloads are not cut shorter than this to meet a small size. */
const MIN_PAYLOAD = 40;

/** Renders a draft's payload so the encoded message is `size` bytes when possible. */
function fitToSize(draft: Draft, kind: PayloadKind, size: number, rng: Rng): HekaMessage {
  const msg = draft.msg;
  const padSource = filler(kind, Math.max(0, size), rng);
  const base = draft.render("");
  // extra >= 0: that much padding; extra < 0: the unpadded payload cut short by that much.
  const payloadFor = (extra: number) =>
    extra >= 0 ? draft.render(padSource.slice(0, extra)) : base.slice(0, base.length + extra);
  // Fields go (last first) only when even a short payload would not fit.
  msg.payload = base.slice(0, MIN_PAYLOAD);
  while (msg.fields.length > 0 && encodeMessage(msg).length > size) msg.fields.pop();
  let extra = 0;
  msg.payload = base;
  for (let i = 0; i < 8; i++) {
    const diff = size - encodeMessage(msg).length;
    if (diff === 0) break;
    extra = Math.min(padSource.length, Math.max(extra + diff, MIN_PAYLOAD - base.length));
    msg.payload = payloadFor(extra);
  }
  return msg;
}

/**
 * Distinct, realistic messages of about `size` encoded bytes each. Every
 * message has a 16-byte uuid and a current timestamp (as placeholders: the
 * generator stamps fresh ones per message), the hostname, a pid, a logger,
 * a severity that follows the content, a payload and dynamic fields.
 */
export function buildMessages(o: PayloadOptions): HekaMessage[] {
  const rng = new Rng(o.seed ?? 1);
  const variants = o.variants ?? 64;
  const requested = o.type ?? "";
  const only = (PAYLOAD_KINDS as readonly string[]).includes(requested)
    ? requested as PayloadKind
    : undefined;
  const now = new Date();
  const out: HekaMessage[] = [];
  for (let i = 0; i < variants; i++) {
    const kind = only ?? PAYLOAD_KINDS[i % PAYLOAD_KINDS.length];
    const draft = draftOf(kind, rng, now);
    const msg = draft.msg;
    msg.uuid = rng.bytes(16);
    msg.timestamp = BigInt(now.getTime()) * 1_000_000n;
    msg.type = only ?? (requested || kind);
    msg.hostname = o.hostname;
    msg.pid = 1000 + rng.int(60_000);
    msg.envVersion = "0.8";
    out.push(fitToSize(draft, kind, o.size, rng));
  }
  return out;
}

/** {@link buildMessages}, encoded (plain Uint8Arrays, not Node Buffers). */
export function buildTemplates(o: PayloadOptions): Uint8Array[] {
  return buildMessages(o).map((m) => new Uint8Array(encodeMessage(m)));
}
