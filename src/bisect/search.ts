// Binary search for the first "new" point of an ordered list, with git bisect's skip semantics.
// Pure: the caller supplies `probe(i)`, which replays point i (caching is the caller's business;
// this function never probes the same index twice anyway).
//
// Shape of the search (mozregression / cargo-bisect-rustc): establish both ends first, then halve.
//   1. the low end: the first index whose verdict is not skip (it must be old; in terms mode it can
//      turn out new, which means there is nothing to bisect);
//   2. the high end: the last index whose verdict is not skip (old => no change between the ends);
//   3. halve the open interval (lo, hi) keeping lo old and hi new. A skipped midpoint is replaced by
//      the untested index nearest the middle; when every index inside is skipped, the answer is the
//      set "one of these skipped versions, or hi" (git bisect's "only skipped commits left").
// Without skips this probes at most 2 + ceil(log2(n - 1)) <= ceil(log2 n) + 2 points.

import type { Verdict } from './types.js';

export type SearchResult =
  /** `firstNew` is the first new index; `lastOld` the old index right before it (adjacent). */
  | { kind: 'changed'; lastOld: number; firstNew: number; skipped: number[] }
  /** Both ends old: no change between them. `lo`/`hi` are the ends actually compared. */
  | { kind: 'no-change'; lo: number; hi: number; skipped: number[] }
  /** Only one testable point: nothing to compare it with. */
  | { kind: 'single'; at: number; skipped: number[] }
  /** The first testable point is already new (terms mode). */
  | { kind: 'first-is-new'; at: number; skipped: number[] }
  /** The change lies somewhere in `candidates` (skipped points, then the first new one). */
  | { kind: 'ambiguous'; lastOld: number; candidates: number[]; skipped: number[] }
  /** No point can be tested. */
  | { kind: 'all-skipped'; skipped: number[] };

export interface SearchStep {
  index: number;
  verdict: Verdict;
}

export function bisectIndices(n: number, probe: (i: number) => Verdict): { result: SearchResult; steps: SearchStep[] } {
  const verdicts = new Map<number, Verdict>();
  const steps: SearchStep[] = [];
  const test = (i: number): Verdict => {
    const known = verdicts.get(i);
    if (known !== undefined) return known;
    const v = probe(i);
    verdicts.set(i, v);
    steps.push({ index: i, verdict: v });
    return v;
  };
  const skippedSoFar = (): number[] =>
    [...verdicts.entries()]
      .filter(([, v]) => v === 'skip')
      .map(([i]) => i)
      .sort((a, b) => a - b);

  if (n <= 0) return { result: { kind: 'all-skipped', skipped: [] }, steps };

  let lo = -1;
  for (let i = 0; i < n; i++) {
    if (test(i) !== 'skip') {
      lo = i;
      break;
    }
  }
  if (lo < 0) return { result: { kind: 'all-skipped', skipped: skippedSoFar() }, steps };
  if (verdicts.get(lo) === 'new') return { result: { kind: 'first-is-new', at: lo, skipped: skippedSoFar() }, steps };

  let hi = -1;
  for (let i = n - 1; i > lo; i--) {
    if (test(i) !== 'skip') {
      hi = i;
      break;
    }
  }
  if (hi < 0) return { result: { kind: 'single', at: lo, skipped: skippedSoFar() }, steps };
  if (verdicts.get(hi) === 'old') return { result: { kind: 'no-change', lo, hi, skipped: skippedSoFar() }, steps };

  // Invariant: lo is old, hi is new, every index in (lo, hi) is untested or skipped.
  for (;;) {
    const inside: number[] = [];
    for (let i = lo + 1; i < hi; i++) if (verdicts.get(i) !== 'skip') inside.push(i);
    if (inside.length === 0) break;
    const mid = lo + Math.floor((hi - lo) / 2);
    // The untested index nearest the middle (ties go low, like floor()).
    let pick = inside[0];
    for (const i of inside) if (Math.abs(i - mid) < Math.abs(pick - mid)) pick = i;
    const v = test(pick);
    if (v === 'old') lo = pick;
    else if (v === 'new') hi = pick;
  }

  const between: number[] = [];
  for (let i = lo + 1; i < hi; i++) between.push(i);
  const skipped = skippedSoFar();
  if (between.length === 0) return { result: { kind: 'changed', lastOld: lo, firstNew: hi, skipped }, steps };
  return { result: { kind: 'ambiguous', lastOld: lo, candidates: [...between, hi], skipped }, steps };
}

/** The replay budget the search keeps without skips: ceil(log2 n) + 2 (n >= 1). */
export function replayBudget(n: number): number {
  return n <= 1 ? n : Math.ceil(Math.log2(n)) + 2;
}
