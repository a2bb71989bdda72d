// How many replays bisect spends, measured rather than promised: over a synthetic list of N points
// where the first k replay under one real model version and the rest under another, for every k,
// count the replays bisect performs. The benchmark (`npm run bench`) prints these numbers; the
// tests hold them to the budget, ceil(log2 N) + 2.

import { eventKey } from './predicate.js';
import { bisect } from './run.js';
import { replayBudget } from './search.js';
import { replayAt } from './replay.js';
import type { Trace } from '../trace/types.js';
import type { VersionPoint, VersionRun } from './types.js';

export interface ReplayCount {
  /** Number of versions in the list. */
  versions: number;
  /** ceil(log2 N) + 2. */
  budget: number;
  /** Most replays over every position of the change (1..N-1) and the no-change list. */
  max: number;
  /** Mean replays over those lists. */
  mean: number;
  /** Lists bisected (N: every change position plus one list without a change). */
  lists: number;
  /** Lists whose answer was not the true change position (0 unless bisect is broken). */
  wrong: number;
}

/**
 * Bisect `trace` over synthetic lists of each size. `before` and `after` are two real model
 * selections the trace replays differently under (e.g. linux-5.7 and linux-5.8 for an MSE-clear
 * trace). Every counted replay is a real replay of the trace through the models.
 */
export function bisectReplayCounts(
  trace: Trace,
  before: Omit<VersionPoint, 'id'>,
  after: Omit<VersionPoint, 'id'>,
  sizes: readonly number[] = [8, 16, 64],
): ReplayCount[] {
  const lines = (r: VersionRun): string => r.events.map(eventKey).join('\n');
  if (lines(replayAt(trace, { id: 'before', ...before })) === lines(replayAt(trace, { id: 'after', ...after })))
    throw new Error(`bisectReplayCounts: the trace replays the same under both selections; pick two that differ`);
  return sizes.map((n) => {
    let max = 0;
    let sum = 0;
    let wrong = 0;
    // k = n means no change at all (both ends old).
    for (let k = 1; k <= n; k++) {
      const points: VersionPoint[] = Array.from({ length: n }, (_, i) => ({
        id: `p${String(i).padStart(2, '0')}`,
        ...(i < k ? before : after),
      }));
      let replays = 0;
      const replay = (p: VersionPoint): VersionRun => {
        replays++;
        return replayAt(trace, p);
      };
      const report = bisect({ points, predicate: { kind: 'output', event: null }, replay });
      const r = report.result;
      const right = k === n ? r.kind === 'no-change' : r.kind === 'changed' && r.firstNew === k;
      if (!right) wrong++;
      max = Math.max(max, replays);
      sum += replays;
    }
    return { versions: n, budget: replayBudget(n), max, mean: sum / n, lists: n, wrong };
  });
}
