/**
 * TLS certificate files of a server: read and checked at start (a wrong or
 * unreadable file is one clear error), read again when they change on disk
 * or on SIGHUP, so a renewed certificate is served without a restart.
 * Used by both receivers.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { errorMessage, type Logger } from "../log/mod.ts";
import { onReloadSignal } from "./reload_signal.ts";

/** Where a server's certificate chain and private key are (PEM files). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CA certificates a client certificate must chain to (TCP receiver only). */
  caFile?: string;
}

/** The PEM text of a certificate chain and its key, as `Deno.listenTls`/`Deno.serve` take them. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** PEM text of {@link TlsFiles.caFile}. */
  ca?: string;
}

/** A certificate or key that cannot be used; the message is one line naming the file. */
export class TlsFilesError extends Error {
  override name = "TlsFilesError";
}

function readPem(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    throw new TlsFilesError(`cannot read TLS ${what} ${path}: ${errorMessage(err)}`);
  }
}

/**
 * Reads both files and checks that they make a usable TLS server (PEM
 * certificate, matching private key) by opening a throw-away TLS listener
 * on a loopback port. Throws {@link TlsFilesError}.
 */
export function readTlsFiles(files: TlsFiles): TlsMaterial {
  const cert = readPem(files.certFile, "certificate");
  const key = readPem(files.keyFile, "key");
  if (!cert.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TlsFilesError(`TLS certificate ${files.certFile} holds no PEM certificate`);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw new TlsFilesError(`TLS key ${files.keyFile} holds no PEM private key`);
  }
  let ca: string | undefined;
  if (files.caFile !== undefined) {
    ca = readPem(files.caFile, "client CA file");
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
      throw new TlsFilesError(`TLS client CA file ${files.caFile} holds no PEM certificate`);
    }
  }
  try {
    Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key }).close();
  } catch (err) {
    throw new TlsFilesError(
      `TLS certificate ${files.certFile} and key ${files.keyFile} cannot be used together: ${
        errorMessage(err)
      }`,
    );
  }
  return ca === undefined ? { cert, key } : { cert, key, ca };
}

/** Options of {@link watchTlsFiles}. */
export interface WatchTlsOptions {
  /** Called with the new material after the files changed and passed {@link readTlsFiles}. */
  onChange: (material: TlsMaterial) => void | Promise<void>;
  log: Logger;
  /** Quiet time after the last file event before reading (renewals write several files). */
  settleMs?: number;
}

/** Stops a {@link watchTlsFiles}. */
export interface TlsWatch {
  /** Reads the files now (what SIGHUP does); resolves when handled. */
  reload(): Promise<void>;
  close(): void;
}

/**
 * Watches the certificate and key: on a change of either file (also a
 * rename over it, as certbot and Kubernetes do) or on SIGHUP, reads both
 * again and hands them to `onChange` if they differ and are valid. A bad
 * renewal is logged and the current certificate stays in use.
 */
export function watchTlsFiles(
  files: TlsFiles,
  current: TlsMaterial,
  o: WatchTlsOptions,
): TlsWatch {
  let last = current;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = Promise.resolve();
  const reload = (why: string): Promise<void> => {
    running = running.then(async () => {
      if (closed) return;
      let next: TlsMaterial;
      try {
        next = readTlsFiles(files);
      } catch (err) {
        o.log.error("TLS files not reloaded; the current certificate stays in use", {
          reason: why,
          error: errorMessage(err),
        });
        return;
      }
      if (next.cert === last.cert && next.key === last.key && next.ca === last.ca) return;
      last = next;
      try {
        await o.onChange(next);
        o.log.info("TLS certificate reloaded", { reason: why, cert: files.certFile });
      } catch (err) {
        o.log.error("TLS certificate reload failed", { reason: why, error: errorMessage(err) });
      }
    });
    return running;
  };
  const paths = new Set(
    [files.certFile, files.keyFile, ...(files.caFile ? [files.caFile] : [])].map((f) => resolve(f)),
  );
  const dirs = [...new Set([...paths].map((p) => dirname(p)))];
  let watcher: Deno.FsWatcher | undefined;
  try {
    watcher = Deno.watchFs(dirs, { recursive: false });
  } catch (err) {
    o.log.warn("cannot watch TLS files; reload them with SIGHUP", { error: errorMessage(err) });
  }
  if (watcher) {
    const w = watcher;
    (async () => {
      for await (const e of w) {
        // Kubernetes swaps a `..data` symlink: any event in the directory counts.
        if (!e.paths.some((p) => paths.has(p) || p.includes("..data"))) continue;
        clearTimeout(timer);
        timer = setTimeout(() => reload("file changed"), o.settleMs ?? 200);
      }
    })().catch(() => {});
  }
  const stopSignal = onReloadSignal(() => reload("SIGHUP"));
  return {
    reload: () => reload("requested"),
    close() {
      closed = true;
      clearTimeout(timer);
      stopSignal();
      try {
        watcher?.close();
      } catch {
        // already closed
      }
    },
  };
}
