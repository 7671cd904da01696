/**
 * BatchPoster: POSTs request bodies to one URL with a fixed number of
 * requests in flight, over kept-alive connections, retrying what may
 * succeed later. It knows nothing of what the bodies hold.
 *
 * Outcome of a body:
 * - `delivered` on a 2xx — for stores that answer per item (a
 *   {@link ResponseInterpreter}), once every item is settled: items that
 *   failed with 429/5xx are sent again alone (with backoff, without limit),
 *   items refused for their content are handed to `onRefused` (the dead
 *   letters) at once;
 * - retried without limit, with exponential backoff and jitter, on network
 *   errors, timeouts, 408, 429 and 5xx (a `Retry-After` is honoured);
 * - `rejected` after `rejectAttempts` answers of another status (other 4xx;
 *   3xx too: redirects are not followed, a POST must not become a GET);
 * - `aborted` when the poster is aborted (shutdown) before either.
 *
 * The URL may carry a secret (Sumo Logic puts it in the path): it is never
 * logged or returned in full, not even inside fetch's error messages.
 *
 * One POST and its answer are `post_client.ts`'s; the retry rules
 * (retryable statuses, backoff, `Retry-After`) are `retry_policy.ts`'s.
 *
 * @module
 */
import { errorMessage, type Logger } from "../log/mod.ts";
import type { ItemOutcome, ResponseInterpreter } from "./formats/format.ts";
import { sleep } from "../runtime/async.ts";
import { PostClient, type PostClientOptions } from "./post_client.ts";
import { backoffDelay } from "./retry_policy.ts";

/** One failed attempt, for metrics. */
export interface AttemptFailure {
  /** HTTP status, or 0 for a network error or timeout. */
  status: number;
  reason: string;
  /** Whether it is retried without limit (false: counts towards `rejectAttempts`). */
  retryable: boolean;
  /** 1 for the first attempt. */
  attempt: number;
  /** Pause before the next attempt; undefined when there is none. */
  delayMs: number | undefined;
}

/** How a submitted body ended. */
export type PostOutcome =
  | {
    kind: "delivered";
    status: number;
    attempts: number;
    /** Items refused one by one and handed to `onRefused` (per-item stores). */
    refused?: number;
  }
  | { kind: "rejected"; status: number; reason: string; attempts: number }
  | { kind: "aborted"; reason: string; attempts: number };

/** Options of a {@link BatchPoster}. */
export interface PosterOptions extends PostClientOptions {
  /** Answers of a non-retryable status before a body is rejected (≥ 1). */
  rejectAttempts: number;
  /** First backoff; doubles per attempt up to `retryMaxMs`, jittered to 50–100 %. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Longest `Retry-After` honoured (default 10 minutes). */
  maxRetryAfterMs?: number;
  /** Reads per-item results out of 2xx answers (ES bulk); needs `items` at submit. */
  response?: ResponseInterpreter;
  /** Called when items of a body are sent again alone. */
  onItemsRetried?: (count: number, status: number, reason: string) => void;
  log: Logger;
  /** Called after every failed attempt. */
  onAttemptFailed?: (f: AttemptFailure) => void;
}

/** Items of a body refused by the store, one group per status and reason. */
export interface RefusedItems {
  /** Indexes of the refused records in the submitted body, ascending. */
  indexes: number[];
  status: number;
  reason: string;
  attempts: number;
}

/** What {@link BatchPoster.submit} needs to settle a body item by item. */
export interface ItemHandling {
  /** Records in the submitted body. */
  count: number;
  /**
   * Stores refused items elsewhere (dead letters); resolves true once they
   * are safe, false when that was aborted (the body is then `aborted`).
   */
  onRefused: (refused: RefusedItems) => Promise<boolean>;
}

interface Job {
  body: Uint8Array;
  label: string;
  items: ItemHandling | undefined;
  resolve: (o: PostOutcome) => void;
}

/** Posts bodies to one URL, a fixed number at a time, retrying as described above. */
export class BatchPoster {
  readonly #o: PosterOptions;
  readonly #client: PostClient;
  readonly #queue: Job[] = [];
  readonly #abort = new AbortController();
  readonly #idle = new Set<() => void>();
  #active = 0;

