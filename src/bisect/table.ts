// The transition table (`--all`): every version replayed, equal neighbors grouped, each group
// summarized by the outcome of the events that change somewhere along the list (or the watched
// event). It shows flip-flops a binary search cannot see (v1 -EIO, v3 SIGBUS, v5 back to -EIO).

import { blockingUnsupported, classify, keyFor, watchedEvents, type PredicateSpec } from './predicate.js';
import type { EventResult, Verdict, VersionRun } from './types.js';

export interface TableGroup {
  /** Index range into the version list, inclusive. */
  first: number;
  last: number;
  /** Version ids of the range's ends (equal for a one-version group). */
  from: string;
  to: string;
  verdict: Verdict;
  /** For a skipped group: why these versions cannot express the trace. */
  skipReason: string | null;
  /** The changing events as this group's first version replays them (empty for skipped groups). */
  events: EventResult[];
  /** Per changing event, every rule that decided it across the group (rules are not compared, so they may vary). */
  rules: Record<number, string[]>;
}

export interface TransitionTable {
  /** Event indices, among the watched ones, that differ between groups (outcome or effects). */
  changing: number[];
  /**
   * What each group is summarized by: the changing events whose *outcome* differs; when none
   * does, every changing event (then effects tell the groups apart).
   */
  columns: number[];
  /** True when `columns` were chosen by outcome (cells show outcomes only). */
  byOutcome: boolean;
  groups: TableGroup[];
}

function testable(runs: VersionRun[], spec: PredicateSpec): VersionRun[] {
  return runs.filter((r) => blockingUnsupported(r, spec) === undefined);
}

/** Event indices, among the watched ones, whose `key` differs between any two testable runs. */
export function differingEvents(runs: VersionRun[], spec: PredicateSpec, key: (e: EventResult) => string): number[] {
  const ok = testable(runs, spec);
  const keys = new Map<number, Set<string>>();
  const present = new Map<number, number>();
  for (const run of ok) {
    for (const e of watchedEvents(run, spec)) {
      let set = keys.get(e.index);
      if (set === undefined) keys.set(e.index, (set = new Set()));
      set.add(key(e));
      present.set(e.index, (present.get(e.index) ?? 0) + 1);
    }
  }
  const out: number[] = [];
  // An event present in some runs only (a shorter replay) also counts as differing.
  for (const [index, set] of keys) if (set.size > 1 || present.get(index) !== ok.length) out.push(index);
  return out.sort((a, b) => a - b);
}

export function transitionTable(runs: VersionRun[], spec: PredicateSpec): TransitionTable {
  const reference = runs.find((r) => blockingUnsupported(r, spec) === undefined) ?? null;
  const key = keyFor(spec);
  let changing = differingEvents(runs, spec, key);
  // With nothing changing, summarize by the watched event (if any) so the single group says what it is.
  if (changing.length === 0 && spec.event !== null) changing = [spec.event];
  const outcomeChanging = differingEvents(runs, spec, (e) => e.outcome);
  const byOutcome = outcomeChanging.length > 0;
  const columns = byOutcome ? outcomeChanging : changing;
  const groups: TableGroup[] = [];
  let groupKey = '';
  runs.forEach((run, i) => {
    const c = classify(run, reference, spec);
    const events = c.verdict === 'skip' ? [] : run.events.filter((e) => changing.includes(e.index));
    const k = c.verdict === 'skip' ? `skip\n${c.reason}` : `${c.verdict}\n${events.map((e) => `${e.index}:${key(e)}`).join('\n')}`;
    const open = groups[groups.length - 1];
    if (open !== undefined && k === groupKey) {
      open.last = i;
      open.to = run.point.id;
      for (const e of events) if (!open.rules[e.index].includes(e.rule)) open.rules[e.index].push(e.rule);
      return;
    }
    groupKey = k;
    groups.push({
      first: i,
      last: i,
      from: run.point.id,
      to: run.point.id,
      verdict: c.verdict,
      skipReason: c.verdict === 'skip' ? c.reason : null,
      events,
      rules: Object.fromEntries(events.map((e) => [e.index, [e.rule]])),
    });
  });
  return { changing, columns, byOutcome, groups };
}
