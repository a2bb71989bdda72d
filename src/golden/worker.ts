// Worker-thread entry for `check --jobs N`: evaluates the batches of jobs the main thread sends,
// one batch at a time, in order, and posts each batch's results back together. Batches, not
// single jobs: with one job per message a worker sat idle for a round trip through the main
// thread after every job (~20% of its time on a loaded machine, jobs being a few ms each).
// Writing goldens stays on the main thread.

import { parentPort } from 'node:worker_threads';
import type { CheckJob } from './corpus.js';
import { evaluateJob, type JobOutcome } from './evaluate.js';

export interface WorkRequest {
  jobs: { id: number; job: CheckJob }[];
  context: number;
  strictDevice: boolean;
}

export interface WorkResponse {
  results: { id: number; outcome: JobOutcome }[];
}

async function runBatch(req: WorkRequest): Promise<WorkResponse> {
  const results: WorkResponse['results'] = [];
  for (const { id, job } of req.jobs) {
    let outcome: JobOutcome;
    try {
      outcome = await evaluateJob(job, req.context, req.strictDevice);
    } catch (err) {
      outcome = { kind: 'error', message: `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` };
    }
    results.push({ id, outcome });
  }
  return { results };
}

if (parentPort !== null) {
  const port = parentPort;
  // The main thread keeps two batches queued per worker; run them one after the other.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (req: WorkRequest) => {
    queue = queue.then(async () => port.postMessage((await runBatch(req)) satisfies WorkResponse));
  });
}
