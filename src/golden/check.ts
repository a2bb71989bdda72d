// `check`: evaluate every listed (trace, versions) pair against its golden, in parallel when the
// corpus is big, then (only with --update, never under CI) write changed and missing goldens and
// delete obsolete ones. Returns everything the reporters need; prints nothing itself.

import { fork } from 'node:child_process';
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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
 * What a job costs, in units of one small job's fixed part (reading its listing, golden and
 * trace, building the models: ~1.2 ms warm on the bench VM); its trace adds one unit per
 * UNIT_BYTES (a big trace replays and compares at ~1 s per 8 MiB, i.e. ~1.2 ms per 10 KiB).
 */
export const UNIT_BYTES = 10 << 10;
export function jobWork(traceBytes: number): number {
  return 1 + traceBytes / UNIT_BYTES;
}

/**
 * Work (in jobWork units) each evaluator process must have before one more pays for itself.
 * Every process pays its node start-up, module loading and its own JIT warm-up: V8 compiles the
 * hot model code again in each process (TurboFan, on V8's background threads), about 2 s of CPU
 * in the first ~1,000 small jobs. In a single `check` that compilation runs on the otherwise
 * idle second core for free; with two processes on two cores it takes turns with the evaluators
 * (perf on the bench VM: a quarter of a 2,500-job process's CPU was background compilation).
 * Measured there (docs/performance.md, "Parallel check: what bounds --jobs 2"): `--jobs 2` was 0.73x of
 * `--jobs 1` at 250 small traces, ~0.93x at 500-2,000, ~1.4x at 5,000. So a second process is
 * started from ~4,000 small traces (5,600 units; ~55 MiB of big traces) and one more per
 * further 2,800 units; `npm run bench` re-times the threshold on the machine it runs on (its
 * "parallel check threshold" row). An explicit --jobs is obeyed whatever the size.
 */
export const UNITS_PER_PROCESS = 2800;

/** How many evaluator processes the default (no --jobs) uses for this much work on `cores` cores. */
export function defaultProcesses(totalWork: number, cores: number): number {
  return Math.max(1, Math.min(cores, Math.floor(totalWork / UNITS_PER_PROCESS)));
}

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
 * Cuts the job list into `n` contiguous pieces of about equal work (`work[i]` = jobWork of job
 * i). Returns the n+1 boundaries.
 */
export function splitByWork(work: number[], n: number): number[] {
  const total = work.reduce((a, b) => a + b, 0);
  const bounds = [0];
  let acc = 0;
  for (let i = 0; i < work.length && bounds.length < n; i++) {
    acc += work[i];
    if (acc >= (total * bounds.length) / n) bounds.push(i + 1);
  }
  while (bounds.length < n) bounds.push(work.length);
  bounds.push(work.length);
  return bounds;
}

/**
 * A child process for one shard (shard-process.ts). Forked before the corpus is listed when
 * --jobs asks for children, so its node start-up and module loading overlap the listing.
 */
interface ShardChild {
  /** Sends the shard; resolves once the message is written to the pipe (see evaluateAll). */
  send(req: ShardRequest): Promise<void>;
  /** The shard's outcomes, once the child has answered and exited. */
  outcomes: Promise<JobOutcome[]>;
  /** Lets an unused child go (it exits when its channel closes). */
  release(): void;
}

