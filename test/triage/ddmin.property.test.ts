import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ddmin } from '../../src/minimize/ddmin.js';

describe('ddmin', () => {
  it('finds exactly the items a "contains all of S" test needs, with every item of S kept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.array(fc.nat(59), { maxLength: 6 }), (n, raw) => {
        const items = Array.from({ length: n }, (_, i) => i);
        const needed = new Set(raw.filter((x) => x < n));
        const out = ddmin(items, (kept) => [...needed].every((x) => kept.includes(x)));
        expect(new Set(out)).toEqual(needed);
      }),
    );
  });

  it('is 1-minimal for a test that wants any two items of a pair set', () => {
    const items = Array.from({ length: 40 }, (_, i) => i);
    const out = ddmin(items, (kept) => kept.filter((x) => x % 7 === 3).length >= 2);
    expect(out.length).toBe(2);
    for (const x of out) expect(x % 7).toBe(3);
  });
});
