// Parallel check: how many evaluator processes the default uses, and the contiguous piece of the
// job list each gets (about equal estimated work).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { defaultProcesses, jobWork, splitByWork, UNIT_BYTES, UNITS_PER_PROCESS } from '../../src/golden/check.js';

describe('splitByWork', () => {
  test('equal work splits evenly; a big trace gets a piece of its own', () => {
    expect(splitByWork([1, 1, 1, 1], 2)).toEqual([0, 2, 4]);
    expect(splitByWork([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2)).toEqual([0, 1, 11]);
    expect(splitByWork([], 3)).toEqual([0, 0, 0, 0]);
  });
  test('n+1 increasing bounds from 0 to the end: every job in exactly one piece', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 1 << 20, noNaN: true }), { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (work, n) => {
        const b = splitByWork(work, n);
        expect(b).toHaveLength(n + 1);
        expect(b[0]).toBe(0);
        expect(b[n]).toBe(work.length);
        for (let i = 1; i <= n; i++) expect(b[i]).toBeGreaterThanOrEqual(b[i - 1]);
      }),
    );
  });
});

describe('jobWork', () => {
  test('a job costs one unit plus one per UNIT_BYTES of trace', () => {
    expect(jobWork(0)).toBe(1);
    expect(jobWork(UNIT_BYTES)).toBe(2);
    expect(jobWork(8 << 20)).toBeCloseTo(1 + (8 << 20) / UNIT_BYTES);
  });
});

describe('defaultProcesses', () => {
  test('one process until the work pays for a second one (its start-up and JIT warm-up)', () => {
    // The committed corpus (a few hundred goldens) and 2,000 small traces stay in one process:
    // measured slower with two (docs/performance.md).
    expect(defaultProcesses(336 * jobWork(4096), 2)).toBe(1);
    expect(defaultProcesses(2000 * jobWork(4096), 2)).toBe(1);
    expect(defaultProcesses(5000 * jobWork(4096), 2)).toBe(2);
    expect(defaultProcesses(2 * UNITS_PER_PROCESS, 2)).toBe(2);
    expect(defaultProcesses(2 * UNITS_PER_PROCESS - 1, 2)).toBe(1);
  });
  test('never more than the cores, never fewer than one, never fewer for more work', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 0, max: 1e9, noNaN: true }), fc.integer({ min: 1, max: 64 }), (a, b, cores) => {
        const p = defaultProcesses(a, cores);
        expect(p).toBeGreaterThanOrEqual(1);
        expect(p).toBeLessThanOrEqual(cores);
        expect(defaultProcesses(a + b, cores)).toBeGreaterThanOrEqual(p);
      }),
    );
  });
  test('a single core never forks', () => {
    expect(defaultProcesses(1e9, 1)).toBe(1);
  });
});
