/**
 * Memory and CPU of a process from `/proc/<pid>/status` and
 * `/proc/<pid>/stat` (Linux), sampled while it runs.
 *
 * @module
 */

/** One reading of a process. */
export interface ProcReading {
  /** Resident set size now (VmRSS), KiB. */
  rssKb: number;
  /** Peak resident set size so far (VmHWM), KiB. */
  hwmKb: number;
  /** User + system CPU time so far, seconds. */
  cpuSeconds: number;
}

let clockTicks: number | undefined;

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, usually 100). */
export function clockTicksPerSecond(): number {
  if (clockTicks !== undefined) return clockTicks;
  clockTicks = 100;
  try {
    const out = new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).outputSync();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    if (Number.isInteger(n) && n > 0) clockTicks = n;
  } catch {
    // keep 100
  }
  return clockTicks;
}

function statusKb(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) : 0;
}

/** Reads a process's memory and CPU, or undefined when it is gone. */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces and parentheses).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    const ticks = Number(rest[11]) + Number(rest[12]);
    return {
      rssKb: statusKb(status, "VmRSS"),
      hwmKb: statusKb(status, "VmHWM"),
      cpuSeconds: ticks / clockTicksPerSecond(),
    };
  } catch {
    return undefined;
  }
}

/** Open file descriptors of a process (0 when it is gone). */
export function countFds(pid: number): number {
  let n = 0;
  try {
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  } catch {
    return 0;
  }
  return n;
}

/** Samples a process every `intervalMs` and keeps its peak RSS and last CPU reading. */
export class ProcSampler {
  readonly pid: number;
  /** Peak RSS seen (VmHWM included), KiB. */
  peakRssKb = 0;
  /** The latest reading. */
  last: ProcReading | undefined;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(pid: number, intervalMs = 100) {
    this.pid = pid;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Takes a reading now (kept when the process is still there). */
  sample(): ProcReading | undefined {
    const r = readProc(this.pid);
    if (r) {
      this.last = r;
      this.peakRssKb = Math.max(this.peakRssKb, r.rssKb, r.hwmKb);
    }
    return this.last;
  }

  /** CPU seconds so far (latest reading). */
  cpuSeconds(): number {
    return this.sample()?.cpuSeconds ?? 0;
  }

  /** Stops sampling after a last reading. */
  stop(): void {
    this.sample();
    clearInterval(this.#timer);
  }
}
