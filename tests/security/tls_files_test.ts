/**
 * Issue #15, certificate files: SIGHUP alone re-reads them (the file watcher
 * is held back here), a broken renewal keeps the current certificate, and
 * a change on disk is picked up without a signal.
 */
import assert from "node:assert/strict";
import { Logger } from "../../services/log/mod.ts";
import { readTlsFiles, type TlsMaterial, watchTlsFiles } from "../../services/net/tls_files.ts";
import { hasOpenssl, makeCertificates, renewServerCertificate } from "./certs.ts";
import { pollUntil } from "../helpers/wait.ts";

Deno.test({
  name: "TLS files: SIGHUP re-reads, a broken renewal keeps the current pair, file changes count",
  ignore: !(await hasOpenssl()),
  async fn() {
    const certs = await makeCertificates();
    const files = { certFile: certs.serverCert, keyFile: certs.serverKey };
    const first = readTlsFiles(files);
    const seen: TlsMaterial[] = [];
    const log = new Logger("test", "error");
    // settleMs far beyond the test: only SIGHUP can trigger a reload here.
    const slow = watchTlsFiles(files, first, {
      onChange: (m) => void seen.push(m),
      log,
      settleMs: 600_000,
    });
    try {
      await renewServerCertificate(certs, "by-sighup");
      Deno.kill(Deno.pid, "SIGHUP");
      assert.ok(await pollUntil(() => seen.length === 1, 10_000, 20), "SIGHUP reloads");
      assert.notEqual(seen[0].cert, first.cert);

      // A key that does not match the certificate: logged, not used.
      await Deno.copyFile(certs.clientKey, certs.serverKey);
      await slow.reload();
      assert.equal(seen.length, 1, "a broken pair is not handed on");
    } finally {
      slow.close();
    }

    await renewServerCertificate(certs, "valid-again");
    const fresh = readTlsFiles(files);
    const changes: TlsMaterial[] = [];
    const fast = watchTlsFiles(files, fresh, { onChange: (m) => void changes.push(m), log });
    try {
      await renewServerCertificate(certs, "by-file-change");
      assert.ok(await pollUntil(() => changes.length >= 1, 10_000, 20), "a file change reloads");
    } finally {
      fast.close();
      await Deno.remove(certs.dir, { recursive: true });
    }
  },
});
