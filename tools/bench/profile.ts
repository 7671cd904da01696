/**
 * Reading V8 `.cpuprofile` files (written by `deno run --cpu-prof`): the
 * hottest functions by self time, and by inclusive time.
 *
 * @module
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One function's share of a profile. */
export interface HotFunction {
  /** `name file:line` (line 1-based; file relative to the repository or the npm package). */
  where: string;
  /** Time spent in the function itself, ms. */
  selfMs: number;
  /** Time with the function on the stack, ms. */
  totalMs: number;
  /** Self time as a share of all sampled time (idle excluded), percent. */
  selfPercent: number;
}

function shortUrl(url: string): string {
  const npm = url.indexOf("/npm/registry.npmjs.org/");
  if (npm >= 0) return "npm:" + url.slice(npm + "/npm/registry.npmjs.org/".length);
  const services = url.indexOf("/services/");
  if (services >= 0) return url.slice(services + 1);
  return url.replace(/^ext:/, "ext:");
}

function keyOf(f: CallFrame): string {
  const name = f.functionName || "(anonymous)";
  if (!f.url) return name;
  return `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

/**
 * The top functions of a profile by self time (idle time left out;
 * `(garbage collector)` and `(program)` are kept: they cost CPU).
 */
export function hotFunctions(profile: CpuProfile, top = 15): HotFunction[] {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const key = keyOf(node.callFrame);
    if (node.callFrame.functionName === "(idle)") continue;
    busy += us;
    self.set(key, (self.get(key) ?? 0) + us);
    // Inclusive: once per distinct function on the stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = keyOf(byId.get(at)!.callFrame);
      if (seen.has(k) || k === "(root)") continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, us]) => ({
      where,
      selfMs: us / 1000,
      totalMs: (total.get(where) ?? us) / 1000,
      selfPercent: busy > 0 ? (100 * us) / busy : 0,
    }));
}

/** The top functions by inclusive time whose file is in this repository's `services/`. */
export function hotProjectFunctions(profile: CpuProfile, top = 10): HotFunction[] {
  const all = hotFunctions(profile, Number.MAX_SAFE_INTEGER);
  return all.filter((f) => f.where.includes(" services/"))
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top);
}

/** Reads a `.cpuprofile` file. */
export async function readProfile(path: string): Promise<CpuProfile> {
  return JSON.parse(await Deno.readTextFile(path)) as CpuProfile;
}

/** A readable summary of a profile file. */
export async function summarizeProfile(path: string, top = 15): Promise<string> {
  const p = await readProfile(path);
  const fmt = (f: HotFunction) =>
    `  ${f.selfPercent.toFixed(1).padStart(5)}%  self ${
      f.selfMs.toFixed(0).padStart(6)
    } ms  total ${f.totalMs.toFixed(0).padStart(6)} ms  ${f.where}`;
  return [
    `${path}: top ${top} by self time`,
    ...hotFunctions(p, top).map(fmt),
    `project functions by inclusive time`,
    ...hotProjectFunctions(p).map(fmt),
  ].join("\n");
}

if (import.meta.main) {
  for (const path of Deno.args) console.log(await summarizeProfile(path) + "\n");
}
