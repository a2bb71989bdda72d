// Over N versions bisect replays at most ceil(log2 N)+2 of them, counted on real replays: lists of
// 8, 16 and 64 points, the first k replaying seed 004 under linux-5.7 and the rest under
// linux-5.8, for every k (and no change at all).
import { describe, expect, it } from 'vitest';
import { bisectReplayCounts } from '../../src/bisect/cost.js';
import { loadTrace } from '../../src/trace/index.js';

describe('bisect replay budget', () => {
  it('8, 16, 64 versions: at most ceil(log2 N)+2 replays, always the right answer', async () => {
    const trace = await loadTrace('traces/seeds/004-mse-live-mappings/mse-live-mappings.txt');
    const counts = bisectReplayCounts(trace, { kernel: 'linux-5.7', vmm: null }, { kernel: 'linux-5.8', vmm: null }, [8, 16, 64]);
    expect(counts.map((c) => [c.versions, c.budget, c.wrong])).toEqual([
      [8, 5, 0],
      [16, 6, 0],
      [64, 8, 0],
    ]);
    for (const c of counts) {
      expect(c.max).toBeLessThanOrEqual(c.budget);
      expect(c.lists).toBe(c.versions);
    }
    // Hundreds of replays, each exploring the seed's race group: more than vitest's default 5 s on a
    // loaded machine (a limit on the test's run, not a speed assertion).
  }, 120_000);

  it('refuses two selections the trace cannot tell apart', async () => {
    const trace = await loadTrace('traces/seeds/004-mse-live-mappings/mse-live-mappings.txt');
    expect(() => bisectReplayCounts(trace, { kernel: 'linux-5.8', vmm: null }, { kernel: 'block-disabled-mmio@v3', vmm: null })).toThrow(
      /replays the same/,
    );
  });
});
