// What `minimize` must keep while it removes events: the goal, and how one replay of a candidate
// trace is reduced to a comparable signature under one model selection.
//
//   event N      the outcome of original event N (it must still be in the trace)
//   divergence   the first divergence: the same original event, predicted outcome and observation
//   outcome T    whether some event ends like T (T as bisect's terms: SIGBUS, vmm-exit, ENODEV, ...)
//
// Under several selections a candidate is kept only when every selection's signature equals the
// original's, so "SIGBUS under A but not under B" stays exactly that: the difference between A and
// B is what survives. Replays stop at the first event that decides the signature: the model is
// causal, nothing after that event can change it.

import { renderOutcome, type Outcome } from '../model/outcome.js';
import { matchesTerm } from '../bisect/predicate.js';
import { Replayer, type ModelSelection } from '../replay/engine.js';
import type { TraceEvent, TraceHeader } from '../trace/types.js';

export type Goal = { kind: 'event'; index: number } | { kind: 'divergence' } | { kind: 'outcome'; terms: string[] };

/** A trace being minimized: events keep the index they had in the original trace (`origin`). */
export interface Candidate {
  header: TraceHeader;
  events: TraceEvent[];
  origin: number[];
}

/** One replay's verdict for the goal: `sig` '' = the property is absent; `at` = deciding position. */
export interface Observation {
  sig: string;
  at: number;
}

const ABSENT: Observation = { sig: '', at: -1 };

function termMatches(terms: string[], outcome: string, kind: Outcome['kind']): boolean {
  // matchesTerm looks at the outcome and its kind only; the rest of the record is not needed here.
  const e = { index: 0, line: '', what: '', kind, outcome, effects: [], rule: '', versionUnknown: false };
  return terms.some((t) => matchesTerm(e, t));
}

export function observe(c: Candidate, sel: ModelSelection, goal: Goal): Observation {
  const r = new Replayer(c.header, sel);
  const stop = goal.kind === 'event' ? c.origin.indexOf(goal.index) : c.events.length - 1;
  if (stop < 0) return ABSENT;
  for (let i = 0; i <= stop; i++) {
    const ev = c.events[i];
    const s = r.apply(ev);
    // Always judged: the kernel model adopts what observations show of the hardware (device notes).
    const d = r.judge(ev, s);
    if (goal.kind === 'event') {
      if (i === stop) return { sig: renderOutcome(s.outcome), at: i };
    } else if (goal.kind === 'divergence') {
      if (d !== null) return { sig: `#${c.origin[i]} ${renderOutcome(s.outcome)} != observed: ${d}`, at: i };
    } else if (termMatches(goal.terms, renderOutcome(s.outcome), s.outcome.kind)) {
      return { sig: 'yes', at: i };
    }
  }
  return ABSENT;
}

export function describeGoal(goal: Goal): string {
  switch (goal.kind) {
    case 'event':
      return `the outcome of event #${goal.index}`;
    case 'divergence':
      return 'the first divergence';
    case 'outcome':
      return `some event ends like ${goal.terms.join(' or ')}`;
  }
}
