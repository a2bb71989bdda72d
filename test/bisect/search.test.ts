import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bisectIndices, replayBudget } from '../../src/bisect/search.js';
import type { Verdict } from '../../src/bisect/types.js';

/** A probe over a fixed verdict list that counts (and records) the indices it is asked about. */
function counted(verdicts: Verdict[]) {
  const asked: number[] = [];
  return {
    asked,
    probe: (i: number): Verdict => {
      asked.push(i);
      return verdicts[i];
    },
  };
}

const monotone = (n: number, firstNew: number): Verdict[] => Array.from({ length: n }, (_, i) => (i < firstNew ? 'old' : 'new'));

describe('bisectIndices', () => {
  it('checks both ends first', () => {
    const c = counted(monotone(16, 5));
    bisectIndices(16, c.probe);
    expect(c.asked.slice(0, 2)).toEqual([0, 15]);
  });

  it('finds every transition point within ceil(log2 N)+2 probes, never probing twice', () => {
    for (let n = 2; n <= 70; n++) {
      for (let k = 1; k < n; k++) {
        const c = counted(monotone(n, k));
        const { result } = bisectIndices(n, c.probe);
        expect(result).toEqual({ kind: 'changed', lastOld: k - 1, firstNew: k, skipped: [] });
        expect(c.asked.length).toBeLessThanOrEqual(replayBudget(n));
        expect(new Set(c.asked).size).toBe(c.asked.length);
      }
    }
  });

  it('reports no change when both ends are old, after two probes', () => {
    const c = counted(monotone(9, 9));
    expect(bisectIndices(9, c.probe).result).toEqual({ kind: 'no-change', lo: 0, hi: 8, skipped: [] });
    expect(c.asked).toEqual([0, 8]);
  });

  it('a single version cannot change', () => {
    expect(bisectIndices(1, () => 'old').result).toEqual({ kind: 'single', at: 0, skipped: [] });
  });

  it('moves the ends inward past skipped versions', () => {
    const v: Verdict[] = ['skip', 'old', 'old', 'new', 'new', 'skip'];
    expect(bisectIndices(v.length, counted(v).probe).result).toEqual({ kind: 'changed', lastOld: 2, firstNew: 3, skipped: [0, 5] });
  });

  it('steps around a skipped midpoint', () => {
    const v: Verdict[] = ['old', 'old', 'old', 'old', 'skip', 'old', 'new', 'new', 'new'];
    const c = counted(v);
    const { result } = bisectIndices(v.length, c.probe);
    expect(result).toEqual({ kind: 'changed', lastOld: 5, firstNew: 6, skipped: [4] });
    expect(c.asked).toEqual([0, 8, 4, 3, 5, 6]);
  });

  it('is ambiguous when only skipped versions lie between old and new (git: "only skipped commits left")', () => {
    const v: Verdict[] = ['old', 'skip', 'skip', 'new'];
    expect(bisectIndices(v.length, counted(v).probe).result).toEqual({
      kind: 'ambiguous',
      lastOld: 0,
      candidates: [1, 2, 3],
      skipped: [1, 2],
    });
  });

  it('says so when the first testable version is already new (terms given the wrong way round)', () => {
    expect(bisectIndices(3, counted(['skip', 'new', 'new']).probe).result).toEqual({ kind: 'first-is-new', at: 1, skipped: [0] });
  });

  it('all skipped', () => {
    expect(bisectIndices(3, () => 'skip').result).toEqual({ kind: 'all-skipped', skipped: [0, 1, 2] });
  });

  it('on any monotone list with skips, lands on the true boundary or an ambiguity that contains it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 80 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n - 1 }), fc.array(fc.boolean(), { minLength: n, maxLength: n })),
        ),
        ([n, k, skipMask]) => {
          // Keep the two versions around the boundary testable in half the cases, so both shapes occur.
          const v: Verdict[] = monotone(n, k).map((x, i) => (skipMask[i] && i !== 0 && i !== n - 1 ? 'skip' : x));
          const c = counted(v);
          const { result } = bisectIndices(n, c.probe);
          const firstTestableNew = v.findIndex((x, i) => i >= k && x === 'new');
          if (result.kind === 'changed') {
            expect(result.firstNew).toBe(firstTestableNew);
            expect(result.firstNew).toBe(k);
          } else {
            expect(result.kind).toBe('ambiguous');
            if (result.kind === 'ambiguous') {
              expect(result.candidates).toContain(k);
              expect(result.candidates[result.candidates.length - 1]).toBe(firstTestableNew);
              expect(v[result.lastOld]).toBe('old');
            }
          }
          expect(new Set(c.asked).size).toBe(c.asked.length);
        },
      ),
    );
  });
});

describe('replayBudget', () => {
  it('is ceil(log2 N)+2', () => {
    expect([1, 2, 8, 16, 64, 65].map(replayBudget)).toEqual([1, 3, 5, 6, 8, 9]);
  });
});
