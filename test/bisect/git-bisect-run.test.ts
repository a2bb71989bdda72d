// `vfio-replay check` under `git bisect run`, on a real (throwaway) git history of the model: 0 good,
// 1 bad, 125 skip. To stay fast the history is made of the BUILT model (dist/), so no commit needs
// a compile; docs/bisect.md "Bisecting the model's own history" runs the same thing on the sources.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';

beforeAll(assertBuilt);

const SEED = 'traces/seeds/004-mse-live-mappings';
const RDWR = 'dist/src/model/kernel/rdwr.js';
const VERSIONS = 'dist/src/model/versions/kernel.js';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=bisect-test', '-c', 'user.email=bisect@test', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
  });
}

/** Replace exactly one occurrence of `from` in a file (the test fails loudly if the code moved). */
function edit(dir: string, file: string, from: string, to: string): void {
  const p = join(dir, file);
  const text = readFileSync(p, 'utf8');
  expect(text.split(from).length - 1, `${file} should contain ${from} once`).toBe(1);
  writeFileSync(p, text.replace(from, to));
}

function commit(dir: string, message: string): string {
  git(dir, 'commit', '-q', '--allow-empty', '-am', message);
  return git(dir, 'rev-parse', '--short', 'HEAD').trim();
}

describe('check under git bisect run (a throwaway history of the built model)', { timeout: 120_000 }, () => {
  test('finds the commit that changed a rule, skipping the one where the trace cannot be expressed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-git-bisect-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(repo, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(repo, 'package.json'), join(dir, 'package.json'));
    cpSync(join(repo, 'proto'), join(dir, 'proto'), { recursive: true });
    cpSync(join(repo, SEED), join(dir, SEED), { recursive: true });
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
    // Goldens in line with the model as built: this test is about exit codes, not about the corpus.
    const updated = run(['check', '--update', SEED], { cwd: dir });
    expect(updated.code, updated.stdout + updated.stderr).toBe(0);

    git(dir, 'init', '-q');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'base: the corpus passes');
    const base = git(dir, 'rev-parse', '--short', 'HEAD').trim();
    commit(dir, 'unrelated 1');
    edit(dir, VERSIONS, "id: 'block-disabled-mmio@v3',", "id: 'block-disabled-mmio@v3-wip',");
    const wip = commit(dir, 'versions: block-disabled-mmio@v3 renamed while in progress');
    edit(dir, VERSIONS, "id: 'block-disabled-mmio@v3-wip',", "id: 'block-disabled-mmio@v3',");
    commit(dir, 'versions: block-disabled-mmio@v3 back');
    edit(dir, RDWR, "errno: 'EIO' }, `${area}.memory-disabled-eio`", "errno: 'ENXIO' }, `${area}.memory-disabled-eio`");
    const ruleChange = commit(dir, 'rdwr: a BAR pread of disabled memory fails -ENXIO');
    commit(dir, 'unrelated 2');
    const branch = git(dir, 'rev-parse', '--abbrev-ref', 'HEAD').trim();

    // The three exit codes, at the commits that produce them.
    const checkAt = (rev: string): number | null => {
      git(dir, 'checkout', '-q', rev);
      return spawnSync(process.execPath, ['dist/src/cli/main.js', 'check', SEED], { cwd: dir }).status;
    };
    expect([checkAt(base), checkAt(wip), checkAt(ruleChange)]).toEqual([0, 125, 1]);
    git(dir, 'checkout', '-q', branch);

    git(dir, 'bisect', 'start', 'HEAD', base);
    const out = git(dir, 'bisect', 'run', process.execPath, 'dist/src/cli/main.js', 'check', SEED);
    expect(out).toMatch(new RegExp(`^${ruleChange}[0-9a-f]* is the first bad commit`, 'm'));
    expect(out).toContain('rdwr: a BAR pread of disabled memory fails -ENXIO');
    // git's first probe of this linear history is the middle one, the commit that exits 125.
    expect(git(dir, 'bisect', 'log')).toMatch(new RegExp(`^git bisect skip ${wip}`, 'm'));
    git(dir, 'bisect', 'reset');
  });
});
