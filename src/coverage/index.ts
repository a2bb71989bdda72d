// `check --coverage`: which model rules and behavior switches each golden exercises, and which the
// corpus never exercises. A golden exercises the rules its outcome log names, and the switches
// behind its outcomes: for each event, walking back along its kernel path and VMM family, the
// switches that changed where the event's outcome last changed (report/why.ts).

import { replayAt } from '../bisect/replay.js';
import type { CheckJob } from '../golden/corpus.js';
import { KERNEL_VERSIONS } from '../model/versions/kernel.js';
import { VMM_VERSIONS } from '../model/versions/vmm.js';
import { explainEvents } from '../report/why.js';
import { unknownVersion } from '../replay/select-versions.js';
import { loadTrace } from '../trace/index.js';
import { modelRules } from './rules.js';

export interface GoldenCoverage {
  golden: string;
  rules: string[];
  /** `kernel.d3hotBlocksAccess`, `vmm.directMapBars`. */
  switches: string[];
}

export interface Coverage {
  goldens: GoldenCoverage[];
  rules: { total: number; used: string[]; never: string[] };
  switches: { total: number; used: string[]; never: string[] };
}

export async function corpusCoverage(jobs: readonly CheckJob[]): Promise<Coverage> {
  const goldens: GoldenCoverage[] = [];
  for (const job of jobs) {
    if (unknownVersion(job.selection) !== null) continue;
    const trace = await loadTrace(job.trace);
    const rules = new Set(replayAt(trace, { id: '', kernel: job.selection.kernel, vmm: job.selection.vmm }).events.map((e) => e.rule));
    const switches = new Set<string>();
    for (const whys of explainEvents(trace, job.selection)) for (const w of whys) for (const s of w.switches) switches.add(`${w.axis}.${s.name}`);
    goldens.push({ golden: job.golden, rules: [...rules].sort(), switches: [...switches].sort() });
  }
  const usedRules = new Set(goldens.flatMap((g) => g.rules));
  const universe = modelRules();
  const neverRules = [
    ...universe.ids.filter((id) => !usedRules.has(id)),
    ...universe.templates.filter((t) => ![...usedRules].some((r) => t.pattern.test(r))).map((t) => t.label),
  ];
  const allSwitches = [
    ...Object.keys(KERNEL_VERSIONS[0].switches).map((k) => `kernel.${k}`),
    ...Object.keys(VMM_VERSIONS[0].switches).map((k) => `vmm.${k}`),
  ];
  const usedSwitches = new Set(goldens.flatMap((g) => g.switches));
  return {
    goldens,
    rules: { total: universe.ids.length + universe.templates.length, used: [...usedRules].sort(), never: neverRules.sort() },
    switches: { total: allSwitches.length, used: allSwitches.filter((s) => usedSwitches.has(s)), never: allSwitches.filter((s) => !usedSwitches.has(s)) },
  };
}

export function coverageText(c: Coverage): string {
  const out: string[] = [];
  out.push(`coverage: ${c.goldens.length} goldens exercise ${c.rules.used.length} rules (of ${c.rules.total} in the model) and ${c.switches.used.length} of ${c.switches.total} switches`);
  for (const g of c.goldens) {
    out.push(`  ${g.golden}`);
    out.push(`    rules: ${g.rules.join(' ')}`);
    out.push(`    switches: ${g.switches.length > 0 ? g.switches.join(' ') : '(none: every outcome is the same in every older version)'}`);
  }
  out.push(`rules never exercised (${c.rules.never.length}): ${c.rules.never.join(' ')}`);
  out.push(`switches never exercised (${c.switches.never.length}): ${c.switches.never.join(' ')}`);
  return out.join('\n') + '\n';
}
