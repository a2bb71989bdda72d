// "The switch and source behind" an event's outcome: walking the version list back from the
// selected version, the nearest older version under which this event replays differently; the
// behavior switches that differ between that version and the next one, with their sources, are
// what made the outcome what it is. Done on both axes (kernel path, VMM family), a few replays.

import { modelCatalog, switchChanges, type SwitchChange } from '../bisect/catalog.js';
import { eventKey } from '../bisect/predicate.js';
import { replayAt } from '../bisect/replay.js';
import type { Axis, EventResult } from '../bisect/types.js';
import { findKernelVersion } from '../model/versions/kernel.js';
import type { ModelSelection } from '../replay/engine.js';
import type { Trace } from '../trace/types.js';

export interface Why {
  axis: Axis;
  /** The version from which on the event replays as now (the selected one or older). */
  since: string;
  /** The version just before it, and what the event was there; null = same in every older version. */
  before: string | null;
  beforeOutcome: string;
  beforeRule: string;
  switches: SwitchChange[];
}

/** The ordered versions leading to the selected one on one axis (oldest first, selected last). */
function path(axis: Axis, sel: ModelSelection): string[] {
  const cat = modelCatalog();
  if (axis === 'vmm') {
    for (const ids of cat.vmmFamilies.values()) if (sel.vmm !== null && ids.includes(sel.vmm)) return ids.slice(0, ids.indexOf(sel.vmm) + 1);
    return [];
  }
  const v = findKernelVersion(sel.kernel);
  if (v === undefined) return [];
  if (v.axis === 'release') return cat.releases.slice(0, cat.releases.indexOf(v.id) + 1);
  const s = cat.series.find((x) => x.name === v.axis);
  if (s === undefined) return [v.id];
  return [...cat.releases.slice(0, cat.releases.indexOf(s.base) + 1), ...s.versions.slice(0, s.versions.indexOf(v.id) + 1)];
}

export function explainEvents(trace: Trace, sel: ModelSelection): Why[][] {
  const out: Why[][] = trace.events.map(() => []);
  for (const axis of ['kernel', 'vmm'] as Axis[]) {
    const ids = path(axis, sel);
    if (ids.length === 0) continue;
    const runs = ids.map((id) => replayAt(trace, { id, kernel: axis === 'kernel' ? id : sel.kernel, vmm: axis === 'vmm' ? id : sel.vmm }).events);
    const now = runs[runs.length - 1];
    for (let i = 0; i < trace.events.length; i++) {
      let k = runs.length - 1;
      while (k > 0 && eventKey(runs[k - 1][i]) === eventKey(now[i])) k--;
      const prev: EventResult | undefined = k > 0 ? runs[k - 1][i] : undefined;
      out[i].push({
        axis,
        since: ids[k],
        before: k > 0 ? ids[k - 1] : null,
        beforeOutcome: prev?.outcome ?? '',
        beforeRule: prev?.rule ?? '',
        switches: k > 0 ? switchChanges(axis, ids[k - 1], ids[k]) : [],
      });
    }
  }
  return out;
}
