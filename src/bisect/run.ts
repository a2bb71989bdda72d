// Bisect one trace over an ordered list of version points: replay lazily (each point at most once),
// classify with the predicate, search, and explain the change: the first differing event before and
// after, the rule that decided each, and a unified diff of the two outcome logs.

import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { classify, describePredicate, keyFor, watchedEvents, type PredicateSpec } from './predicate.js';
import { bisectIndices, type SearchResult } from './search.js';
import { transitionTable, type TransitionTable } from './table.js';
import type { SwitchChange } from './catalog.js';
import type { Classified, EventResult, ReplayFn, Verdict, VersionPoint, VersionRun } from './types.js';

export interface BisectOptions {
  points: VersionPoint[];
  predicate: PredicateSpec;
  replay: ReplayFn;
  /** Replay every point and build the transition table (the result then comes from a linear scan). */
  all?: boolean;
  /** What differs between two versions in the version tables (switches and their sources). */
  changes?: (from: string, to: string) => SwitchChange[];
}

export interface BisectStep {
  id: string;
  verdict: Verdict;
  reason: string;
}

/** What changed between the last old and the first new version. */
export interface Transition {
  from: string;
  to: string;
  /** The first watched event whose outcome differs, else the first that differs at all (effects); null if none. */
  event: { index: number; what: string; before: EventResult | null; after: EventResult | null } | null;
  /** Rules that decided that event before and after. */
  rule: { before: string; after: string } | null;
  /** Events before it that differ only in their effects (an extra zap, a populate moved to the fault). */
  earlier: { index: number; what: string; ruleBefore: string; ruleAfter: string }[];
  /** The behavior switches that differ between the two versions, with their sources. */
  switches: SwitchChange[];
  /** Unified diff of the two outcome logs (only the changed hunks, 3 lines of context). */
  diff: string;
}

export interface BisectReport {
  versions: string[];
  predicate: string;
  /** The replays in the order they ran (the bisect log). */
  steps: BisectStep[];
  /** Replays performed (each version at most once). */
  replays: number;
  result: SearchResult;
  transition: Transition | null;
  /**
   * For a no-change answer: the first event whose outcome-log line still differs between the two
   * ends (rule name or effect order, which the predicate ignores), or null when the logs are equal.
   */
  lineOnlyDifference: { index: number; before: string; after: string } | null;
  table: TransitionTable | null;
}

export function bisect(opts: BisectOptions): BisectReport {
  const { points, predicate, replay } = opts;
  const keepAll = opts.all === true;
  // A replay of a long trace is big, so without --all only the runs the answer can still need are
  // kept: the first testable one (the reference), the latest old and the latest new. The search only
  // moves its ends inward, so the final last-old / first-new are always the latest of their kind.
  const runs = new Map<number, VersionRun>();
  const steps: BisectStep[] = [];
  let replays = 0;
  let first = -1;
  const latest: Record<'old' | 'new', number> = { old: -1, new: -1 };
  const runAt = (i: number): VersionRun => {
    let r = runs.get(i);
    if (r === undefined) {
      r = replay(points[i]);
      replays++;
      runs.set(i, r);
    }
    return r;
  };
  const retain = (i: number, v: Verdict): void => {
    if (keepAll) return;
    if (v === 'skip') {
      runs.delete(i);
      return;
    }
    if (first < 0) first = i;
    const previous = latest[v];
    latest[v] = i;
    if (previous >= 0 && previous !== first && previous !== latest.old && previous !== latest.new) runs.delete(previous);
  };
  // The output predicate compares with the first testable version. The search probes from index 0
  // upward first, so the reference is always the first non-skipped run it has seen: no extra replay.
  let reference: VersionRun | null = null;
  const judge = (i: number): Classified => {
    const run = runAt(i);
    const c = classify(run, reference, predicate);
    if (reference === null && c.verdict !== 'skip' && predicate.kind === 'output') reference = run;
    return c;
  };
  const probe = (i: number): Verdict => {
    const c = judge(i);
    steps.push({ id: points[i].id, verdict: c.verdict, reason: c.reason });
    retain(i, c.verdict);
    return c.verdict;
  };

  let result: SearchResult;
  let table: TransitionTable | null = null;
  if (opts.all === true) {
    const verdicts = points.map((_, i) => probe(i));
    result = scanResult(verdicts);
    table = transitionTable(
      points.map((_, i) => runAt(i)),
      predicate,
    );
  } else {
    result = bisectIndices(points.length, probe).result;
  }

  // For an ambiguous result the change is explained across the whole skipped stretch.
  const ends =
    result.kind === 'changed'
      ? [result.lastOld, result.firstNew]
      : result.kind === 'ambiguous'
        ? [result.lastOld, result.candidates[result.candidates.length - 1]]
        : null;
  const transition = ends === null ? null : explain(runAt(ends[0]), runAt(ends[1]), predicate, opts.changes);
  let lineOnlyDifference: BisectReport['lineOnlyDifference'] = null;
  if (result.kind === 'no-change') {
    const a = runAt(result.lo).events;
    const b = runAt(result.hi).events;
    const i = a.findIndex((e, j) => b[j] !== undefined && e.line !== b[j].line);
    if (i >= 0) lineOnlyDifference = { index: a[i].index, before: a[i].line, after: b[i].line };
  }
  return {
    versions: points.map((p) => p.id),
    predicate: describePredicate(predicate),
    steps,
    replays,
    result,
    transition,
    lineOnlyDifference,
    table,
  };
}

