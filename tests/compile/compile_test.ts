/**
 * Issue #7: `deno task compile` builds every program into a standalone
 * binary; each answers `--help`, and the compiled TCP receiver stores
 * messages in a real nats-server.
 *
 * `deno compile` needs denort: from `DENORT_BIN`, from Deno's download
 * cache, or downloaded. When none of these works (no DENORT_BIN and the
 * download site unreachable, as on offline machines) the test is skipped
 * and says why.
 */
import assert from "node:assert/strict";
import { denortUrl, runWithTimeout } from "../../tools/compile/compile.ts";
import { COMPILE_TARGETS } from "../../tools/compile/programs.ts";
import { repoPath } from "../../testing/mod.ts";
import { tcpReceiverPipeline } from "./pipeline.ts";

/** Deno's cache folder (DENO_DIR), where deno compile keeps downloaded denort zips. */
async function denoDir(): Promise<string | undefined> {
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return fromEnv;
  try {
    const out = await runWithTimeout(Deno.execPath(), ["info", "--json"], 10_000);
    return (JSON.parse(out.stdout) as { denoDir?: string }).denoDir;
  } catch {
    return undefined;
  }
}

/** Why compiling cannot work here, or undefined when it can. */
async function whyCompileCannotRun(): Promise<string | undefined> {
  if (Deno.env.get("DENORT_BIN")) return undefined;
  const dir = await denoDir();
  const cached = `${dir}/dl/release/v${Deno.version.deno}/denort-${Deno.build.target}.zip`;
  if (dir) {
    try {
      if ((await Deno.stat(cached)).isFile) return undefined;
    } catch {
      // not cached
    }
  }
  try {
    const r = await fetch(denortUrl(), { method: "HEAD", signal: AbortSignal.timeout(3000) });
    await r.body?.cancel();
    if (r.ok) return undefined;
    return `DENORT_BIN is unset, denort is not cached and ${denortUrl()} answered ${r.status}`;
  } catch (err) {
    return `DENORT_BIN is unset, denort is not cached and ${denortUrl()} is unreachable (${
      (err as Error).message.split("\n")[0]
    }); set DENORT_BIN to a denort binary to run it`;
  }
}

const skip = await whyCompileCannotRun();
if (skip) console.log(`tests/compile/compile_test.ts skipped: ${skip}`);

Deno.test({
  name:
    "deno task compile: every program builds, answers --help, and bin/tcp_receiver stores messages",
  ignore: skip !== undefined,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "lm-bin-" });
    try {
      // --no-check: type checking is `deno check`'s job; this keeps the test well under a minute.
      const built = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          repoPath("tools/compile/main.ts"),
          "--no-check",
          "--out-dir",
          out,
        ],
        cwd: repoPath(""),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(built.stderr);
      assert.equal(built.code, 0, `deno task compile failed:\n${log}`);
      for (const t of COMPILE_TARGETS) {
        const help = await runWithTimeout(`${out}/${t.name}`, ["--help"], 15_000);
        assert.equal(help.code, 0, `${t.name} --help exited with ${help.code}: ${help.stderr}`);
        const name = t.name.replace(/_/g, "[_-]");
        assert.match(help.stdout + help.stderr, new RegExp(`^${name} — `, "m"), `${t.name} --help`);
      }
      await tcpReceiverPipeline([`${out}/tcp_receiver`]);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
