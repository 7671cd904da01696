/**
 * The `idle` scenario: idle TCP connections held open to the receiver, and
 * what they cost in RSS.
 *
 * @module
 */
import { countFds } from "../proc_stats.ts";
import { target } from "../results.ts";
import type { Scenario } from "./context.ts";
import { skipped } from "./measure.ts";
import { startReceiver } from "./receivers.ts";
import { resetStream } from "./stored.ts";

/** The hard limit of open files a child can raise its soft limit to. */
function hardFdLimit(): number {
  try {
    const out = new Deno.Command("bash", { args: ["-c", "ulimit -Hn"] }).outputSync();
    const text = new TextDecoder().decode(out.stdout).trim();
    return text === "unlimited" ? Infinity : Number(text);
  } catch {
    return 1024;
  }
}

export const idle: Scenario = {
  name: "idle",
  description: "idle TCP connections held open to receive-tcp: its RSS",
  async run(ctx, scope) {
    const n = ctx.scale.idle;
    const need = n + 512;
    const hard = hardFdLimit();
    if (hard < need) {
      return skipped("idle", `open-file hard limit ${hard} < ${need} (raise it: ulimit -Hn)`);
    }
    await resetStream(ctx);
    const rcv = await startReceiver(ctx, scope, "idle", "tcp", {
      fdLimit: need,
      env: n > 19_000 ? { TCPRCVR_MAX_CONNECTIONS: String(n + 1000) } : {},
    });
    const sampler = scope.sample(rcv.child.pid);
    const fd0 = countFds(rcv.child.pid);
    const rss0 = sampler.sample()?.rssKb ?? 0;
    const clients = scope.start(ctx, "idle", "idle_clients", "tools/bench/idle_clients.ts", {
      args: ["--port", String(rcv.port), "--connections", String(n)],
      fdLimit: need,
    });
    const open = await clients.event("open", 120_000);
    const opened = Number(open.n);
    if (opened < n) throw new Error(`only ${opened} of ${n} connections opened: ${open.error}`);
    const deadline = Date.now() + 30_000;
    while (countFds(rcv.child.pid) < fd0 + n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const held = countFds(rcv.child.pid) - fd0;
    if (held < n) throw new Error(`receiver holds ${held} of ${n} connections`);
    await new Promise((r) => setTimeout(r, 2_000));
    const now = sampler.sample()?.rssKb ?? 0;
    sampler.stop();
    const peakMb = sampler.peakRssKb / 1024;
    await clients.stop();
    await rcv.child.stop();
    return {
      scenario: "idle",
      status: "ok",
      peak_rss_mb: peakMb,
      targets: [target(`< 300 MB RSS with ${n} connections`, peakMb, 300, "<")],
      extra: {
        connections: held,
        rss_before_mb: rss0 / 1024,
        rss_held_mb: now / 1024,
        kb_per_connection: (now - rss0) / n,
      },
    };
  },
};
