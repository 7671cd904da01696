/**
 * The in-process stub remote of `SUB_STUB_HTTP=true`: answers every POST
 * with 200 after a random 50–700 ms, like the original's stub, without any
 * network — for trying the pipeline without a remote service.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { FetchFn } from "./post_client.ts";
import { sleep } from "../runtime/async.ts";

/** Options of {@link stubFetch}. */
export interface StubOptions {
  /** Shortest answer delay (default 50 ms). */
  minDelayMs?: number;
  /** Longest answer delay (default 700 ms). */
  maxDelayMs?: number;
  /** Logs each stubbed POST at debug level. */
  log?: Logger;
}

/** A fetch that answers like a healthy remote, slowly, without a network. */
export function stubFetch(o: StubOptions = {}): FetchFn {
  const min = o.minDelayMs ?? 50;
  const max = o.maxDelayMs ?? 700;
  return async (_url, init) => {
    const signal = init.signal ?? undefined;
    const delay = min + Math.random() * (max - min);
    if (!(await sleep(delay, signal))) throw signal?.reason;
    const body = init.body;
    const bytes = body instanceof Uint8Array ? body.length : 0;
    o.log?.debug("stub remote accepted a batch", { bytes, delay_ms: Math.round(delay) });
    return Response.json({ status: "ok", stub: true });
  };
}
