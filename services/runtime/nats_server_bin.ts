/**
 * Which `nats-server` binary to launch: the one named by `NATS_SERVER_BIN`,
 * or else the newest one found among the project's own `.tools/` (where
 * `bash .ci/dev` unpacks a current release) and the usual install paths.
 *
 * Tests, `deno task bench` and `deno task start` all launch through this, so
 * one variable decides the server version of a whole run.
 *
 * @module
 */

/** A nats-server binary and the version it reports. */
export interface NatsServerBin {
  /** Path (or command name) to run. */
  path: string;
  /** Its version, e.g. `2.15.1`. */
  version: string;
}

/** Where nats-server usually lives when installed from a distribution package. */
const INSTALL_PATHS = [
  "nats-server",
  "/usr/sbin/nats-server",
  "/usr/local/bin/nats-server",
  "/usr/bin/nats-server",
];

/** The project's `.tools/` folder (relative to this file, so it works from any cwd). */
const TOOLS_DIR = new URL("../../.tools/", import.meta.url);

/** The version a nats-server binary reports, or undefined when it cannot run. */
export async function natsServerVersion(path: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return undefined;
    const m = /v?(\d+\.\d+\.\d+)/.exec(new TextDecoder().decode(out.stdout));
    return m?.[1];
  } catch {
    return undefined;
  }
}

/** Compares dotted versions numerically (`2.15.1` > `2.9.10`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function toolsCandidates(): string[] {
  if (TOOLS_DIR.protocol !== "file:") return [];
  const found: string[] = [];
  try {
    for (const e of Deno.readDirSync(TOOLS_DIR)) {
      if (e.isDirectory && e.name.startsWith("nats-server")) {
        found.push(new URL(`${e.name}/nats-server`, TOOLS_DIR).pathname);
      }
    }
  } catch {
    // no .tools/ (a user's own install, a compiled binary)
  }
  return found;
}

let cached: Promise<NatsServerBin | undefined> | undefined;

/**
 * The nats-server to launch. With `NATS_SERVER_BIN` set, that binary (an
 * error if it does not run); otherwise the newest runnable candidate, or
 * undefined when there is none. The answer is cached for the process.
 */
export function findNatsServer(): Promise<NatsServerBin | undefined> {
  cached ??= (async () => {
    const named = Deno.env.get("NATS_SERVER_BIN");
    if (named) {
      const version = await natsServerVersion(named);
      if (!version) {
        throw new Error(`NATS_SERVER_BIN=${named} does not run (nats-server --version failed)`);
      }
      return { path: named, version };
    }
    let best: NatsServerBin | undefined;
    for (const path of [...toolsCandidates(), ...INSTALL_PATHS]) {
      const version = await natsServerVersion(path);
      if (version && (!best || compareVersions(version, best.version) > 0)) {
        best = { path, version };
      }
    }
    return best;
  })();
  return cached;
}

/** {@link findNatsServer}, or an error that tells how to get one. */
export async function requireNatsServer(): Promise<NatsServerBin> {
  const bin = await findNatsServer();
  if (!bin) {
    throw new Error(
      "nats-server not found: run `bash .ci/dev test` (installs it), install Debian's " +
        "nats-server package, or set NATS_SERVER_BIN to its path",
    );
  }
  return bin;
}