/** The search's answer from a full list of verdicts: the first new after the first old (exact, no halving). */
function scanResult(v: Verdict[]): SearchResult {
  const skipped = v.flatMap((x, i) => (x === 'skip' ? [i] : []));
  const lo = v.findIndex((x) => x !== 'skip');
  if (lo < 0) return { kind: 'all-skipped', skipped };
  if (v[lo] === 'new') return { kind: 'first-is-new', at: lo, skipped };
  let lastOld = lo;
  for (let i = lo + 1; i < v.length; i++) {
    if (v[i] === 'old') lastOld = i;
    else if (v[i] === 'new') {
      if (i === lastOld + 1) return { kind: 'changed', lastOld, firstNew: i, skipped };
      const candidates: number[] = [];
      for (let j = lastOld + 1; j <= i; j++) candidates.push(j);
      return { kind: 'ambiguous', lastOld, candidates, skipped };
    }
  }
  const testable = v.filter((x) => x !== 'skip').length;
  if (testable === 1) return { kind: 'single', at: lo, skipped };
  return { kind: 'no-change', lo, hi: v.length - 1 - [...v].reverse().findIndex((x) => x !== 'skip'), skipped };
}

/** The first watched event whose outcome differs between two runs, the rules, and the log diff. */
export function explain(
  before: VersionRun,
  after: VersionRun,
  predicate: PredicateSpec,
  changes?: (from: string, to: string) => SwitchChange[],
): Transition {
  const a = watchedEvents(before, predicate);
  const b = watchedEvents(after, predicate);
  const key = keyFor(predicate);
  const pairs: { x: EventResult | null; y: EventResult | null }[] = [];
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === null || y === null || x.index !== y.index || key(x) !== key(y)) pairs.push({ x, y });
  }
  // The event to show: the first whose outcome changes (what bisect is about); failing that, the
  // first that differs at all. Differences before it (effects only) are listed, not hidden.
  const main = pairs.find((p) => p.x === null || p.y === null || p.x.outcome !== p.y.outcome) ?? pairs[0];
  let event: Transition['event'] = null;
  if (main !== undefined) {
    const e = (main.y ?? main.x) as EventResult;
    event = { index: e.index, what: e.what, before: main.x, after: main.y };
  }
  const earlier = pairs.slice(0, main === undefined ? 0 : pairs.indexOf(main)).map(({ x, y }) => {
    const e = (y ?? x) as EventResult;
    return { index: e.index, what: e.what, ruleBefore: x?.rule ?? '', ruleAfter: y?.rule ?? '' };
  });
  const rule = event === null ? null : { before: event.before?.rule ?? '', after: event.after?.rule ?? '' };
  const switches = changes === undefined ? [] : changes(before.point.id, after.point.id);
  return {
    from: before.point.id,
    to: after.point.id,
    event,
    rule,
    earlier,
    switches,
    diff: logDiff(before, after),
  };
}

/** Unified diff of two outcome logs, headers naming the versions; '' when the logs are identical. */
export function logDiff(before: VersionRun, after: VersionRun): string {
  const a = before.events.map((e) => e.line).join('\n') + '\n';
  const b = after.events.map((e) => e.line).join('\n') + '\n';
  if (a === b) return '';
  return createTwoFilesPatch(before.point.id, after.point.id, a, b, undefined, undefined, {
    context: 3,
    headerOptions: FILE_HEADERS_ONLY,
  });
}
