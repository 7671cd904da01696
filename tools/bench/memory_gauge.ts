/**
 * The machine's price of fresh memory: how fast a process writes memory it
 * touches for the first time against memory it already touched.
 *
 * On a bare machine the two differ by a few times. On this project's
 * development VM (Firecracker under PVM with free-page reporting,
 * `page_reporting.page_reporting_order=11` on the kernel command line) the
 * host backs a guest page only on its first touch and takes back what the
 * guest freed: 0.25 against 20 GB/s, measured. Every byte a program stores
 * in new memory — nats-server's page cache as its stream grows, a Go heap
 * growing — then costs about 4 CPU-seconds per GB, and the bench's
 * absolute numbers move with how much recently freed memory the guest
 * still holds. The bench records the gauge with every run.
 *
 * @module
 */

/** What {@link measureMemoryTouch} found. */
export interface MemoryTouch {
  /** Writing memory for the first time (page faults included), GB/s. */
  fresh_gb_s: number;
  /** Writing the same memory again, GB/s. */
  reused_gb_s: number;
}

/**
 * Fills a fresh buffer of `bytes` twice and times each pass. Takes about a
 * second on the development VM with the default 256 MiB.
 */
export function measureMemoryTouch(bytes = 256 * 1024 * 1024): MemoryTouch {
  const buf = new Uint8Array(bytes);
  const t0 = performance.now();
  buf.fill(1);
  const t1 = performance.now();
  buf.fill(2);
  const t2 = performance.now();
  const gbPerS = (ms: number) => Math.round(bytes / 1e6 / Math.max(ms, 0.001) * 100) / 100;
  return { fresh_gb_s: gbPerS(t1 - t0), reused_gb_s: gbPerS(t2 - t1) };
}
