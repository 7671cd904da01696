/**
 * The NATS transport (services/broker/nats_transport.ts) over real
 * nats-servers: over plain TCP its socket reads into the frame assembler's
 * memory; when the server asks for TLS and the options did not, it dials
 * again and upgrades as nats.js does, and a certificate it cannot trust is
 * refused clearly.
 */
import assert from "node:assert/strict";
import { NatsServer } from "../../testing/mod.ts";
import { hasOpenssl, makeCertificates } from "../security/certs.ts";

const TRANSPORT = new URL("../../services/broker/nats_transport.ts", import.meta.url).href;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/**
 * A program connecting with no TLS options to `url`, sending itself
 * messages of 5 bytes to 1 MB, printing `ok` when all came back intact.
 */
const ROUND_TRIP = `
import { connectNats } from ${JSON.stringify(TRANSPORT)};
const nc = await connectNats({ servers: Deno.args[0], noAsyncTraces: true, reconnect: false, timeout: 5000 });
const sizes = [10, 300_000, 20, 1_000_000, 70_000, 5, 262_144];
const got: Uint8Array[] = [];
const sub = nc.subscribe("t", { callback: (_e, m) => got.push(m.data), max: sizes.length });
const sent = sizes.map((n, k) => new Uint8Array(n).map((_, i) => (i * 31 + k) % 251));
for (const s of sent) nc.publish("t", s);
await nc.flush();
await sub.closed;
if (got.length !== sent.length || got.some((g, k) => g.join() !== sent[k].join())) throw new Error("mangled");
await nc.close();
console.log("ok");
`;

async function roundTrip(url: string, denoArgs: string[]): Promise<Deno.CommandOutput> {
  const dir = await Deno.makeTempDir({ prefix: "lm-transport-" });
  try {
    await Deno.writeTextFile(`${dir}/round_trip.ts`, ROUND_TRIP);
    return await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `--config=${CONFIG}`, ...denoArgs, `${dir}/round_trip.ts`, url],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("plain TCP: messages from 5 bytes to 1 MB, mixed, arrive intact", async () => {
  const nats = await NatsServer.start();
  try {
    const out = await roundTrip(nats.url, []);
    assert.equal(
      new TextDecoder().decode(out.stdout).trim(),
      "ok",
      new TextDecoder().decode(out.stderr),
    );
  } finally {
    await nats.dispose();
  }
});

Deno.test({
  name:
    "a server requiring TLS, no TLS options: dialed again and upgraded (trusted CA), or refused clearly",
  ignore: !await hasOpenssl(),
  async fn() {
    const c = await makeCertificates();
    const nats = await NatsServer.start({
      config: [
        "tls {",
        `  cert_file: ${JSON.stringify(c.serverCert)}`,
        `  key_file: ${JSON.stringify(c.serverKey)}`,
        "}",
      ].join("\n"),
    });
    try {
      const url = `nats://127.0.0.1:${nats.port}`;
      const trusted = await roundTrip(url, [`--cert=${c.caCert}`]);
      const err = new TextDecoder().decode(trusted.stderr);
      assert.equal(new TextDecoder().decode(trusted.stdout).trim(), "ok", err);
      const untrusted = await roundTrip(url, []);
      assert.equal(untrusted.success, false);
      assert.match(new TextDecoder().decode(untrusted.stderr), /certificate|UnknownIssuer|tls/i);
    } finally {
      await nats.dispose();
      await Deno.remove(c.dir, { recursive: true });
    }
  },
});
