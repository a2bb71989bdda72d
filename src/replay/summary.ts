// The end of a replay's text output: counts, then the first divergence with the K events before
// it, the rule that fired and the last state change before it (usually the cause).

import type { ReplaySummary } from './run.js';

export interface ReplayCounts {
  events: number;
  divergences: number;
  unsupported: number;
  /** Device notes (hardware state the trace showed otherwise, adopted): shown only when there are some. */
  deviceNotes?: number;
  /** Race groups explored (printed only when there were some: src/replay/race/). */
  races?: { groups: number; explored: number; interleaving: number | null };
}

/** `summary: 9 events, 1 divergence, 0 unsupported[, 1 device note]`: the line a replay ends with, and a golden too. */
export function countsLine(c: ReplayCounts): string {
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  const notes = c.deviceNotes !== undefined && c.deviceNotes > 0 ? `, ${plural(c.deviceNotes, 'device note')}` : '';
  const r = c.races;
  const races =
    r === undefined || r.groups === 0
      ? ''
      : r.interleaving === null
        ? `; races: ${plural(r.groups, 'group')}, ${plural(r.explored, 'interleaving')} explored`
        : `; races: ${plural(r.groups, 'group')}, interleaving ${r.interleaving} of each`;
  return `summary: ${plural(c.events, 'event')}, ${plural(c.divergences, 'divergence')}, ${c.unsupported} unsupported${notes}${races}`;
}

export function formatSummary(s: ReplaySummary): string[] {
  const out: string[] = [];
  out.push(countsLine(s) + ` (${s.host} host, ${s.guest} guest)`);
  if (s.first !== null) {
    const f = s.first;
    out.push(`first divergence at #${String(f.index).padStart(4, '0')}: the model predicts otherwise (rule ${f.rule})`);
    for (const c of f.context) out.push(`    ${c}`);
    out.push(`  > ${f.line}`);
    if (f.lastChange !== null && !f.context.includes(f.lastChange)) out.push(`  last state change before it:\n    ${f.lastChange}`);
  }
  if (s.firstDeviceNote !== null) {
    const n = s.deviceNotes;
    out.push(`${n} device note${n === 1 ? '' : 's'}: the trace showed the device's hardware state otherwise than the model; adopted, not counted as divergences (--strict-device counts them). First at #${String(s.firstDeviceNote.index).padStart(4, '0')}:`);
    out.push(`  > ${s.firstDeviceNote.line}`);
  }
  if (s.firstUnsupported !== null) {
    out.push(`first unsupported event (cannot be expressed in ${s.selection.kernel}${s.selection.vmm ? '+' + s.selection.vmm : ''}):`);
    out.push(`  > ${s.firstUnsupported.line}`);
  }
  if (s.afterOpaque > 0 && s.firstOpaque !== null) {
    out.push(
      `${s.afterOpaque} outcomes unsupported after opaque ioctls (first #${String(s.firstOpaque.seq).padStart(4, '0')} ${s.firstOpaque.name}, its arguments not captured): ` +
        'capture with tracer/vfio-trace, whose ioctl-args has the structs (docs/capture.md)',
    );
  }
  return out;
}
