/**
 * Configuration of `deno task start`. Everything else is the programs'
 * own env vars, passed through to them.
 *
 * @module
 */
import {
  bindAddressVar,
  type ConfigOf,
  intVar,
  type ProgramInfo,
  stringVar,
  urlVar,
} from "../config/mod.ts";

/** What `--help` says. */
export const startInfo: ProgramInfo = {
  name: "start",
  task: "start",
  summary: "runs the whole pipeline on one machine: NATS JetStream, both receivers, " +
    "the subscriber, the stats proxy with the dashboard, and a local sink",
  notes: [
    "Every program's own env vars (TCPRCVR_*, RCVR_*, SUB_*, PROXY_*) are passed through;",
    "see `deno task receive-tcp --help` and the others. Ctrl-C stops everything.",
    "The dashboard and the stats endpoints listen on 127.0.0.1 only unless PROXY_BIND_ADDRESS",
    "or *_STATS_ADDRESS say otherwise; the receivers' ports listen on every interface.",
  ],
};

/** The env vars of `start`. */
export const startSpec = {
  natsUrl: urlVar("NATS_URL", {
    protocols: ["nats:", "tls:"],
    description: "use this running NATS (with JetStream) instead of starting one",
  }),
  dataDir: stringVar("START_DATA_DIR", {
    default: "./.data",
    description: "NATS store (nats/) and local sink output (sink/) go here",
  }),
  natsPort: intVar("START_NATS_PORT", {
    default: 4222,
    min: 1,
    max: 65535,
    description: "port of the NATS server start runs (or finds already running)",
  }),
  sinkAddress: bindAddressVar("START_SINK_ADDRESS", {
    default: "127.0.0.1:9020",
    description: "where the local sink listens (when SUB_REMOTE_URL is unset)",
  }),
  remoteUrl: urlVar("SUB_REMOTE_URL", {
    description: "post batches here instead of the local sink",
  }),
};

/** The parsed config of `start`. */
export type StartConfig = ConfigOf<typeof startSpec>;
