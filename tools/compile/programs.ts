/**
 * What `deno task compile` builds: each program's entry point, the
 * permissions its binary is compiled with (those of its deno.json task,
 * plus `--allow-read` where creds and TLS files must be readable) and
 * the files it embeds.
 *
 * @module
 */

/** One program to compile into `bin/<name>`. */
export interface CompileTarget {
  /** Binary name, e.g. `tcp_receiver`. */
  name: string;
  /** Entry module, relative to the repository root. */
  entry: string;
  /** Permission flags baked into the binary. */
  permissions: string[];
  /** Files or folders embedded with `--include` (relative to the root). */
  include: string[];
  /** The deno task that runs it from source. */
  task: string;
}

/** Network, env, OS info (hostname, interfaces, memory) and files (creds, TLS). */
const NATS_PROGRAM = ["--allow-net", "--allow-env", "--allow-sys", "--allow-read"];

/** Every program, in build order. */
export const COMPILE_TARGETS: readonly CompileTarget[] = [
  {
    name: "tcp_receiver",
    entry: "services/tcp_receiver/main.ts",
    permissions: NATS_PROGRAM,
    include: [],
    task: "receive-tcp",
  },
  {
    name: "http_receiver",
    entry: "services/http_receiver/main.ts",
    permissions: NATS_PROGRAM,
    include: [],
    task: "receive-http",
  },
  {
    name: "http_subscriber",
    entry: "services/http_subscriber/main.ts",
    permissions: NATS_PROGRAM,
    include: [],
    task: "subscribe",
  },
  {
    name: "stats_proxy",
    entry: "services/stats_proxy/main.ts",
    // No --allow-run/--allow-write: the binary serves the embedded bundle and never rebuilds it.
    permissions: NATS_PROGRAM,
    // The page and the bundle it serves (services/stats_proxy/assets.ts reads them relative to
    // itself, which in the binary is the embedded copy of the repository's layout).
    include: ["dashboard/index.html", "dashboard/dist"],
    task: "stats-proxy",
  },
  {
    name: "log_generator",
    entry: "services/log_generator/main.ts",
    permissions: ["--allow-net", "--allow-env", "--allow-sys"],
    include: [],
    task: "generate",
  },
  {
    name: "heka_cat",
    entry: "services/heka_cat/main.ts",
    permissions: ["--allow-read", "--allow-env"],
    include: [],
    task: "heka-cat",
  },
  {
    name: "start",
    entry: "services/start/main.ts",
    permissions: ["--allow-all"],
    include: [],
    task: "start",
  },
];

/** The targets named in `names` (all when empty); throws naming an unknown one. */
export function selectTargets(names: string[]): CompileTarget[] {
  if (names.length === 0) return [...COMPILE_TARGETS];
  return names.map((n) => {
    const t = COMPILE_TARGETS.find((c) => c.name === n || c.task === n);
    if (!t) {
      throw new Error(
        `unknown program ${JSON.stringify(n)}; one of: ${
          COMPILE_TARGETS.map((c) => c.name).join(", ")
        }`,
      );
    }
    return t;
  });
}
