// Which model versions a promoted trace is listed under: the versions its header names first, then
// one representative (the first in table order) of every other sequence of outcomes the trace shows across
// kernel versions x VMM versions, so the goldens pin each way the outcome differs and nothing twice.

import { replayAt } from '../bisect/replay.js';
import type { VersionRun } from '../bisect/types.js';
import { allKernels, defaultVmms } from '../matrix/index.js';
import type { ModelSelection } from '../replay/engine.js';
import type { Trace } from '../trace/types.js';

export interface ListedVersion {
  selection: ModelSelection;
  /** Why it is listed: "the trace's own versions", or the first event where it differs from them. */
  why: string;
}

// Outcomes only: a version that differs in effects or rule names alone pins nothing a user sees.
const signature = (run: VersionRun): string => run.events.map((e) => e.outcome).join('\n');

export function versionsThatDiffer(trace: Trace, own: ModelSelection): ListedVersion[] {
  const point = (sel: ModelSelection): VersionRun => replayAt(trace, { id: '', kernel: sel.kernel, vmm: sel.vmm });
  const ownRun = point(own);
  const seen = new Set([signature(ownRun)]);
  const out: ListedVersion[] = [{ selection: own, why: "the trace's own versions" }];
  const vmms = defaultVmms(trace);
  if (own.vmm !== null && !vmms.includes(own.vmm)) vmms.push(own.vmm);
  for (const kernel of allKernels()) {
    for (const vmm of vmms) {
      if (kernel === own.kernel && vmm === own.vmm) continue;
      const run = point({ kernel, vmm });
      // A version whose behavior is unknown somewhere cannot pin anything (check would skip it).
      if (run.events.some((e) => e.versionUnknown)) continue;
      const sig = signature(run);
      if (seen.has(sig)) continue;
      seen.add(sig);
      const at = run.events.findIndex((e, i) => e.outcome !== ownRun.events[i].outcome);
      const e = run.events[at];
      out.push({ selection: { kernel, vmm }, why: `#${e.index} ${e.outcome} [${e.rule}] (own: ${ownRun.events[at].outcome})` });
    }
  }
  return out;
}
