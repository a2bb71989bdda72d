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
 * Worker threads pay their start-up (~100 ms each: module loading) only when there is enough work:
 * traces totaling this many bytes (~80k events, ~0.4 s on one core), or this many goldens. Measured
 * on the 79-golden seed + lab corpus (13 KiB of traces): 1.0 s inline, 1.4 s with two workers.
 */
const PARALLEL_BYTES = 1 << 20;
const PARALLEL_JOBS = 256;

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
      outcomes[i] = await evaluateJob(jobs[i], context);
      progress(i);
    }
    return outcomes;
  }
  await new Promise<void>((resolveAll, rejectAll) => {
    let next = 0;
    let live = threads;
    const workers: Worker[] = [];
    const retired = new Set<Worker>();
    const feed = (w: Worker): void => {
      if (next >= jobs.length) {
        retired.add(w);
        void w.terminate();
        if (--live === 0) resolveAll();
        return;
      }
      const id = next++;
      w.postMessage({ id, job: jobs[id], context } satisfies WorkRequest);
    };
    for (let t = 0; t < threads; t++) {
      const w = new Worker(file);
      workers.push(w);
      w.on('message', (res: WorkResponse) => {
        outcomes[res.id] = res.outcome;
        progress(res.id);
        feed(w);
      });
      w.on('error', (err) => {
        workers.forEach((x) => void x.terminate());
        rejectAll(err);
      });
      // A worker that dies without an error event (out of memory, process.exit) must not hang check.
      w.on('exit', (code) => {
        if (!retired.has(w)) {
          workers.forEach((x) => void x.terminate());
          rejectAll(new Error(`check worker exited with code ${code} before finishing its job`));
        }
      });
      feed(w);
    }
  });
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
