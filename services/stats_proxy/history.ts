/**
 * What the stats proxy remembers: the last N events (already serialized,
 * replayed to each new client) and which sender reported which metric
 * (`GET /config`).
 *
 * @module
 */

/** A fixed-size ring of the most recent items, oldest first when listed. */
export class Ring<T> {
  readonly #items: (T | undefined)[];
  #start = 0;
  #size = 0;

  /** @param capacity how many items are kept (0 keeps none) */
  constructor(readonly capacity: number) {
    this.#items = new Array(capacity);
  }

  /** How many items are held. */
  get size(): number {
    return this.#size;
  }

  /** Adds an item, evicting the oldest when full. Returns the evicted item, if any. */
  push(item: T): T | undefined {
    if (this.capacity === 0) return item;
    if (this.#size < this.capacity) {
      this.#items[(this.#start + this.#size) % this.capacity] = item;
      this.#size++;
      return undefined;
    }
    const evicted = this.#items[this.#start];
    this.#items[this.#start] = item;
    this.#start = (this.#start + 1) % this.capacity;
    return evicted;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#start];
    this.#items[this.#start] = undefined;
    this.#start = (this.#start + 1) % this.capacity;
    this.#size--;
    return item;
  }

  /** The oldest item, without removing it. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#start];
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const out: T[] = new Array(this.#size);
    for (let i = 0; i < this.#size; i++) out[i] = this.#items[(this.#start + i) % this.capacity]!;
    return out;
  }

  /** Drops every item. */
  clear(): void {
    this.#items.fill(undefined);
    this.#start = 0;
    this.#size = 0;
  }
}

/** The `GET /config` answer: `{MetricType: {Sender: true}}`. */
export type MetricCatalogJson = Record<string, Record<string, true>>;

/**
 * Which senders reported which MetricTypes, built from the events seen.
 * Bounded so a misbehaving publisher cannot grow it forever.
 */
export class MetricCatalog {
  readonly #types = new Map<string, Set<string>>();
  #pairs = 0;

  /** @param maxPairs most (MetricType, Sender) pairs remembered */
  constructor(readonly maxPairs = 10_000) {}

  /** Records that `sender` reported `metricType`. */
  add(metricType: string, sender: string): void {
    let senders = this.#types.get(metricType);
    if (senders?.has(sender)) return;
    if (this.#pairs >= this.maxPairs) return;
    if (!senders) {
      senders = new Set();
      this.#types.set(metricType, senders);
    }
    senders.add(sender);
    this.#pairs++;
  }

  /** The catalog as JSON, keys sorted. */
  toJSON(): MetricCatalogJson {
    const out: MetricCatalogJson = {};
    for (const type of [...this.#types.keys()].sort()) {
      const senders: Record<string, true> = {};
      for (const s of [...this.#types.get(type)!].sort()) senders[s] = true;
      out[type] = senders;
    }
    return out;
  }
}
