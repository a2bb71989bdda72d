// One unit of `check` work: replay a listed trace under its versions and compare with its golden.
// Runs on the main thread or in a worker (worker.ts); returns plain data (structured-clone safe).

import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { unknownVersion } from '../replay/select-versions.js';
import type { CheckJob } from './corpus.js';
import { firstDifference, unifiedDiff, type FirstDifference } from './diff.js';
import { streamGolden } from './generate.js';
import { GoldenMatcher } from './match.js';
import type { ReplaySummary } from '../replay/run.js';

/** Device notes in the replay (hardware the trace showed otherwise; adopted, not divergences). */
export interface DeviceNotes {
  count: number;
  /** Line number (1-based) of the first in the golden text, and the note. */
  firstLine: number;
  first: string;
}

export type JobOutcome =
  | { kind: 'match'; notes?: DeviceNotes }
  | { kind: 'mismatch'; actual: string; diff: string; first: FirstDifference | null; unsupported: number; unsupportedLine: string }
  | { kind: 'missing'; actual: string; unsupported: number; unsupportedLine: string }
  /** The model does not know a version the golden names: the trace cannot be expressed (exit 125). */
  | { kind: 'unexpressible'; message: string }
  | { kind: 'error'; message: string };

export async function evaluateJob(job: CheckJob, context: number, strictDevice = false): Promise<JobOutcome> {
  const unknown = unknownVersion(job.selection);
  if (unknown !== null) return { kind: 'unexpressible', message: unknown };
  let expected: string | null = null;
  if (job.present) {
    try {
      expected = readFileSync(job.golden, 'utf8');
    } catch (err) {
      return { kind: 'error', message: `${job.golden}: cannot read: ${(err as Error).message}` };
    }
  }
  const match = new GoldenMatcher(expected);
  let summary: ReplaySummary;
  try {
    summary = await streamGolden(job.trace, job.golden, job.selection, match, strictDevice);
  } catch (err) {
    if (err instanceof UserError) return { kind: 'error', message: err.message };
    throw err;
  }
  const unsupported = summary.unsupported;
  const unsupportedLine = summary.firstUnsupported?.line ?? '';
  if (expected === null) return { kind: 'missing', actual: match.text(), unsupported, unsupportedLine };
  if (match.matches) {
    const first = summary.firstDeviceNote;
    return first === null ? { kind: 'match' } : { kind: 'match', notes: deviceNotes(expected, summary.deviceNotes, first.note) };
  }
  const actual = match.text();
  return {
    kind: 'mismatch',
    actual,
    diff: unifiedDiff(job.golden, expected, actual),
    first: firstDifference(expected, actual, context),
    unsupported,
    unsupportedLine,
  };
}

function deviceNotes(text: string, count: number, first: string): DeviceNotes {
  const at = text.indexOf('  device: ');
  const firstLine = at < 0 ? 1 : text.slice(0, at).split('\n').length;
  return { count, firstLine, first };
}