  constructor(o: PosterOptions) {
    if (!(o.concurrency >= 1) || !(o.rejectAttempts >= 1)) {
      throw new RangeError("concurrency and rejectAttempts must be ≥ 1");
    }
    this.#o = o;
    this.#client = new PostClient(o, this.#abort.signal);
  }

  /** Requests in flight (including their backoff pauses). */
  get active(): number {
    return this.#active;
  }

  /** Bodies waiting for a free slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** The URL as it may be printed. */
  get redactedUrl(): string {
    return this.#client.redactedUrl;
  }

  /**
   * Queues a body; resolves with its outcome (never rejects). `label`
   * names it in logs (e.g. `batch 17 (100 messages)`). `body` must not be
   * changed afterwards.
   */
  submit(body: Uint8Array, label = "batch", items?: ItemHandling): Promise<PostOutcome> {
    if (this.#abort.signal.aborted) {
      return Promise.resolve({ kind: "aborted", reason: "poster closed", attempts: 0 });
    }
    const { promise, resolve } = Promise.withResolvers<PostOutcome>();
    this.#queue.push({ body, label, items, resolve });
    this.#pump();
    return promise;
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  /** Aborts every queued and in-flight body (their outcome: `aborted`). */
  abort(reason = "aborted"): void {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort(new DOMException(reason, "AbortError"));
    for (const job of this.#queue.splice(0)) {
      job.resolve({ kind: "aborted", reason, attempts: 0 });
    }
    this.#checkIdle();
  }

  /** Aborts what is left and releases the connections. */
  close(): void {
    this.abort("poster closed");
    this.#client.close();
  }

  /** Replaces the URL and its secret parts in a text (e.g. fetch's error messages). */
  scrub(text: string): string {
    return this.#client.scrub(text);
  }

  #pump(): void {
    while (this.#active < this.#o.concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#active++;
      this.#run(job).then(job.resolve, (err) =>
        job.resolve({
          kind: "aborted",
          reason: this.scrub(`internal error: ${errorMessage(err)}`),
          attempts: 0,
        })).finally(() => {
          this.#active--;
          this.#pump();
          this.#checkIdle();
        });
    }
  }

  #checkIdle(): void {
    if (this.#active !== 0 || this.#queue.length !== 0) return;
    for (const r of this.#idle) r();
    this.#idle.clear();
  }

  /** Delivers a job; then hands every body built for it back to the client. */
  async #run(job: Job): Promise<PostOutcome> {
    const bodies: Uint8Array[] = [];
    try {
      return await this.#deliver(job, bodies);
    } finally {
      for (const b of bodies) this.#client.retire(b);
    }
  }

  /** The request body for the records `pending` of `job` (all when undefined), kept in `bodies`. */
  async #body(job: Job, pending: number[] | undefined, bodies: Uint8Array[]): Promise<Uint8Array> {
    const body = await this.#client.body(job.body, pending);
    bodies.push(body);
    return body;
  }

  async #deliver(job: Job, bodies: Uint8Array[]): Promise<PostOutcome> {
    const o = this.#o;
    const signal = this.#abort.signal;
    const perItem = o.response !== undefined && job.items !== undefined;
    /** The records still to send (undefined: all of them). */
    let pending: number[] | undefined;
    let body = await this.#body(job, pending, bodies);
    let rejections = 0;
    let refused = 0;
    for (let attempt = 1;; attempt++) {
      if (signal.aborted) return { kind: "aborted", reason: "aborted", attempts: attempt - 1 };
      let r = await this.#client.attempt(body, perItem);
      if (r.ok && perItem) {
        const count = pending?.length ?? job.items!.count;
        let outcomes: ItemOutcome[] | undefined;
        try {
          outcomes = o.response!.interpret(r.text, count);
        } catch (err) {
          // A 2xx that does not say which items were stored: counted as a rejection, so
          // a store (or a proxy) that always answers so ends in dead letters, not a stall.
          r = {
            ok: false,
            status: r.status,
            reason: this.scrub(`unreadable answer: ${errorMessage(err)}`),
            retryable: false,
            retryAfterMs: undefined,
          };
        }
        if (r.ok && outcomes !== undefined) {
          const settled = await this.#settleItems(job, pending, outcomes, attempt);
          if (settled === undefined) {
            return {
              kind: "aborted",
              reason: "aborted while storing refused items",
              attempts: attempt,
            };
          }
          refused += settled.refused;
          if (settled.retry.length > 0) {
            pending = settled.retry;
            body = await this.#body(job, pending, bodies);
            const first = outcomes.find((x) => x.kind === "retry") as {
              status: number;
              reason: string;
            };
            o.onItemsRetried?.(pending.length, first.status, first.reason);
            const delayMs = backoffDelay(attempt, o.retryMinMs, o.retryMaxMs);
            if (attempt <= 3 || attempt % 10 === 0) {
              o.log.warn("items failed; retrying them alone", {
                batch: job.label,
                items: pending.length,
                status: first.status,
                reason: first.reason,
                attempt,
                retry_in_ms: Math.round(delayMs),
              });
            }
            if (!(await sleep(delayMs, signal))) {
              return { kind: "aborted", reason: first.reason, attempts: attempt };
            }
            continue;
          }
        }
      }
      if (r.ok) {
        if (attempt > 1) {
          o.log.info("batch delivered after retries", {
            batch: job.label,
            attempts: attempt,
            status: r.status,
            refused_items: refused || undefined,
          });
        }
        return refused > 0
          ? { kind: "delivered", status: r.status, attempts: attempt, refused }
          : { kind: "delivered", status: r.status, attempts: attempt };
      }
      if (signal.aborted) return { kind: "aborted", reason: r.reason, attempts: attempt };
      let delayMs: number | undefined;
      if (r.retryable) {
        delayMs = Math.max(
          backoffDelay(attempt, o.retryMinMs, o.retryMaxMs),
          Math.min(r.retryAfterMs ?? 0, o.maxRetryAfterMs ?? 600_000),
        );
      } else if (++rejections < o.rejectAttempts) {
        delayMs = backoffDelay(rejections, o.retryMinMs, o.retryMaxMs);
      }
      o.onAttemptFailed?.({
        status: r.status,
        reason: r.reason,
        retryable: r.retryable,
        attempt,
        delayMs,
      });
      if (delayMs === undefined) {
        o.log.warn("remote rejected the batch", {
          batch: job.label,
          url: this.#client.redactedUrl,
          status: r.status,
          reason: r.reason,
          attempts: attempt,
        });
        if (pending !== undefined) {
          // Items retried alone, now refused as a whole: they are refused items.
          const stored = await job.items!.onRefused({
            indexes: pending,
            status: r.status,
            reason: r.reason,
            attempts: attempt,
          });
          if (!stored) return { kind: "aborted", reason: r.reason, attempts: attempt };
          return {
            kind: "delivered",
            status: r.status,
            attempts: attempt,
            refused: refused + pending.length,
          };
        }
        return { kind: "rejected", status: r.status, reason: r.reason, attempts: attempt };
      }
      if (attempt <= 3 || attempt % 10 === 0) {
        o.log.warn("POST failed; retrying", {
          batch: job.label,
          url: this.#client.redactedUrl,
          status: r.status || undefined,
          reason: r.reason,
          attempt,
          retry_in_ms: Math.round(delayMs),
        });
      }
      if (!(await sleep(delayMs, signal))) {
        return { kind: "aborted", reason: r.reason, attempts: attempt };
      }
    }
  }

  /**
   * Hands refused items to `onRefused` (one call per status and reason);
   * returns the items to send again, or undefined when storing the refused
   * ones was aborted.
   */
  async #settleItems(
    job: Job,
    pending: number[] | undefined,
    outcomes: ItemOutcome[],
    attempt: number,
  ): Promise<{ retry: number[]; refused: number } | undefined> {
    const retry: number[] = [];
    const groups = new Map<string, RefusedItems>();
    for (let i = 0; i < outcomes.length; i++) {
      const x = outcomes[i];
      const index = pending === undefined ? i : pending[i];
      if (x.kind === "retry") retry.push(index);
      else if (x.kind === "refused") {
        const reason = this.scrub(x.reason);
        const key = `${x.status} ${reason}`;
        const g = groups.get(key);
        if (g === undefined) {
          groups.set(key, { indexes: [index], status: x.status, reason, attempts: attempt });
        } else g.indexes.push(index);
      }
    }
    let refused = 0;
    for (const g of groups.values()) {
      this.#o.log.warn("store refused items", {
        batch: job.label,
        items: g.indexes.length,
        status: g.status,
        reason: g.reason,
      });
      if (!(await job.items!.onRefused(g))) return undefined;
      refused += g.indexes.length;
    }
    return { retry, refused };
  }
}
