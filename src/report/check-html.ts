// `check --html DIR`: one HTML report per failing golden (a mismatch, not a missing or skipped
// one), replayed under the golden's own versions, so a red CI run can be looked at, not only read.

import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../golden/atomic.js';
import type { CheckReport } from '../golden/check.js';
import { loadTrace } from '../trace/index.js';
import { reportHtml } from './index.js';

export async function writeFailingReports(report: CheckReport, dir: string): Promise<string[]> {
  const written: string[] = [];
  for (const r of report.results) {
    if (r.outcome.kind !== 'mismatch' || r.action !== 'none') continue;
    mkdirSync(dir, { recursive: true });
    const path = join(dir, basename(r.job.golden).replace(/\.golden$/, '.html'));
    writeFileAtomic(path, await reportHtml(await loadTrace(r.job.trace), r.job.trace, r.job.selection));
    written.push(path);
  }
  return written;
}
