// The model's version tables as bisect sees them: ordered lists, and what differs between two
// neighbors (the switches and their sources, which is what a reviewer wants next to a changed rule).

import { KERNEL_RELEASES, KERNEL_VERSIONS, findKernelVersion, switchSource, type SwitchName } from '../model/versions/kernel.js';
import { VMM_VERSIONS, findVmmVersion, type VmmSwitches } from '../model/versions/vmm.js';
import type { SeriesInfo, VersionCatalog } from './axis.js';
import type { Axis } from './types.js';

export function modelCatalog(): VersionCatalog {
  const series = new Map<string, SeriesInfo>();
  for (const v of KERNEL_VERSIONS) {
    if (v.axis === 'release' || v.base === undefined) continue;
    const s = series.get(v.axis) ?? { name: v.axis, base: v.base, versions: [] as string[] };
    (s.versions as string[]).push(v.id);
    series.set(v.axis, s);
  }
  // VMM families in table order (the table lists each family oldest first).
  const families = new Map<string, string[]>();
  for (const v of VMM_VERSIONS) {
    const list = families.get(v.family) ?? [];
    list.push(v.id);
    families.set(v.family, list);
  }
  return { releases: KERNEL_RELEASES, series: [...series.values()], vmmFamilies: families };
}

/** One behavior switch that differs between two versions, with where the new value comes from. */
export interface SwitchChange {
  name: string;
  before: string;
  after: string;
  /** Commit / series version / PR the new value was read from ('' when the table has none). */
  source: string;
}

export function switchChanges(axis: Axis, before: string, after: string): SwitchChange[] {
  if (axis === 'kernel') {
    const a = findKernelVersion(before);
    const b = findKernelVersion(after);
    if (a === undefined || b === undefined) return [];
    return (Object.keys(b.switches) as SwitchName[])
      .filter((k) => a.switches[k] !== b.switches[k])
      .map((k) => ({
        name: k,
        before: String(a.switches[k]),
        after: String(b.switches[k]),
        source: sourceText(after, k),
      }));
  }
  const a = findVmmVersion(before);
  const b = findVmmVersion(after);
  if (a === undefined || b === undefined) return [];
  return (Object.keys(b.switches) as (keyof VmmSwitches)[])
    .filter((k) => a.switches[k] !== b.switches[k])
    .map((k) => ({ name: k, before: String(a.switches[k]), after: String(b.switches[k]), source: b.notes[k] ?? b.source }));
}

function sourceText(id: string, name: SwitchName): string {
  const s = switchSource(id, name).source;
  if (s === undefined) return '';
  return `${s.ref} [${s.evidence}]`;
}
