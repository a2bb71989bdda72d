// Child-process entry for parallel `check`: receives one contiguous shard of the job list (one
// IPC message), evaluates it, and answers with every outcome in one message, then exits. A
// process, not a worker thread: a worker shares the parent's heap and GC and measurably slowed
// the main thread's jobs while it ran; separate processes behave like two independent `check`
// runs (which scale ~2x on 2 cores). One message each way: no per-job round trips.

import type { CheckJob } from './corpus.js';
import { evaluateJob, type JobOutcome } from './evaluate.js';

export interface ShardRequest {
  jobs: CheckJob[];
  context: number;
  strictDevice: boolean;
}

export interface ShardResponse {
  outcomes: JobOutcome[];
}

/** Evaluates jobs in order; an unexpected throw becomes that job's error, not the shard's. */
export async function evaluateShard(req: ShardRequest): Promise<JobOutcome[]> {
  const outcomes: JobOutcome[] = [];
  for (const job of req.jobs) {
    try {
      outcomes.push(await evaluateJob(job, req.context, req.strictDevice));
    } catch (err) {
      outcomes.push({ kind: 'error', message: `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` });
    }
  }
  return outcomes;
}

if (process.send !== undefined && process.argv[2] === '--check-shard') {
  process.once('message', (req: ShardRequest) => {
    void evaluateShard(req).then((outcomes) => {
      process.send!({ outcomes } satisfies ShardResponse, () => process.disconnect());
    });
  });
}
