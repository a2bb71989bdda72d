// A small deterministic slice of `npm run fuzz` (fuzz/campaign.ts): the same seed every run, every
// target, in-process and through the built CLI. Any crasher fails, with its repro line.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TARGETS, runTarget } from '../fuzz/campaign.js';
import { assertBuilt } from './e2e/cli.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

describe('fuzz slice (seed 19)', { timeout: 120_000 }, () => {
  assertBuilt();
  for (const target of TARGETS) {
    it(`${target}: no crashers`, () => {
      const r = runTarget({ repo, targets: [...TARGETS], count: 150, cliCount: 2, seed: 19, crashDir: null }, target);
      expect(r.inputs).toBe(target === 'cli' ? 2 : 152);
      expect(r.crashers.map((c) => c.repro)).toEqual([]);
      // The mutations reach past the first check: some inputs replay, some are refused.
      if (target !== 'cli') expect(r.outcomes.ok ?? 0).toBeGreaterThan(0);
    });
  }
});
