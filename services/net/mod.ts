/**
 * The network edge of every program: TLS certificate files (read, checked,
 * renewed without a restart), servers that take renewed certificates,
 * client-certificate TLS, bearer tokens and SIGHUP reloads.
 *
 * @module
 */
export * from "./bearer_auth.ts";
export * from "./client_cert_listener.ts";
export * from "./http_server.ts";
export * from "./reload_signal.ts";
export * from "./startup.ts";
export * from "./tls_files.ts";
