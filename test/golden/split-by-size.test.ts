// Parallel check gives each evaluator one contiguous piece of the job list of about equal bytes.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { splitBySize } from '../../src/golden/check.js';

describe('splitBySize', () => {
  test('equal sizes split evenly; a big trace gets a piece of its own', () => {
    expect(splitBySize([1, 1, 1, 1], 2)).toEqual([0, 2, 4]);
    expect(splitBySize([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2)).toEqual([0, 1, 11]);
    expect(splitBySize([], 3)).toEqual([0, 0, 0, 0]);
  });
  test('n+1 increasing bounds from 0 to the end: every job in exactly one piece', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1 << 20), { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (sizes, n) => {
        const b = splitBySize(sizes, n);
        expect(b).toHaveLength(n + 1);
        expect(b[0]).toBe(0);
        expect(b[n]).toBe(sizes.length);
        for (let i = 1; i <= n; i++) expect(b[i]).toBeGreaterThanOrEqual(b[i - 1]);
      }),
    );
  });
});
