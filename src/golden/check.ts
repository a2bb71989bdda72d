// `check`: evaluate every listed (trace, versions) pair against its golden, in parallel when the
// corpus is big, then (only with --update, never under CI) write changed and missing goldens and
// delete obsolete ones. Returns everything the reporters need; prints nothing itself.

import { fork } from 'node:child_process';
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from './atomic.js';
import { discoverCorpus, type CheckJob, type ObsoleteGolden } from './corpus.js';
import { evaluateJob, type JobOutcome } from './evaluate.js';
import type { ShardRequest, ShardResponse } from './shard-process.js';

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
 * Parallel evaluators cost more than their start-up: each child process loads the modules
 * (~0.1-0.2 s) and runs cold while V8 optimizes the same code again, on the same cores. So by
 * default they are used only for corpora big enough to pay that back. These thresholds were
 * measured for the former worker threads (2-core VM, node 20, `--jobs 1` vs `--jobs 2`: 1000 x
 * 4 KiB 1.1 s vs 1.3 s; 16 x 2 MiB 4.7 s vs 3.9 s); child processes cost less CPU (2000 x 4 KiB:
 * +17% CPU for --jobs 2 against +27% with threads, docs/performance.md) but have not been re-timed
 * on an idle machine, so the thresholds stay. An explicit --jobs is obeyed whatever the size.
 */
const PARALLEL_BYTES = 24 << 20;
const PARALLEL_JOBS = 4096;

/** Each job's trace size in bytes (0 when missing: its job reports that). */
function traceSizes(jobs: CheckJob[]): number[] {
  return jobs.map((j) => {
    try {
      return statSync(j.trace).size;
    } catch {
      return 0;
    }
  });
}

function worthParallel(count: number, sizes: number[]): boolean {
  return count >= PARALLEL_JOBS || sizes.reduce((a, b) => a + b, 0) >= PARALLEL_BYTES;
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

function shardProcessFile(): string | null {
  // Only the compiled build has shard-process.js next to this file; under vitest (TS sources) we run inline.
  const url = new URL('./shard-process.js', import.meta.url);
  if (url.protocol !== 'file:') return null;
  const path = fileURLToPath(url);
  return existsSync(path) ? path : null;
}

/**
 * Cuts the job list into `n` contiguous pieces of about equal trace bytes (the replay's cost is
 * about proportional to its size). Returns the n+1 boundaries.
 */
export function splitBySize(sizes: number[], n: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const bounds = [0];
  let acc = 0;
  for (let i = 0; i < sizes.length && bounds.length < n; i++) {
    acc += sizes[i];
    if (acc >= (total * bounds.length) / n) bounds.push(i + 1);
  }
  while (bounds.length < n) bounds.push(sizes.length);
  bounds.push(sizes.length);
  return bounds;
}

/** One child process evaluating jobs [from, to): one message out, one back (shard-process.ts). */
function runShardProcess(file: string, req: ShardRequest): Promise<JobOutcome[]> {
  return new Promise((resolve, reject) => {
    const child = fork(file, ['--check-shard'], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answer: JobOutcome[] | null = null;
    child.once('message', (res: ShardResponse) => {
      answer = res.outcomes;
    });
    child.once('error', reject);
    // A child that dies without answering (out of memory, killed) must not hang check. 'close', not
    // 'exit': it comes after the IPC channel is drained, so the answer has arrived by then.
    child.once('close', (code, signal) => {
      if (answer !== null && answer.length === req.jobs.length) resolve(answer);
      else reject(new Error(`check shard process exited (${signal ?? code}) before reporting its ${req.jobs.length} jobs`));
    });
    child.send(req);
  });
}

async function evaluateAll(jobs: CheckJob[], opts: CheckOptions): Promise<JobOutcome[]> {
  const context = opts.context ?? 5;
  const strictDevice = opts.strictDevice === true;
  const threads = Math.max(1, Math.min(opts.jobs ?? cpus().length, jobs.length));
  const file = shardProcessFile();
  const sizes = file !== null && threads > 1 ? traceSizes(jobs) : null;
  const parallel = sizes !== null && (opts.jobs !== undefined || worthParallel(jobs.length, sizes));
  let done = 0;
  const progress = (i: number): void => {
    done++;
    opts.onProgress?.(done, jobs.length, jobs[i].golden);
  };
  if (!parallel) {
    const outcomes = new Array<JobOutcome>(jobs.length);
    for (let i = 0; i < jobs.length; i++) {
      outcomes[i] = await evaluateJob(jobs[i], context, strictDevice);
      progress(i);
    }
    return outcomes;
  }
  // `threads` evaluators, each with a static contiguous piece of the list: this process takes
  // the first piece, threads-1 child processes the others. No per-job messages, no shared heap:
  // it runs like `threads` independent `check --shard` runs, which is what scales. Progress counts
  // this process's jobs as they finish and each child's when it reports.
  const bounds = splitBySize(sizes, threads);
  const children: Promise<JobOutcome[]>[] = [];
  for (let t = 1; t < threads; t++) children.push(runShardProcess(file!, { jobs: jobs.slice(bounds[t], bounds[t + 1]), context, strictDevice }));
  // Failures surface when awaited below; until then they must not count as unhandled.
  for (const c of children) c.catch(() => undefined);
  const outcomes: JobOutcome[] = [];
  for (let i = bounds[0]; i < bounds[1]; i++) {
    outcomes.push(await evaluateJob(jobs[i], context, strictDevice));
    progress(i);
  }
  for (let t = 1; t < threads; t++) {
    const part = await children[t - 1];
    for (let k = 0; k < part.length; k++) {
      outcomes.push(part[k]);
      progress(bounds[t] + k);
    }
  }
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
