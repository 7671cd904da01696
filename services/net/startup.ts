/**
 * TLS and bearer tokens of a program at start: reads the certificate and
 * key named by `*_TLS_CERT`/`*_TLS_KEY` (exit 2 with one line when they
 * cannot be used) and watches them for renewal.
 *
 * @module
 */
import type { TokenSource } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { MetricsRegistry } from "../metrics/mod.ts";
import { BearerAuth, TokenSourceError } from "./bearer_auth.ts";
import {
  readTlsFiles,
  type TlsFiles,
  TlsFilesError,
  type TlsMaterial,
  watchTlsFiles,
} from "./tls_files.ts";
import { ExitError } from "../runtime/exit.ts";

/**
 * The certificate of `*_TLS_CERT`/`*_TLS_KEY`, or `undefined` when neither
 * is set. Exits 2 with one line naming the problem: only one of them set,
 * a file unreadable, not PEM, or key and certificate not matching.
 */
export function loadTls(
  program: string,
  prefix: string,
  certFile: string,
  keyFile: string,
  caFile = "",
): { files: TlsFiles; material: TlsMaterial } | undefined {
  if (certFile === "" && keyFile === "") {
    if (caFile !== "") {
      throw new ExitError(
        `${program}: ${prefix}TLS_CLIENT_CA needs ${prefix}TLS_CERT and ${prefix}TLS_KEY`,
        2,
      );
    }
    return undefined;
  }
  if (certFile === "" || keyFile === "") {
    throw new ExitError(
      `${program}: ${prefix}TLS_CERT and ${prefix}TLS_KEY must be set together (PEM files)`,
      2,
    );
  }
  const files: TlsFiles = caFile === "" ? { certFile, keyFile } : { certFile, keyFile, caFile };
  try {
    return { files, material: readTlsFiles(files) };
  } catch (err) {
    if (!(err instanceof TlsFilesError)) throw err;
    throw new ExitError(`${program}: ${err.message}`, 2);
  }
}

/** Re-reads the certificate on change or SIGHUP and hands it to `apply`. */
export function watchTls(
  tls: { files: TlsFiles; material: TlsMaterial },
  apply: (m: TlsMaterial) => Promise<void>,
  log: Logger,
): { close(): void } {
  return watchTlsFiles(tls.files, tls.material, { onChange: apply, log });
}

/**
 * Bearer-token checking for `source` (undefined when unset), re-reading a
 * token file on SIGHUP. Exits 2 with one line (never a token) when the
 * tokens cannot be read.
 */
export function loadBearerAuth(
  program: string,
  varName: string,
  source: TokenSource | undefined,
  o: { registry?: MetricsRegistry; counterPrefix?: string; log: Logger },
): BearerAuth | undefined {
  if (!source) return undefined;
  try {
    return new BearerAuth(source, o).reloadOnSignal();
  } catch (err) {
    if (!(err instanceof TokenSourceError)) throw err;
    throw new ExitError(`${program}: ${varName}: ${err.message}`, 2);
  }
}
