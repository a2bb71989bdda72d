// Every trace under traces/bugs/: bisect over the stable point releases (or the versions its README
// names) lands on the version carrying the fix, and the report names the fix commit.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';

const dir = join(repo, 'traces/bugs');
const folders = readdirSync(dir).sort();

/** The bisect command of the folder's README, and the fix version / commit it must find. */
const EXPECT: Record<string, { firstNew: string; commit: string | null }> = {
  '6a45ece4c9af-concurrent-vma-fault': { firstNew: 'linux-5.10.50', commit: '6a45ece4c9af' },
  'bc93b9ae0151-recursive-memory-lock': { firstNew: 'linux-5.8.3', commit: 'bc93b9ae0151' },
  '38565c93c8a1-ioeventfd-sleep-in-atomic': { firstNew: 'linux-5.9.9', commit: '38565c93c8a1' },
  // A series version against the release: the switch changes, but no point release sets it.
  'ebfa440ce38b-vf-mmio-blocking': { firstNew: 'linux-5.8', commit: null },
  'abafbc551fdd-contended-fault-sigbus': { firstNew: 'block-disabled-mmio@v2', commit: 'abafbc551fdd' },
  '515ecd5368f1-no-command-memory': { firstNew: 'linux-5.8.17', commit: '515ecd5368f1' },
  // On 6.6.y the revert of the backported cause ends the bug (the fix came later with the cause again).
  'aac6db75a9fc-fork-untracked-ptes': { firstNew: 'linux-6.6.35', commit: 'dd782da47076' },
  '810cd4bb5345-intx-mask-race': { firstNew: 'linux-6.6.24', commit: '810cd4bb5345' },
  'fe4bf8d0b671-hidden-first-ecap': { firstNew: 'linux-6.12.2', commit: 'fe4bf8d0b671' },
  '09dfc8a5f2ce-huge-fault-unaligned-pfn': { firstNew: 'linux-6.12.10', commit: '09dfc8a5f2ce' },
  'c1d9dac0db16-huge-fault-order': { firstNew: 'linux-6.12.29', commit: 'c1d9dac0db16' },
  '07956b6269d3-type1-pfnmap-prot': { firstNew: 'linux-5.10.20', commit: '07956b6269d3' },
  '18c198c96a81-intx-null-trigger': { firstNew: 'linux-5.10.215', commit: '18c198c96a81' },
  '7b06a56d468b-sme-encrypted-bar-pte': { firstNew: 'linux-5.10.4', commit: '7b06a56d468b' },
  '909290786ea3-mmap-region-index-oob': { firstNew: 'linux-5.10.32', commit: '909290786ea3' },
  'fe9a7082684e-intx-auto-enable-depth': { firstNew: 'linux-6.6.24', commit: 'fe9a7082684e' },
};

describe('traces/bugs: bisect names the fix', () => {
  beforeAll(assertBuilt);
  it('every bug folder is listed here', () => expect(folders).toEqual(Object.keys(EXPECT).sort()));
  for (const f of folders) {
    // Each runs the built CLI; under a loaded machine that takes seconds.
    it(f, { timeout: 120_000 }, () => {
      const readme = readFileSync(join(dir, f, 'README.md'), 'utf8');
      const cmd = /npx vfio-replay (bisect .*)$/m.exec(readme);
      expect(cmd, `${f}/README.md has no bisect command`).not.toBeNull();
      const r = run(cmd![1].split(' '), { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`first new version: ${EXPECT[f].firstNew} `);
      if (EXPECT[f].commit !== null) expect(r.stdout).toMatch(new RegExp(`: true -> false +\\(${EXPECT[f].commit} `));
      expect(f.startsWith(readme.slice(2, 14))).toBe(true);
    });
  }
});
