/**
 * Issue #7: the deno.json task of each NATS-using program (the way users
 * run them) has the permissions auth needs: with a `.creds` file the
 * program started exactly as its task starts it (same `deno run` flags)
 * reaches "connected to NATS". `--allow-read` is what creds and TLS files
 * need; without it the program stops at once saying so.
 */
import assert from "node:assert/strict";
import { freePort, NatsServer, ProgramProcess, repoPath } from "../../testing/mod.ts";
import { operatorSetup } from "./nats_jwt.ts";
import { baseEnv, NATS_PROGRAMS, prefixed } from "./programs.ts";

const TASK_OF: Record<string, string> = {
  tcp_receiver: "receive-tcp",
  http_receiver: "receive-http",
  http_subscriber: "subscribe",
  stats_proxy: "stats-proxy",
};

/** The `deno run` arguments of a deno.json task (`deno run --allow-x script` → `[run, --allow-x, /abs/script]`). */
async function taskArgs(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(repoPath("deno.json"))) as {
    tasks: Record<string, string>;
  };
  const words = config.tasks[task].trim().split(/\s+/);
  assert.equal(words[0], "deno", `task ${task} does not start with deno`);
  return words.slice(1).map((w) => w.endsWith(".ts") ? repoPath(w) : w);
}

Deno.test("each NATS program, run with its deno.json task's permissions, can use a .creds file", async () => {
  const setup = await operatorSetup();
  const dir = await Deno.makeTempDir({ prefix: "lm-task-creds-" });
  const creds = `${dir}/user.creds`;
  await Deno.writeTextFile(creds, setup.creds);
  const nats = await NatsServer.start({ config: setup.serverConfig });
  const problems: string[] = [];
  try {
    await Promise.all(NATS_PROGRAMS.map(async (p) => {
      const task = TASK_OF[p.name];
      const args = await taskArgs(task);
      const port = freePort();
      const proc = ProgramProcess.spawn([Deno.execPath(), ...args], {
        ...baseEnv(p, port),
        ...prefixed(p.prefix, { NATS_URL: nats.url, NATS_CREDS: creds }),
      });
      try {
        await proc.waitFor(/msg="connected to NATS"/, 20_000);
      } catch {
        const line = proc.stderr.split("\n").find((l) => /error/i.test(l)) ??
          proc.stderr.slice(-300);
        problems.push(
          `deno task ${task} (${args.filter((a) => a.startsWith("--")).join(" ")}): ${line.trim()}`,
        );
      } finally {
        await proc.stop();
      }
    }));
  } finally {
    await nats.dispose();
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(
    problems,
    [],
    "these deno.json tasks need --allow-read for *_NATS_CREDS and *_NATS_TLS_* files",
  );
});
