/**
 * Configuration of the log generator (`GEN_*`).
 *
 * @module
 */
import { z } from "zod";
import {
  type ConfigOf,
  durationVar,
  enumVar,
  type EnvVar,
  intVar,
  type ProgramInfo,
  REDACTED,
  stringVar,
  urlVar,
} from "../config/mod.ts";
import type { HmacSigner } from "../heka/hmac.ts";
import { LOG_LEVELS } from "../log/mod.ts";
import { PAYLOAD_KINDS } from "./payloads.ts";
import { TCP_RECEIVER_PORT } from "../config/ports.ts";

/** What `--help` says. */
export const generatorInfo: ProgramInfo = {
  name: "log_generator",
  task: "generate",
  summary:
    "sends realistic Heka messages (nginx access lines, JSON app logs, stack traces) to a receiver over TCP or HTTP",
  notes: [
    "GEN_TARGET=tcp://host:port sends Heka stream framing over GEN_CONNECTIONS connections",
    "(writes are awaited: a receiver applying backpressure slows the generator down);",
    "GEN_TARGET=http://host:port/ POSTs one message per request from GEN_CONNECTIONS clients,",
    "retrying 503 answers after their Retry-After.",
    `GEN_TYPE: ${PAYLOAD_KINDS.join(", ")} sends only that kind; empty mixes them;`,
    "any other value mixes them under that Type.",
    "Prints progress (sent, rate, errors) once a second on stderr and a summary at the end.",
  ],
};

/** Parses `name:version:hash:key` (the key may contain `:`). */
export function parseSigner(text: string): HmacSigner | undefined {
  const m = /^([^:]+):(\d{1,9}):(md5|sha1):(.+)$/i.exec(text.trim());
  if (!m) return undefined;
  return {
    name: m[1],
    version: Number(m[2]),
    hash: m[3].toLowerCase() as "md5" | "sha1",
    key: m[4],
  };
}

/** Prints a signer spec with its key hidden. */
export function redactSigner(text: string): string {
  const m = /^([^:]*):([^:]*):([^:]*):/.exec(text.trim());
  return m ? `${m[1]}:${m[2]}:${m[3]}:${REDACTED}` : REDACTED;
}

/** `GEN_SIGNER`: a Heka HMAC signer, secret. */
function signerVar(name: string, description: string): EnvVar<HmacSigner | undefined> {
  return {
    name,
    type: "String",
    expected: "name:version:hash:key with hash md5 or sha1, like ops:1:md5:secret",
    defaultText: undefined,
    defaultValue: undefined,
    required: false,
    description,
    schema: z.string().transform((raw, ctx) => {
      const s = parseSigner(raw);
      if (s === undefined) {
        ctx.addIssue({ code: "custom", message: "invalid" });
        return z.NEVER;
      }
      return s;
    }),
    redact: redactSigner,
  };
}

/** The env vars of the log generator. */
export const generatorSpec = {
  target: urlVar("GEN_TARGET", {
    default: `tcp://127.0.0.1:${TCP_RECEIVER_PORT}`,
    protocols: ["tcp:", "http:", "https:"],
    description: "tcp://host:port (Heka framing) or http://host:port/ (one POST per message)",
  }),
  rate: intVar("GEN_RATE", {
    default: 100,
    min: 0,
    description: "messages per second, all connections together; 0 = as fast as possible",
  }),
  size: intVar("GEN_SIZE", {
    default: 1000,
    min: 128,
    max: 16 * 1024 * 1024,
    description: "approximate size of each encoded message in bytes",
  }),
  count: intVar("GEN_COUNT", {
    default: 0,
    min: 0,
    description: "stop after this many messages; 0 = no limit",
  }),
  duration: durationVar("GEN_DURATION", {
    default: "0",
    description: "stop after this long; 0 = no limit",
  }),
  connections: intVar("GEN_CONNECTIONS", {
    default: 1,
    min: 1,
    max: 10_000,
    description: "TCP connections, or concurrent HTTP clients (keep-alive)",
  }),
  signer: signerVar(
    "GEN_SIGNER",
    "sign TCP frames with Heka HMAC: name:version:hash:key, e.g. ops:1:md5:secret",
  ),
  hostname: stringVar("GEN_HOSTNAME", {
    description: "Hostname of the messages (default: this machine's name)",
  }),
  type: stringVar("GEN_TYPE", {
    description: "Type of the messages; empty mixes every kind (see below)",
  }),
  variants: intVar("GEN_VARIANTS", {
    default: 64,
    min: 1,
    max: 100_000,
    description: "distinct pre-encoded messages cycled through (uuid and time vary per message)",
  }),
  loggingLevel: enumVar("GEN_LOGGING_LEVEL", LOG_LEVELS, {
    default: "info",
    description: "error, warn, info or debug",
  }),
};

/** The parsed generator config. */
export type GeneratorConfig = ConfigOf<typeof generatorSpec>;
