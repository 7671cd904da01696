/**
 * TCP receiver scenarios: one or 16 connections, TLS, packed or one
 * JetStream message each.
 *
 * @module
 */
import type { Scale } from "./scale.ts";
import { freePort } from "../../../testing/free_port.ts";
import { target, type TargetCheck } from "../results.ts";
import { type Scenario, SEED_RATE } from "./context.ts";
import { rateOf, rateResult } from "./measure.ts";
import { startReceiver } from "./receivers.ts";
import { resetStream, waitLines } from "./stored.ts";

/** A self-signed certificate for 127.0.0.1 made with `openssl` in a temp dir (TLS scenarios). */
async function benchCertificate(): Promise<{ dir: string; cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lm-bench-tls-" });
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      // An end-entity certificate: rustls refuses a CA certificate as the server's.
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`openssl: ${new TextDecoder().decode(out.stderr)}`);
  return { dir, cert: `${dir}/cert.pem`, key: `${dir}/key.pem` };
}

export function tcpScenario(
  name: string,
  connections: number,
  count: (s: Scale) => number,
  o: { tls?: boolean; packed?: boolean } = {},
): Scenario {
  const packed = o.packed ?? true;
  return {
    name,
    description: `${connections} TCP connection(s)${
      o.tls ? " over TLS" : ""
    }, 3 KB messages, into receive-tcp (${
      packed ? "packed, default" : "TCPRCVR_PACK=false: one JetStream message each"
    })`,
    repeatable: true,
    async run(ctx, scope) {
      await resetStream(ctx);
      const n = count(ctx.scale);
      const tls = o.tls ? await benchCertificate() : undefined;
      const rcvPort = freePort();
      const rcv = tls
        ? await startReceiver(ctx, scope, name, "tcp", {
          env: {
            TCPRCVR_TLS_CERT: tls.cert,
            TCPRCVR_TLS_KEY: tls.key,
            TCPRCVR_TLS_ONLY: "true",
            TCPRCVR_TLS_BIND_ADDRESS: `127.0.0.1:${rcvPort}`,
            TCPRCVR_PACK: String(packed),
          },
        }).then((r) => ({ ...r, port: rcvPort }))
        : await startReceiver(ctx, scope, name, "tcp", { env: { TCPRCVR_PACK: String(packed) } });
      const sampler = scope.sample(rcv.child.pid);
      const natsSampler = scope.sample(ctx.nats.pid!);
      const cpu0 = sampler.cpuSeconds();
      const natsCpu0 = natsSampler.cpuSeconds();
      const sender = scope.start(ctx, name, "frame_sender", "tools/bench/frame_sender.ts", {
        args: [
          "--file",
          ctx.framesFile,
          "--port",
          String(rcv.port),
          "--connections",
          String(connections),
          "--count",
          String(n),
          ...(tls ? ["--tls-ca", tls.cert] : []),
        ],
      });
      const senderSampler = scope.sample(sender.pid);
      const start = await sender.event("start", 30_000);
      const senderCpu0 = senderSampler.cpuSeconds();
      const stored = await waitLines(ctx, n, rcv, [sender, rcv.child], packed);
      const cpu1 = sampler.cpuSeconds();
      sampler.stop();
      const senderCpu = senderSampler.cpuSeconds() - senderCpu0;
      const natsCpu = natsSampler.cpuSeconds() - natsCpu0;
      const seconds = (stored.lastMs - Number(start.t)) / 1000;
      const result = rateResult(ctx, name, {
        messages: n,
        seconds,
        cpuSeconds: cpu1 - cpu0,
        peakRssKb: sampler.peakRssKb,
      }, (rate) => {
        const suffix = packed ? "" : "-per-message";
        const one = rateOf(ctx, `tcp-1${suffix}`);
        if (o.tls) {
          return one ? [target(">= 0.7 x tcp-1 (TLS costs <= 30 %)", rate, 0.7 * one, ">=")] : [];
        }
        if (connections === 1) {
          const t: TargetCheck[] = [];
          const base = rateOf(ctx, "baseline");
          const factor = packed ? 2 : 0.8;
          if (base) t.push(target(`>= ${factor} x baseline`, rate, factor * base, ">="));
          t.push(target(`>= 6 x seed (${6 * SEED_RATE})`, rate, 6 * SEED_RATE, ">="));
          return t;
        }
        const t: TargetCheck[] = [];
        if (one) t.push(target(`>= tcp-1${suffix}`, rate, one, ">="));
        if (packed && sampler.peakRssKb > 0) {
          t.push(target("peak RSS < 300 MB", sampler.peakRssKb / 1024, 300, "<"));
        }
        return t;
      });
      await sender.wait(30_000);
      const status = await rcv.child.stop();
      if (tls) await Deno.remove(tls.dir, { recursive: true });
      result.extra = {
        receiver_exit: status.code,
        load_cpu_percent: (100 * senderCpu) / seconds,
        receiver_cpu_percent: (100 * (cpu1 - cpu0)) / seconds,
        nats_cpu_percent: (100 * natsCpu) / seconds,
      };
      return result;
    },
  };
}
