/**
 * The default ports of the programs, defined once: the receivers' configs,
 * `start`'s summary, the generator's target and the proxy use these.
 *
 * @module
 */

/** Heka stream framing over TCP (`TCPRCVR_BIND_ADDRESS`). */
export const TCP_RECEIVER_PORT = 35000;
/** Heka stream framing over TLS (`TCPRCVR_TLS_BIND_ADDRESS`). */
export const TCP_RECEIVER_TLS_PORT = 35002;
/** HTTP POSTs (`RCVR_BIND_ADDRESS`). */
export const HTTP_RECEIVER_PORT = 35001;
/** The stats proxy and dashboard (`PROXY_HTTP_PORT`). */
export const STATS_PROXY_PORT = 9010;
