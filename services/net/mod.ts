/**
 * The network edge of every program: TLS certificate files (read, checked,
 * renewed without a restart), servers that take renewed certificates,
 * client-certificate TLS, bearer tokens and SIGHUP reloads.
 *
 * @module
 */
export {
  type AuthRefusal,
  type AuthResult,
  BearerAuth,
  type BearerAuthOptions,
  readTokens,
  TokenSourceError,
} from "./bearer_auth.ts";
export {
  ClientCertConn,
  ClientCertListener,
  type ClientCertListenerOptions,
} from "./client_cert_listener.ts";
export { concatBytes } from "./bytes.ts";
export { type HttpServer, type HttpServerOptions, serveHttp } from "./http_server.ts";
export { onReloadSignal } from "./reload_signal.ts";
export { parseRetryAfter } from "./retry_after.ts";
export { loadBearerAuth, loadTls, watchTls } from "./startup.ts";
export {
  readTlsFiles,
  type TlsFiles,
  TlsFilesError,
  type TlsMaterial,
  type TlsWatch,
  watchTlsFiles,
  type WatchTlsOptions,
} from "./tls_files.ts";
