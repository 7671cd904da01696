/**
 * An HTTP or HTTPS server whose certificate can be replaced while it runs:
 * `Deno.serve` takes its certificate once, so a renewal starts a new server
 * on the same address and lets the old one finish its requests.
 *
 * @module
 */
import type { BindAddress } from "../config/mod.ts";
import { errorMessage, type Logger } from "../log/mod.ts";
import type { TlsMaterial } from "./tls_files.ts";
import { sleep } from "../runtime/async.ts";

/** Options of {@link serveHttp}. */
export interface HttpServerOptions {
  address: BindAddress;
  /** Serve HTTPS with this certificate. */
  tls?: TlsMaterial;
  handler: Deno.ServeHandler<Deno.NetAddr>;
  /** Called on the first listen only. */
  onListen?: (addr: Deno.NetAddr) => void;
  onError?: (err: unknown) => Response | Promise<Response>;
  log: Logger;
}

/** A running {@link serveHttp} server. */
export interface HttpServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Whether it serves HTTPS. */
  readonly tls: boolean;
  /** Serves new connections with another certificate (requests in flight finish on the old one). */
  setTls(material: TlsMaterial): Promise<void>;
  /** Stops accepting and waits for requests in flight (all servers, old ones too). */
  shutdown(): Promise<void>;
}

/** Starts serving at once (throws when the address is taken). */
export function serveHttp(o: HttpServerOptions): HttpServer {
  const start = (port: number, tls: TlsMaterial | undefined, first: boolean) =>
    Deno.serve({
      hostname: o.address.hostname,
      port,
      ...(tls ? { cert: tls.cert, key: tls.key } : {}),
      onListen: (a) => {
        if (first) o.onListen?.(a);
      },
      onError: o.onError,
    }, o.handler);
  let current = start(o.address.port, o.tls, true);
  const addr = current.addr;
  const draining = new Set<Promise<void>>();
  let stopped = false;
  return {
    addr,
    tls: o.tls !== undefined,
    async setTls(material) {
      if (stopped || o.tls === undefined) return;
      const old = current;
      const done = old.shutdown().catch(() => {});
      draining.add(done);
      done.finally(() => draining.delete(done));
      // The old listener closes at once; its port is free within a few ms.
      for (let attempt = 0;; attempt++) {
        try {
          current = start(addr.port, material, false);
          return;
        } catch (err) {
          if (!(err instanceof Deno.errors.AddrInUse) || attempt >= 200) {
            o.log.error("cannot listen again with the new certificate", {
              error: errorMessage(err),
            });
            throw err;
          }
          await sleep(10);
        }
      }
    },
    async shutdown() {
      stopped = true;
      await Promise.all([current.shutdown(), ...draining]);
    },
  };
}
