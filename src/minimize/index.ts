// `minimize`: the smallest trace that still shows the goal (see goal.ts) under the given model
// selections. Order of work, cheapest first: cut everything after the event that decides the goal
// (the model is causal), drop whole groups (threads, guest events, reads), ddmin over single
// events, fold repeated accesses, shrink values and offsets, drop header items; repeat until a
// round changes nothing. The result's events are renumbered (seq 0..n-1); `origin` maps them back.

import { UserError } from '../errors.js';
import type { ModelSelection } from '../replay/engine.js';
import type { Trace } from '../trace/types.js';
import { dropGroups, ddminEvents, mergeRepeats, restrict } from './events.js';
import { describeGoal, type Candidate, type Goal } from './goal.js';
import { shrinkHeader } from './header.js';
import { Session } from './session.js';
import { shrinkValues } from './values.js';

export { describeGoal, type Goal } from './goal.js';

export interface MinimizeProgress {
  pass: string;
  events: number;
  replays: number;
}

export interface MinimizeResult {
  trace: Trace;
  /** Original index of each event of the result. */
  origin: number[];
  /** What each selection saw in the original (and still sees): the kept signature. */
  kept: string[];
  before: number;
  replays: number;
}

const PASSES: { name: string; run: (c: Candidate, s: Session, pinned: ReadonlySet<number>) => Candidate }[] = [
  { name: 'groups', run: dropGroups },
  { name: 'ddmin', run: ddminEvents },
  { name: 'repeats', run: mergeRepeats },
  { name: 'values', run: (c, s) => shrinkValues(c, s) },
  { name: 'header', run: (c, s) => shrinkHeader(c, s) },
];

function sameCandidate(a: Candidate, b: Candidate): boolean {
  return a.header === b.header && a.events.length === b.events.length && a.events.every((e, i) => e === b.events[i]);
}

export function minimizeTrace(
  trace: Trace,
  file: string,
  goal: Goal,
  selections: ModelSelection[],
  onProgress?: (p: MinimizeProgress) => void,
): MinimizeResult {
  if ((trace.moreHeaders ?? []).length > 0)
    throw new UserError('minimize takes a trace with one header (this one concatenates several: split it first)', { file });
  if (goal.kind === 'event' && goal.index >= trace.events.length)
    throw new UserError(`--event ${goal.index}: the trace has ${trace.events.length} events (0..${trace.events.length - 1})`, { file });
  const original: Candidate = { header: trace.header, events: trace.events, origin: trace.events.map((_, i) => i) };
  const s = new Session(goal, selections, original);
  if (goal.kind !== 'event' && s.target.every((t) => t.sig === '')) {
    const under = selections.map((x) => (x.vmm === null ? x.kernel : `${x.kernel}+${x.vmm}`)).join(', ');
    throw new UserError(`nothing to keep: ${describeGoal(goal)} does not happen under ${under}`, { file });
  }
  const pinned = new Set<number>();
  if (goal.kind === 'event') pinned.add(goal.index);
  if (goal.kind === 'divergence') for (const t of s.target) if (t.at >= 0) pinned.add(t.at);

  let c = original;
  const last = Math.max(...s.target.map((t) => t.at));
  if (last >= 0 && last < c.events.length - 1) {
    const cut = restrict(c, new Set(c.origin.slice(0, last + 1)));
    if (s.holds(cut)) c = cut;
  }
  onProgress?.({ pass: 'cut', events: c.events.length, replays: s.replays });
  for (let round = 0; round < 8; round++) {
    const before = c;
    for (const p of PASSES) {
      c = p.run(c, s, pinned);
      onProgress?.({ pass: p.name, events: c.events.length, replays: s.replays });
    }
    if (sameCandidate(before, c)) break;
  }
  const events = c.events.map((e, i) => ({ ...e, seq: BigInt(i) }));
  const header = { ...c.header, title: trace.header.title === '' ? 'minimized' : `minimized: ${trace.header.title}` };
  return { trace: { header, events }, origin: c.origin, kept: s.target.map((t) => t.sig), before: trace.events.length, replays: s.replays };
}
