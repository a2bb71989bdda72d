// `check`: evaluate every listed (trace, versions) pair against its golden, in parallel when the
// corpus is big, then (only with --update, never under CI) write changed and missing goldens and
// delete obsolete ones. Returns everything the reporters need; prints nothing itself.

import { existsSync, statSync, unlinkSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from './atomic.js';
import { discoverCorpus, type CheckJob, type ObsoleteGolden } from './corpus.js';
import { evaluateJob, type JobOutcome } from './evaluate.js';
import type { WorkRequest, WorkResponse } from './worker.js';

export interface Shard {
  index: number; // 1-based
  count: number;
}

export interface CheckOptions {
  update: boolean;
  /** Worker threads; undefined = as many as cores, used only when the corpus is big enough to pay off. */
  jobs?: number;
  shard?: Shard;
  /** Lines of context before the first difference. */
  context?: number;
  /** Device notes are divergences (`--strict-device`). */
  strictDevice?: boolean;
  onProgress?: (done: number, total: number, current: string) => void;
}

export type Action = 'none' | 'written' | 'created' | 'deleted';

export interface JobResult {
  job: CheckJob;
  outcome: JobOutcome;
  action: Action;
}

export interface ObsoleteResult extends ObsoleteGolden {
  action: Action;
}

export interface CheckReport {
  results: JobResult[];
  obsolete: ObsoleteResult[];
  exitCode: number;
}

/** `CI` set to anything but '', 0 or false (the convention of vitest's std-env and most CI tools). */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/**
 * A worker thread costs far more than its start-up (~0.1 s of module loading): it runs cold, and
 * V8 optimizes the same code again for its isolate, on the same cores (~0.5-0.7 s of CPU on the
 * compiler threads). So by default workers are used only for corpora big enough to pay that back.
 * Measured on the 2-core VM (node 20, `check --jobs 1` vs `--jobs 2`): 1000 traces of 4 KiB
 * (4 MiB) 1.1 s vs 1.3 s; 40 x 256 KiB (10 MiB) 1.5 s vs 1.7 s; 3000 x 4 KiB (12 MiB) 2.7 s both;
 * 16 x 2 MiB (32 MiB) 4.7 s vs 3.9 s. An explicit --jobs is obeyed whatever the size.
 */
const PARALLEL_BYTES = 24 << 20;
const PARALLEL_JOBS = 4096;

function worthParallel(jobs: CheckJob[]): boolean {
  if (jobs.length >= PARALLEL_JOBS) return true;
  let bytes = 0;
  for (const j of jobs) {
    try {
      bytes += statSync(j.trace).size;
    } catch {
      // a missing trace is reported by its job
    }
    if (bytes >= PARALLEL_BYTES) return true;
  }
  return false;
}

export function parseShard(text: string): Shard | null {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (m === null) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index >= 1 && index <= count ? { index, count } : null;
}

/** Shards split the sorted job list round-robin, so each gets a mix of folders. */
function inShard(i: number, shard: Shard | undefined): boolean {
  return shard === undefined || i % shard.count === shard.index - 1;
}

function workerFile(): string | null {
  // Only the compiled build has worker.js next to this file; under vitest (TS sources) we run inline.
  const url = new URL('./worker.js', import.meta.url);
  if (url.protocol !== 'file:') return null;
  const path = fileURLToPath(url);
  return existsSync(path) ? path : null;
}

async function evaluateAll(jobs: CheckJob[], opts: CheckOptions): Promise<JobOutcome[]> {
  const context = opts.context ?? 5;
  const strict = opts.strictDevice === true;
  const outcomes = new Array<JobOutcome>(jobs.length);
  const threads = Math.max(1, Math.min(opts.jobs ?? cpus().length, jobs.length));
  const file = workerFile();
  const parallel = file !== null && threads > 1 && (opts.jobs !== undefined || worthParallel(jobs));
  let done = 0;
  const progress = (i: number): void => {
    done++;
    opts.onProgress?.(done, jobs.length, jobs[i].golden);
  };
  if (!parallel) {
    for (let i = 0; i < jobs.length; i++) {
      outcomes[i] = await evaluateJob(jobs[i], context, strict);
      progress(i);
    }
    return outcomes;
  }
  // `threads` evaluators: this thread plus threads-1 workers, all taking batches of jobs from one
  // queue. This thread has its modules loaded and its JIT warm already, so it works from the
  // first millisecond while the workers start (~0.25 s each on a loaded machine) and warm up;
  // with one worker per core instead it sat idle and the run paid one more start-up. Each worker
  // keeps two batches in flight, so it never waits for a round trip through this thread (which
  // answers only between its own batches). Batches are small enough (at most 1/8 of a share)
  // that the last ones still balance the load.
  const batchSize = Math.max(1, Math.min(32, Math.ceil(jobs.length / (threads * 8))));
  let next = 0;
  const take = (): number[] => {
    const ids: number[] = [];
    while (ids.length < batchSize && next < jobs.length) ids.push(next++);
    return ids;
  };
  let resolveAll!: () => void;
  let rejectAll!: (err: Error) => void;
  const workersDone = new Promise<void>((resolve, reject) => {
    resolveAll = resolve;
    rejectAll = reject;
  });
  workersDone.catch(() => undefined); // awaited below; must not count as unhandled meanwhile
  const workers: Worker[] = [];
  const retired = new Set<Worker>();
  const inFlight = new Map<Worker, number>();
  let live = threads - 1;
  let failure: Error | null = null;
  const fail = (err: Error): void => {
    failure ??= err;
    workers.forEach((x) => void x.terminate());
    rejectAll(err);
  };
  const send = (w: Worker): void => {
    const ids = take();
    if (ids.length === 0) return;
    w.postMessage({ jobs: ids.map((id) => ({ id, job: jobs[id] })), context, strictDevice: strict } satisfies WorkRequest);
    inFlight.set(w, (inFlight.get(w) ?? 0) + 1);
  };
  const retireIfDone = (w: Worker): void => {
    if (next < jobs.length || (inFlight.get(w) ?? 0) > 0 || retired.has(w)) return;
    retired.add(w);
    void w.terminate();
    if (--live === 0) resolveAll();
  };
  for (let t = 0; t < threads - 1; t++) {
    const w = new Worker(file);
    workers.push(w);
    w.on('message', (res: WorkResponse) => {
      inFlight.set(w, (inFlight.get(w) ?? 1) - 1);
      for (const r of res.results) {
        outcomes[r.id] = r.outcome;
        progress(r.id);
      }
      send(w);
      retireIfDone(w);
    });
    w.on('error', fail);
    // A worker that dies without an error event (out of memory, process.exit) must not hang check.
    w.on('exit', (code) => {
      if (!retired.has(w)) fail(new Error(`check worker exited with code ${code} before finishing its jobs`));
    });
    send(w);
    send(w);
  }
  for (let ids = take(); ids.length > 0 && failure === null; ids = take()) {
    for (const id of ids) {
      outcomes[id] = await evaluateJob(jobs[id], context, strict);
      progress(id);
    }
    // Let the workers' results in (and hand them their next batches) between our batches.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // The queue is empty: workers with nothing in flight end now, the others with their last result.
  for (const w of workers) retireIfDone(w);
  if (live === 0) resolveAll();
  await workersDone;
  return outcomes;
}

/** Exit status: 2 bad input, else 1 any mismatch/missing/obsolete, else 125 unexpressible, else 0. */
function exitCodeOf(results: JobResult[], obsolete: ObsoleteResult[]): number {
  let bad = false;
  let fail = false;
  let skip = false;
  for (const r of results) {
    const o = r.outcome;
    if (o.kind === 'error') bad = true;
    else if (o.kind === 'unexpressible') skip = true;
    else if ((o.kind === 'mismatch' || o.kind === 'missing') && r.action === 'none') {
      // A changed golden whose replay now has unsupported events: this model version cannot express
      // the trace (git bisect run: skip) rather than "behavior changed".
      if (o.kind === 'mismatch' && o.unsupported > 0) skip = true;
      else fail = true;
    }
  }
  if (obsolete.some((o) => o.action === 'none')) fail = true;
  return bad ? 2 : fail ? 1 : skip ? 125 : 0;
}

export async function runCheck(paths: string[], opts: CheckOptions): Promise<CheckReport> {
  const corpus = discoverCorpus(paths.length > 0 ? paths : ['traces']);
  const jobs = corpus.jobs.filter((_, i) => inShard(i, opts.shard));
  const obsoleteIn = corpus.obsolete.filter((_, i) => inShard(i, opts.shard));
  const outcomes = await evaluateAll(jobs, opts);
  const results: JobResult[] = jobs.map((job, i) => ({ job, outcome: outcomes[i], action: 'none' as Action }));
  const obsolete: ObsoleteResult[] = obsoleteIn.map((o) => ({ ...o, action: 'none' as Action }));
  if (opts.update) {
    for (const r of results) {
      if (r.outcome.kind === 'mismatch') {
        writeFileAtomic(r.job.golden, r.outcome.actual);
        r.action = 'written';
      } else if (r.outcome.kind === 'missing') {
        writeFileAtomic(r.job.golden, r.outcome.actual);
        r.action = 'created';
      }
    }
    for (const o of obsolete) {
      unlinkSync(o.path);
      o.action = 'deleted';
    }
  }
  return { results, obsolete, exitCode: exitCodeOf(results, obsolete) };
}
