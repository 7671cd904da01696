/**
 * Counters and gauges of one program, readable as JSON (`/debug/vars`) and
 * Prometheus text (`/metrics`).
 *
 * @module
 */

/** A monotonically growing count. Increment `value` directly on hot paths. */
export class Counter {
  value = 0;
  constructor(readonly name: string, readonly help: string) {}
  /** Adds `n` (default 1). */
  inc(n = 1): void {
    this.value += n;
  }
}

/** A value read when asked. */
export class Gauge {
  constructor(readonly name: string, readonly help: string, readonly read: () => number) {}
}

/** A program's counters and gauges. */
export class MetricsRegistry {
  readonly #counters = new Map<string, Counter>();
  readonly #gauges = new Map<string, Gauge>();

  /** @param prefix Prometheus metric name prefix, e.g. `lagermeister_tcp_receiver` */
  constructor(readonly prefix: string) {}

  /** Registers (or returns the existing) counter. Names are snake_case. */
  counter(name: string, help: string): Counter {
    let c = this.#counters.get(name);
    if (!c) {
      c = new Counter(name, help);
      this.#counters.set(name, c);
    }
    return c;
  }

  /** Registers a gauge read on demand. */
  gauge(name: string, help: string, read: () => number): Gauge {
    const g = new Gauge(name, help, read);
    this.#gauges.set(name, g);
    return g;
  }

  /** Every counter and gauge by name. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.#counters.values()) out[c.name] = c.value;
    for (const g of this.#gauges.values()) out[g.name] = g.read();
    return out;
  }

  /** Prometheus text exposition format. */
  prometheus(): string {
    let out = "";
    for (const c of this.#counters.values()) {
      const n = `${this.prefix}_${c.name}_total`;
      out += `# HELP ${n} ${c.help}\n# TYPE ${n} counter\n${n} ${c.value}\n`;
    }
    for (const g of this.#gauges.values()) {
      const n = `${this.prefix}_${g.name}`;
      out += `# HELP ${n} ${g.help}\n# TYPE ${n} gauge\n${n} ${g.read()}\n`;
    }
    return out;
  }
}
