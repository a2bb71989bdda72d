// Timing helpers for the benchmark. A rate is measured in-process (no node start-up in it), after
// one warm-up pass (JIT, page cache), as the median of several passes: on a shared machine one
// pass can be several times slower than the next, and the median ignores a single outlier.
// Each pass also records the process CPU time it used (user + system, all threads: GC included),
// which varies far less than wall time when other work competes for the cores.

export interface Pass {
  /** Work units done (events decoded / replayed). */
  units: number;
  wallS: number;
  cpuS: number;
}

export interface Measured {
  units: number;
  /** Median wall time of the measured passes, and the CPU time of that same pass. */
  wallS: number;
  cpuS: number;
  passes: Pass[];
}

export async function timed(fn: () => Promise<number> | number): Promise<Pass> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const units = await fn();
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { units, wallS, cpuS: (c.user + c.system) / 1e6 };
}

/** One warm-up pass (discarded), then `runs` passes; reports the pass with the median wall time. */
export async function median(runs: number, fn: () => Promise<number> | number, warmup = 1): Promise<Measured> {
  for (let i = 0; i < warmup; i++) await fn();
  const passes: Pass[] = [];
  for (let i = 0; i < runs; i++) passes.push(await timed(fn));
  const sorted = [...passes].sort((a, b) => a.wallS - b.wallS);
  const mid = sorted[Math.floor(sorted.length / 2)];
  const units = passes[0].units;
  for (const p of passes) if (p.units !== units) throw new Error(`bench: passes disagree on the work done (${p.units} vs ${units})`);
  return { units, wallS: mid.wallS, cpuS: mid.cpuS, passes };
}

export function median3Seconds(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Like median() for several passes measured together: one warm-up each, then round after round
 * of one pass of each, so a burst of load from elsewhere hits all of them alike (their ratios
 * are what the table reports).
 */
export async function interleavedMedians(runs: number, fns: (() => Promise<number> | number)[]): Promise<Measured[]> {
  for (const fn of fns) await fn();
  const passes: Pass[][] = fns.map(() => []);
  for (let r = 0; r < runs; r++) for (let i = 0; i < fns.length; i++) passes[i].push(await timed(fns[i]));
  return passes.map((ps) => {
    const sorted = [...ps].sort((a, b) => a.wallS - b.wallS);
    const mid = sorted[Math.floor(sorted.length / 2)];
    for (const p of ps) if (p.units !== ps[0].units) throw new Error(`bench: passes disagree on the work done (${p.units} vs ${ps[0].units})`);
    return { units: ps[0].units, wallS: mid.wallS, cpuS: mid.cpuS, passes: ps };
  });
}