function forkShardChild(file: string): ShardChild {
  const child = fork(file, ['--check-shard'], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let expected = -1;
  let answer: JobOutcome[] | null = null;
  const outcomes = new Promise<JobOutcome[]>((resolve, reject) => {
    child.once('message', (res: ShardResponse) => {
      answer = res.outcomes;
    });
    child.once('error', reject);
    // A child that dies without answering (out of memory, killed) must not hang check. 'close', not
    // 'exit': it comes after the IPC channel is drained, so the answer has arrived by then.
    child.once('close', (code, signal) => {
      if (answer !== null && answer.length === expected) resolve(answer);
      else reject(new Error(`check shard process exited (${signal ?? code}) before reporting its ${expected} jobs`));
    });
  });
  // Failures surface when awaited; until then (or for a released child) they must not count as unhandled.
  outcomes.catch(() => undefined);
  return {
    send: (req) => {
      expected = req.jobs.length;
      return new Promise((resolve, reject) => child.send(req, (err) => (err === null || err === undefined ? resolve() : reject(err))));
    },
    outcomes,
    release: () => {
      if (child.connected) child.disconnect();
    },
  };
}

async function evaluateAll(jobs: CheckJob[], opts: CheckOptions, ready: ShardChild[]): Promise<JobOutcome[]> {
  const context = opts.context ?? 5;
  const strictDevice = opts.strictDevice === true;
  const file = shardProcessFile();
  // The CPUs this process may run on (its affinity mask), not every CPU of the host.
  const cores = availableParallelism();
  const work = file !== null && (opts.jobs ?? cores) > 1 ? traceSizes(jobs).map(jobWork) : null;
  const wanted = work === null ? 1 : (opts.jobs ?? defaultProcesses(work.reduce((a, b) => a + b, 0), cores));
  const threads = Math.max(1, Math.min(wanted, jobs.length));
  const parallel = work !== null && threads > 1;
  let done = 0;
  const progress = (i: number): void => {
    done++;
    opts.onProgress?.(done, jobs.length, jobs[i].golden);
  };
  if (!parallel) {
    for (const c of ready) c.release();
    const outcomes = new Array<JobOutcome>(jobs.length);
    for (let i = 0; i < jobs.length; i++) {
      outcomes[i] = await evaluateJob(jobs[i], context, strictDevice);
      progress(i);
    }
    return outcomes;
  }
  // `threads` evaluators, each with a static contiguous piece of the list (about equal estimated
  // work): this process takes the first piece, threads-1 child processes the others. No per-job messages, no shared heap:
  // it runs like `threads` independent `check --shard` runs, which is what scales. Progress counts
  // this process's jobs as they finish and each child's when it reports.
  const bounds = splitByWork(work, threads);
  const children = ready.splice(0, threads - 1);
  for (const c of ready) c.release();
  while (children.length < threads - 1) children.push(forkShardChild(file!));
  // Each shard is on its way before this process starts on its own: the loop below never yields
  // to the event loop (the replay reads files synchronously), so a message still queued in node
  // would reach its child only after this process had finished (measured: the child got its jobs
  // when the parent was done, and --jobs 2 ran about as long as --jobs 1).
  await Promise.all(children.map((c, t) => c.send({ jobs: jobs.slice(bounds[t + 1], bounds[t + 2]), context, strictDevice })));
  const outcomes: JobOutcome[] = [];
  for (let i = bounds[0]; i < bounds[1]; i++) {
    outcomes.push(await evaluateJob(jobs[i], context, strictDevice));
    progress(i);
  }
  for (let t = 1; t < threads; t++) {
    const part = await children[t - 1].outcomes;
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
  // An explicit --jobs N > 1: start the children now, so they boot while the corpus is listed.
  const file = opts.jobs !== undefined && opts.jobs > 1 ? shardProcessFile() : null;
  const ready: ShardChild[] = [];
  if (file !== null) for (let t = 1; t < opts.jobs!; t++) ready.push(forkShardChild(file));
  let outcomes: JobOutcome[];
  let jobs: CheckJob[];
  let obsoleteIn: ObsoleteGolden[];
  try {
    const corpus = discoverCorpus(paths.length > 0 ? paths : ['traces']);
    jobs = corpus.jobs.filter((_, i) => inShard(i, opts.shard));
    obsoleteIn = corpus.obsolete.filter((_, i) => inShard(i, opts.shard));
    outcomes = await evaluateAll(jobs, opts, ready);
  } finally {
    for (const c of ready) c.release();
  }
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
