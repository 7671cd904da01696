/**
 * Pacing the generator: a shared budget of messages by rate, count and
 * duration that every connection draws from, and the counters senders keep.
 *
 * @module
 */

/** Options of a {@link Pacer}. */
export interface PacerOptions {
  /** Messages per second, all takers together; 0 = no limit. */
  rate: number;
  /** Messages in total; 0 = no limit. */
  count: number;
  /** Milliseconds from the pacer's creation; 0 = no limit. */
  durationMs: number;
}

/** At most this much lateness is made up with a burst (ms of messages). */
const MAX_CATCH_UP_MS = 100;

/**
 * Grants permission to send, as a token bucket refilled at `rate`. A taker
 * that fell behind (backpressure) gets at most {@link MAX_CATCH_UP_MS} of
 * messages at once, not the whole backlog.
 */
export class Pacer {
  readonly #o: PacerOptions;
  readonly #start = performance.now();
  /** Messages granted so far. */
  #granted = 0;
  /** Messages the rate budget has granted (excludes credit forgone while behind). */
  #budgetBase = 0;
  #stopped = false;
  readonly #sleepers = new Set<() => void>();

  constructor(o: PacerOptions) {
    this.#o = o;
  }

  /** Messages granted so far. */
  get granted(): number {
    return this.#granted;
  }

  /** Whether {@link stop} was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Whether the budget is spent or {@link stop} was called. */
  get done(): boolean {
    if (this.#stopped) return true;
    if (this.#o.count > 0 && this.#granted >= this.#o.count) return true;
    return this.#o.durationMs > 0 && performance.now() - this.#start >= this.#o.durationMs;
  }

  /** Ends every take now and from now on. */
  stop(): void {
    this.#stopped = true;
    for (const wake of this.#sleepers) wake();
    this.#sleepers.clear();
  }

  /** Sleeps `ms` unless stopped first. */
  sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  /**
   * Waits until some messages may be sent; returns how many (1 to `max`),
   * or 0 when the budget is spent or the pacer stopped.
   */
  async take(max: number): Promise<number> {
    for (;;) {
      if (this.done) return 0;
      let n = max;
      if (this.#o.count > 0) n = Math.min(n, this.#o.count - this.#granted);
      const rate = this.#o.rate;
      if (rate > 0) {
        const elapsed = performance.now() - this.#start;
        const due = Math.floor((elapsed * rate) / 1000);
        const floor = due - Math.ceil((MAX_CATCH_UP_MS * rate) / 1000);
        if (this.#budgetBase < floor) this.#budgetBase = floor;
        const available = due - this.#budgetBase;
        if (available <= 0) {
          const wait = ((this.#budgetBase + 1) * 1000) / rate - elapsed;
          await this.sleep(Math.max(1, wait));
          continue;
        }
        n = Math.min(n, available);
        this.#budgetBase += n;
      }
      this.#granted += n;
      return n;
    }
  }
}

/** What senders count. */
export interface SendStats {
  /** Messages written (TCP) or answered 2xx (HTTP). */
  sent: number;
  /** Bytes of those messages (framing included for TCP). */
  bytes: number;
  /** Failed attempts: connection errors, non-2xx answers other than 503. */
  errors: number;
  /** Messages given up after failed attempts (counted once each). */
  failed: number;
  /** HTTP: requests retried after a 503. */
  retried: number;
  /** HTTP: answers by status code. */
  statuses: Record<string, number>;
}

/** Fresh zeroed {@link SendStats}. */
export function newSendStats(): SendStats {
  return { sent: 0, bytes: 0, errors: 0, failed: 0, retried: 0, statuses: {} };
}
