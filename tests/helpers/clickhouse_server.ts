/**
 * A real `clickhouse-server` for tests (Debian's 18.16 package here): free
 * ports, a config and data in a temp dir, loopback only, stopped by its own
 * pid. Never a mock.
 *
 * A test that needs it FAILS when the binary is missing (CI installs it:
 * `.ci/dev` ensure_clickhouse); only `LAGERMEISTER_NO_CLICKHOUSE=1`, set on
 * purpose, skips it — see {@link clickhouseSkipReason}.
 *
 * @module
 */
import { sleep } from "../../services/runtime/async.ts";
import { freePort } from "../../testing/mod.ts";

const CANDIDATES = ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"];

/** Why ClickHouse tests are skipped, or undefined when they run (and must find the server). */
export function clickhouseSkipReason(): string | undefined {
  return Deno.env.get("LAGERMEISTER_NO_CLICKHOUSE") === "1"
    ? "LAGERMEISTER_NO_CLICKHOUSE=1: ClickHouse tests skipped on request"
    : undefined;
}

/** The server binary: $CLICKHOUSE_SERVER, else the Debian package's. Throws when absent. */
export function clickhouseServerPath(): string {
  const given = Deno.env.get("CLICKHOUSE_SERVER");
  for (const p of given ? [given] : CANDIDATES) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // try the next
    }
  }
  throw new Error(
    `clickhouse-server not found (${given ?? CANDIDATES.join(", ")}): install it ` +
      "(bash .ci/dev installs the Debian package clickhouse-server), or set " +
      "LAGERMEISTER_NO_CLICKHOUSE=1 to skip the ClickHouse tests on purpose",
  );
}

function xmlText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A running clickhouse-server. */
export class ClickHouseServer {
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly dir: string;
  #child: Deno.ChildProcess | undefined;
  #status: Promise<Deno.CommandStatus> | undefined;

  private constructor(dir: string) {
    this.dir = dir;
    this.httpPort = freePort();
    this.tcpPort = freePort();
  }

  /** Starts a server in a fresh temp dir and waits until `/ping` answers. */
  static async start(): Promise<ClickHouseServer> {
    const bin = clickhouseServerPath();
    const dir = await Deno.makeTempDir({ prefix: "lm-clickhouse-" });
    const s = new ClickHouseServer(dir);
    await s.#spawn(bin);
    return s;
  }

  /** `http://127.0.0.1:PORT/`. */
  get url(): string {
    return `http://127.0.0.1:${this.httpPort}/`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async #spawn(bin: string): Promise<void> {
    const d = xmlText(this.dir);
    // What 18.16 needs: ports, listen host, the paths, a logger, a users file
    // with a profile, a user and a quota; small caches (defaults are GBs).
    await Deno.writeTextFile(
      `${this.dir}/config.xml`,
      `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${d}/server.log</log>
    <errorlog>${d}/server.err.log</errorlog>
    <size>50M</size>
    <count>1</count>
  </logger>
  <http_port>${this.httpPort}</http_port>
  <tcp_port>${this.tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${d}/data/</path>
  <tmp_path>${d}/tmp/</tmp_path>
  <user_files_path>${d}/user_files/</user_files_path>
  <format_schema_path>${d}/format_schemas/</format_schema_path>
  <users_config>${d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>64</max_concurrent_queries>
</yandex>
`,
    );
    await Deno.writeTextFile(
      `${this.dir}/users.xml`,
      `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`,
    );
    this.#child = new Deno.Command(bin, {
      args: [`--config-file=${this.dir}/config.xml`],
      cwd: this.dir,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.#status = this.#child.status;
    await this.#waitReady();
  }

  async #waitReady(ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    let exited = false;
    this.#status?.then(() => exited = true);
    while (Date.now() < deadline && !exited) {
      try {
        const r = await fetch(`${this.url}ping`);
        const text = await r.text();
        if (r.ok && text.startsWith("Ok")) return;
      } catch {
        // not up yet
      }
      await sleep(100);
    }
    const log = await Deno.readTextFile(`${this.dir}/server.err.log`).catch(() => "");
    await this.stop();
    throw new Error(
      `clickhouse-server on port ${this.httpPort} not ready after ${ms} ms` +
        `${exited ? " (it exited)" : ""}; error log:\n${log.slice(-2000)}`,
    );
  }

  /** Runs a query over HTTP; returns the answer text (throws with ClickHouse's message on failure). */
  async query(sql: string): Promise<string> {
    const r = await fetch(this.url, { method: "POST", body: sql });
    const text = await r.text();
    if (!r.ok) throw new Error(`ClickHouse ${r.status} for ${sql.slice(0, 100)}: ${text}`);
    return text;
  }

  /** A query's single number. */
  async number(sql: string): Promise<number> {
    return Number((await this.query(sql)).trim());
  }

  /** Stops the server by its pid (SIGTERM, SIGKILL after 10 s) and waits for it. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    try {
      Deno.kill(child.pid, "SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        Deno.kill(child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }, 10_000);
    await this.#status;
    clearTimeout(timer);
  }

  /** Stops the server and removes its temp dir. */
  async dispose(): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
