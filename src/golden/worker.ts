// Worker-thread entry for `check --jobs N`: evaluates the jobs the main thread sends, one at a
// time, and posts each result back. Writing goldens stays on the main thread.

import { parentPort } from 'node:worker_threads';
import type { CheckJob } from './corpus.js';
import { evaluateJob, type JobOutcome } from './evaluate.js';

export interface WorkRequest {
  id: number;
  job: CheckJob;
  context: number;
}

export interface WorkResponse {
  id: number;
  outcome: JobOutcome;
}

if (parentPort !== null) {
  const port = parentPort;
  port.on('message', (req: WorkRequest) => {
    evaluateJob(req.job, req.context).then(
      (outcome) => port.postMessage({ id: req.id, outcome } satisfies WorkResponse),
      (err: unknown) =>
        port.postMessage({
          id: req.id,
          outcome: { kind: 'error', message: `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` },
        } satisfies WorkResponse),
    );
  });
}
