import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assertBuilt, run, scratchCorpus } from './cli.js';

const SEED = 'traces/seeds/004-mse-live-mappings';
const G58 = `${SEED}/mse-live-mappings@linux-5.8.golden`;

beforeAll(assertBuilt);

/** Pretend the model's fault rule changed: the golden recorded a populate where the model now SIGBUSes. */
function breakGolden(dir: string): string {
  const p = join(dir, G58);
  const text = readFileSync(p, 'utf8');
  const changed = text.replace(
    /(#0005 host  mem-read bar0\+0x8 len=4 +=> )SIGBUS BUS_ADRERR \[fault\.memory-disabled-sigbus\]/,
    '$1ok populate(bar0) [fault.populate]',
  );
  expect(changed).not.toBe(text);
  writeFileSync(p, changed);
  return changed;
}

describe('vfio-replay check (built CLI)', { timeout: 60_000 }, () => {
  test('the committed seeds pass: exit 0, a summary, nothing written', () => {
    const dir = scratchCorpus(['004-mse-live-mappings', '002-guest-d3hot-mmio']);
    const before = readdirSync(join(dir, SEED)).sort();
    const r = run(['check'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^check: 20 goldens, 20 passed, 0 failed, 0 missing, 0 obsolete$/m);
    expect(readdirSync(join(dir, SEED)).sort()).toEqual(before);
  });

  test('a changed outcome fails with the first difference, the rule, a unified diff and the fix', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    const broken = breakGolden(dir);
    const r = run(['check'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL ${G58}`);
    expect(r.stdout).toContain('first difference at event #0005 (rule now fault.memory-disabled-sigbus, golden had fault.populate)');
    expect(r.stdout).toContain(`--- ${G58}`);
    expect(r.stdout).toMatch(/^ {2}\+#0005 host {2}mem-read bar0\+0x8 len=4 +=> SIGBUS BUS_ADRERR \[fault\.memory-disabled-sigbus\]$/m);
    expect(r.stdout).toContain(`fix: npx vfio-replay check --update ${G58}`);
    expect(r.stdout).not.toContain('\x1b['); // not a TTY: no color
    expect(readFileSync(join(dir, G58), 'utf8')).toBe(broken); // check never writes without --update
  });

  test('--update rewrites the changed golden atomically; then check passes', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    const original = readFileSync(join(dir, G58), 'utf8');
    breakGolden(dir);
    const u = run(['check', '--update'], { cwd: dir });
    expect(u.code).toBe(0);
    expect(u.stdout).toContain(`updated ${G58} (first change at #5, fault.memory-disabled-sigbus)`);
    expect(readFileSync(join(dir, G58), 'utf8')).toBe(original);
    expect(readdirSync(join(dir, SEED)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(run(['check'], { cwd: dir }).code).toBe(0);
  });

  test('with CI set, --update refuses and writes nothing', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    const broken = breakGolden(dir);
    const r = run(['check', '--update'], { cwd: dir, env: { CI: 'true' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vfio-replay: refusing to --update goldens: CI is set/);
    expect(readFileSync(join(dir, G58), 'utf8')).toBe(broken);
  });

  test('CI: a listed version without a golden fails and names the command that creates it', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    rmSync(join(dir, G58));
    const r = run(['check'], { cwd: dir, env: { CI: 'true' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`MISSING ${G58}`);
    expect(r.stdout).toContain(`fix: run \`npx vfio-replay check --update ${SEED}/mse-live-mappings.pb\` locally`);
    expect(existsSync(join(dir, G58))).toBe(false);
    const fixed = run(['check', '--update', `${SEED}/mse-live-mappings.pb`], { cwd: dir });
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain(`created ${G58}`);
    expect(run(['check'], { cwd: dir, env: { CI: 'true' } }).code).toBe(0);
  });

  test('CI: an unlisted golden and a golden whose trace is gone are obsolete; --update deletes them', () => {
    const dir = scratchCorpus(['004-mse-live-mappings', '000-reset-from-d3hot']);
    const unlisted = `${SEED}/mse-live-mappings@linux-5.19.golden`;
    copyFileSync(join(dir, G58), join(dir, unlisted));
    for (const ext of ['pb', 'txt']) rmSync(join(dir, `traces/seeds/000-reset-from-d3hot/reset-from-d3hot.${ext}`));
    const r = run(['check'], { cwd: dir, env: { CI: 'true' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`OBSOLETE ${unlisted}: mse-live-mappings.versions does not list linux-5.19`);
    expect(r.stdout).toContain('OBSOLETE traces/seeds/000-reset-from-d3hot/reset-from-d3hot.versions: its trace reset-from-d3hot.pb is gone');
    expect(r.stdout).toContain('reset-from-d3hot@bar-zap-cleanup@v2.golden: its trace reset-from-d3hot.pb is gone');
    expect(r.stdout).toContain(`fix: run \`npx vfio-replay check --update ${unlisted}\` locally`);
    expect(existsSync(join(dir, unlisted))).toBe(true);
    const u = run(['check', '--update'], { cwd: dir });
    expect(u.code).toBe(0);
    expect(existsSync(join(dir, unlisted))).toBe(false);
    expect(readdirSync(join(dir, 'traces/seeds/000-reset-from-d3hot'))).toEqual(['README.md']);
    expect(run(['check'], { cwd: dir, env: { CI: 'true' } }).code).toBe(0);
  });

  test('a version the model does not know: exit 125 (git bisect run: skip)', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    writeFileSync(join(dir, SEED, 'mse-live-mappings.versions'), 'linux-5.8\nlinux-9.9\n');
    copyFileSync(join(dir, G58), join(dir, SEED, 'mse-live-mappings@linux-9.9.golden'));
    for (const g of readdirSync(join(dir, SEED)).filter((f) => f.endsWith('.golden') && !/@linux-(5\.8|9\.9)\./.test(f)))
      rmSync(join(dir, SEED, g));
    const r = run(['check'], { cwd: dir });
    expect(r.stdout).toContain('unknown kernel model version "linux-9.9"');
    expect(r.code).toBe(125);
  });

  test('bad input: exit 2, one line, no stack', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    const missing = run(['check', 'no/such/folder'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('vfio-replay: no/such/folder: no such file or folder\n');
    writeFileSync(join(dir, SEED, 'mse-live-mappings.versions'), 'linux-5.8 linux-6.19\n');
    const badListing = run(['check'], { cwd: dir });
    expect(badListing.code).toBe(2);
    expect(badListing.stderr).toMatch(/^vfio-replay: traces\/seeds\/004-mse-live-mappings\/mse-live-mappings\.versions:1:1: expected KERNEL/);
    expect(run(['check', '--shard', '3/2'], { cwd: dir }).code).toBe(2);
    expect(run(['check', '--jobs', '0'], { cwd: dir }).code).toBe(2);
    // --jobs 3 forks its children before listing the corpus: bad input still ends at once, with
    // the one line and no orphan (the unused children are let go; spawnSync would wait for them).
    const early = run(['check', '--jobs', '3', 'no/such/folder'], { cwd: dir });
    expect(early.code).toBe(2);
    expect(early.stderr).toBe('vfio-replay: no/such/folder: no such file or folder\n');
  });

  test('a corrupt trace is bad input for its golden (exit 2), located', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    const pb = join(dir, SEED, 'mse-live-mappings.pb');
    writeFileSync(pb, readFileSync(pb).subarray(0, 100));
    const r = run(['check'], { cwd: dir });
    expect(r.code).toBe(2);
    // The located error on stderr, like every command's bad input; the summary counts it.
    expect(r.stderr).toMatch(/^vfio-replay: traces\/seeds\/004-mse-live-mappings\/mse-live-mappings\.pb: .*truncated/m);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(r.stdout).toMatch(/ [1-9]\d* errors/);
    expect(r.stdout).not.toMatch(/mse-live-mappings\.pb:/);
  });

  test('--shard splits the goldens; --jobs runs child processes with the same results', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    const oks = (args: string[]): string[] =>
      run(['check', '--verbose', ...args], { cwd: dir })
        .stdout.split('\n')
        .filter((l) => l.startsWith('ok '))
        .sort();
    const all = oks(['--jobs', '1']);
    expect(all).toHaveLength(6);
    const s1 = oks(['--shard', '1/2']);
    const s2 = oks(['--shard', '2/2']);
    expect(s1.length).toBeGreaterThan(0);
    expect(s2.length).toBeGreaterThan(0);
    expect([...s1, ...s2].sort()).toEqual(all);
    expect(oks(['--jobs', '2'])).toEqual(all);
  });

  test('--jobs 3 (this process + 2 children): the same report, mismatch and JUnit as --jobs 1', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    breakGolden(dir);
    const one = run(['check', '--verbose', '--jobs', '1', '--junit', 'one.xml'], { cwd: dir });
    const three = run(['check', '--verbose', '--jobs', '3', '--junit', 'three.xml'], { cwd: dir });
    expect(one.code).toBe(1);
    expect(three.code).toBe(1);
    expect(three.stdout).toBe(one.stdout);
    expect(readFileSync(join(dir, 'three.xml'), 'utf8')).toBe(readFileSync(join(dir, 'one.xml'), 'utf8'));
  });

  test('--junit writes a report; GITHUB_ACTIONS adds ::error annotations at the golden line', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    breakGolden(dir);
    const r = run(['check', '--junit', 'report.xml'], { cwd: dir, env: { GITHUB_ACTIONS: 'true' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^::error file=${G58.replace(/[.+]/g, '\\$&')},line=12,title=vfio-replay golden mismatch::first difference at event #0005`, 'm'));
    const xml = readFileSync(join(dir, 'report.xml'), 'utf8');
    expect(xml).toContain('<testsuite name="vfio-replay check" tests="6" failures="1" errors="0" skipped="0">');
    expect(xml).toContain('<failure message="first difference at #5 (rule fault.memory-disabled-sigbus)" type="mismatch">');
  });

  test('color: on when forced, off when NO_COLOR is set', () => {
    const dir = scratchCorpus(['004-mse-live-mappings']);
    breakGolden(dir);
    expect(run(['check'], { cwd: dir, env: { FORCE_COLOR: '1' } }).stdout).toContain('\x1b[31m');
    expect(run(['check'], { cwd: dir, env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout).not.toContain('\x1b[');
  });
});
