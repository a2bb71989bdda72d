// What makes a version "old" or "new". Two families, as in git bisect and bisectable6:
//
//   output  (default)  old when the watched outcomes equal the reference version's (the first
//                      testable version of the list), new when they differ: bisect-by-output, no
//                      script needed. Watched = every event, or the one `--event N` names.
//   terms   (--old T --new T, git's --term-old/--term-new)
//                      new when a watched event's outcome matches T(new), old when it matches
//                      T(old), otherwise skip (git bisect run's 125: this version cannot answer).
//                      With one term only, the other side is "anything else": --new ENODEV asks
//                      "is it -ENODEV yet?" (old = any other outcome), like syzkaller's crash test.
//
// A version is skipped (never old or new) when the trace cannot be expressed in it: some event up
// to the last watched one is `unsupported` because this version's behavior there is unknown (the
// version table says so). Later ones cannot influence the watched one (the model is causal), so
// they do not force a skip. Gaps every version shares (a SET_IRQS whose arguments strace could not
// show, a call the model does not cover) never skip: every version is equally blind there, so they
// compare equal and the rest of the log still tells the versions apart.
//
// What "equal" means: the predicted outcome and the set of its effects. Not compared: the rule id
// (a rule renamed with the same behavior is no change; it is what the report names at the change)
// and the order of effects within one event (bar-zap-cleanup v3 only moves the reset's zap after
// the D0 transition; the review's point is that nobody can see the difference). `--exact`
// compares whole outcome-log lines instead, rule and order included.

import type { Classified, EventResult, VersionRun } from './types.js';

export type PredicateSpec =
  | { kind: 'output'; event: number | null; exact?: boolean }
  /** At least one term; a missing one means "anything else" (skip then happens only for unsupported). */
  | { kind: 'terms'; old: string | null; new: string | null; event: number | null };

/** The comparison key of one event: the outcome and the set of effects, without the rule. */
export function eventKey(e: EventResult): string {
  return e.effects.length === 0 ? e.outcome : `${e.outcome} ${[...e.effects].sort().join(' ')}`;
}

/** The whole outcome-log line (`--exact`): rule and effect order count too. */
export function exactKey(e: EventResult): string {
  return e.line;
}

export function keyFor(spec: PredicateSpec): (e: EventResult) => string {
  return spec.kind === 'output' && spec.exact === true ? exactKey : eventKey;
}

/** The outcome followed by the effects in model order: how an event's result is shown. */
export function shownResult(e: EventResult): string {
  return e.effects.length === 0 ? e.outcome : `${e.outcome} ${e.effects.join(' ')}`;
}

/** The events a predicate looks at in one run. */
export function watchedEvents(run: VersionRun, spec: PredicateSpec): EventResult[] {
  if (spec.event === null) return run.events;
  const e = run.events.find((x) => x.index === spec.event);
  return e === undefined ? [] : [e];
}

/** The first event at or before the last watched one that this version cannot express, if any. */
export function blockingUnsupported(run: VersionRun, spec: PredicateSpec): EventResult | undefined {
  const last = spec.event ?? Number.POSITIVE_INFINITY;
  return run.events.find((e) => e.index <= last && e.versionUnknown);
}

/**
 * Whether an outcome matches a term. A term matches when it is the rendered outcome, a leading
 * run of its words (`SIGBUS` matches `SIGBUS BUS_ADRERR`, `ok` matches `ok ret=5`), the outcome
 * kind (`errno`, `signal`, `hazard`, `vmm-exit`, ...), or an errno name with or without its minus
 * (`ENODEV`, `-ENODEV`). Case-sensitive, like the outcome log.
 */
export function matchesTerm(e: EventResult, term: string): boolean {
  const t = term.trim();
  if (t === '') return false;
  if (t === e.kind) return true;
  const words = e.outcome.split(' ');
  const termWords = t.split(/\s+/);
  if (termWords.length <= words.length && termWords.every((w, i) => w === words[i])) return true;
  return e.kind === 'errno' && e.outcome === `-${t}`;
}

export function classify(run: VersionRun, reference: VersionRun | null, spec: PredicateSpec): Classified {
  const blocked = blockingUnsupported(run, spec);
  if (blocked !== undefined)
    return { verdict: 'skip', reason: `cannot express #${blocked.index} (${blocked.outcome})` };
  const watched = watchedEvents(run, spec);
  if (spec.kind === 'terms') return classifyTerms(watched, spec.old, spec.new);
  if (reference === null || reference === run) return { verdict: 'old', reason: 'reference' };
  const ref = watchedEvents(reference, spec);
  const key = keyFor(spec);
  const n = Math.max(watched.length, ref.length);
  let firstKey: number | null = null;
  for (let i = 0; i < n; i++) {
    const a = ref[i];
    const b = watched[i];
    if (a === undefined || b === undefined || a.index !== b.index) {
      const at = (b ?? a).index;
      return { verdict: 'new', reason: `#${at} ${b === undefined ? 'missing' : 'extra'} (vs ${reference.point.id})` };
    }
    if (a.outcome !== b.outcome) return { verdict: 'new', reason: `#${b.index} ${b.outcome} (${reference.point.id}: ${a.outcome})` };
    if (firstKey === null && key(a) !== key(b)) firstKey = b.index;
  }
  if (firstKey !== null) return { verdict: 'new', reason: `#${firstKey} ${spec.kind === 'output' && spec.exact === true ? 'line' : 'effects'} differ from ${reference.point.id}'s` };
  return { verdict: 'old', reason: `same as ${reference.point.id}` };
}

function classifyTerms(watched: EventResult[], oldTerm: string | null, newTerm: string | null): Classified {
  const hitNew = newTerm === null ? undefined : watched.find((e) => matchesTerm(e, newTerm));
  if (hitNew !== undefined) return { verdict: 'new', reason: `#${hitNew.index} ${hitNew.outcome}` };
  const hitOld = oldTerm === null ? undefined : watched.find((e) => matchesTerm(e, oldTerm));
  const shown = watched.length === 1 ? `#${watched[0].index} ${watched[0].outcome}` : '';
  if (hitOld !== undefined) return { verdict: 'old', reason: shown !== '' ? shown : `no event is ${newTerm ?? 'new'}` };
  // One term alone is a yes/no question (syzkaller's crash / no crash): the other side is "anything else".
  if (oldTerm === null) return { verdict: 'old', reason: shown !== '' ? `${shown} is not ${newTerm}` : `no event is ${newTerm}` };
  if (newTerm === null) return { verdict: 'new', reason: shown !== '' ? `${shown} is not ${oldTerm}` : `no event is ${oldTerm}` };
  return { verdict: 'skip', reason: `${shown !== '' ? shown : 'no event'} matches neither ${oldTerm} nor ${newTerm}` };
}

/** One line describing the predicate, for the report header. */
export function describePredicate(spec: PredicateSpec): string {
  const where = spec.event === null ? 'the outcome log' : `event #${spec.event}`;
  if (spec.kind === 'output')
    return spec.exact === true
      ? `${where} differs from the first version's (whole lines: rule and effect order count)`
      : `${where} differs from the first version's (rule names and effect order ignored)`;
  const old = spec.old ?? `not ${spec.new ?? ''}`;
  const nu = spec.new ?? `not ${spec.old ?? ''}`;
  return `${where}: old = ${old}, new = ${nu}`;
}
