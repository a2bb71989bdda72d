// `vfio-replay promote` run as a user would: a real nested-lab capture folder and a seed trace
// become corpus entries that `check` passes; bad input is one located line, exit 2, nothing written.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';
import { loadTrace } from '../../src/trace/index.js';

const capture = join(repo, 'traces/qemu/7.2/d3hot-read');
const seed2 = join(repo, 'traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb');

describe('promote (built CLI)', { timeout: 120_000 }, () => {
  beforeAll(assertBuilt);

  it('a capture folder: imported, minimized, listed where the outcome differs, goldens that check passes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vfio-promote-'));
    const folder = join(root, 'traces/reports');
    const r = run(
      ['promote', capture, '--vmm', 'qemu', '--vmm-version', '7.2.22', '--accel', 'tcg', '--title', 'QEMU 7.2 SIGBUS in D3hot',
        '--to', folder, '--name', 'q72-d3hot', '--minimize', '--outcome', 'vmm-exit|SIGBUS'],
      { cwd: root },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^promote .*d3hot-read: imported 171 events, minimized to [2-5]\n/);
    const t = await loadTrace(join(folder, 'q72-d3hot.pb'));
    // The importer may show the fatal access as the guest's MMIO read or the VMM's own load.
    expect(t.events.length).toBeLessThanOrEqual(5);
    expect(t.header.title).toBe('minimized: QEMU 7.2 SIGBUS in D3hot');
    expect((await loadTrace(join(folder, 'q72-d3hot.txt'))).events).toHaveLength(t.events.length);
    const listing = readFileSync(join(folder, 'q72-d3hot.versions'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(listing[0]).toBe("linux-6.1+qemu-7.2  # the trace's own versions");
    // Before 5.8 the kernel did not zap: the read reaches the D3hot device instead of SIGBUS.
    expect(listing.some((l) => l.startsWith('linux-5.7+qemu-7.2  # #') && l.includes('HAZARD'))).toBe(true);
    const goldens = readdirSync(folder).filter((f) => f.endsWith('.golden'));
    expect(goldens).toHaveLength(listing.length);
    const readme = readFileSync(join(folder, 'README.md'), 'utf8');
    expect(readme).toContain(`from \`${capture}\` (a capture folder, imported; source strace, kernel 6.1.0-56-amd64, VMM qemu 7.2.22`);
    expect(readme).toContain('Minimized from 171 to');
    const check = run(['check', folder], { cwd: root });
    expect(check.stdout).toMatch(new RegExp(`check: ${listing.length} goldens, ${listing.length} passed, 0 failed`));
    expect(check.code).toBe(0);
  });

  it('a trace: all events kept, a second trace appends to the README; the same name again is refused', () => {
    const root = mkdtempSync(join(tmpdir(), 'vfio-promote-'));
    const folder = join(root, 'reports');
    expect(run(['promote', seed2, '--to', folder, '--name', 'one'], { cwd: root }).code).toBe(0);
    const r = run(['promote', seed2, '--to', folder, '--name', 'two'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/loaded 9 events\n/);
    expect(r.stdout).toContain('linux-6.19+openvmm-3336  the trace\'s own versions');
    expect(r.stdout).toContain('linux-5.19+openvmm-3248  #4 all-ones len=4 [vmm.trapped.error-all-ones] (own: vmm-exit KVM_RUN -EFAULT)');
    const readme = readFileSync(join(folder, 'README.md'), 'utf8');
    expect(readme.indexOf('## one')).toBeGreaterThan(0);
    expect(readme.indexOf('## two')).toBeGreaterThan(readme.indexOf('## one'));
    const before = readdirSync(folder).sort();
    const again = run(['promote', seed2, '--to', folder, '--name', 'one'], { cwd: root });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^vfio-replay: .*reports\/one\.pb: already exists \(pass --force to replace it\)\n$/);
    expect(readdirSync(folder).sort()).toEqual(before);
    expect(run(['check', folder], { cwd: root }).code).toBe(0);
  });

  it('bad input: one located line, exit 2, nothing written', () => {
    const root = mkdtempSync(join(tmpdir(), 'vfio-promote-'));
    const folder = join(root, 'reports');
    const cases: [string[], RegExp][] = [
      [['promote', seed2, '--to', folder, '--name', 'a@b'], /--name wants letters/],
      [['promote', join(root, 'nope'), '--to', folder, '--name', 'x'], /nope: no such file or capture folder/],
      [['promote', seed2, '--to', folder, '--name', 'x', '--outcome', 'SIGBUS'], /add --minimize/],
      [['promote', seed2, '--to', folder, '--name', 'x', '--minimize'], /--minimize wants exactly one goal/],
      [['promote', seed2, '--to', folder, '--name', 'x', '--minimize', '--outcome', 'ENODEV'], /guest-d3hot-mmio\.pb: nothing to keep: some event ends like ENODEV/],
      [['promote', capture, '--accel', 'kvmm', '--to', folder, '--name', 'x'], /--accel must be one of/],
      [['promote', seed2, '--name', 'x'], /required option '--to <folder>'/],
    ];
    for (const [args, msg] of cases) {
      const r = run(args, { cwd: root });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => !l.includes('warning:'))).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    expect(existsSync(folder)).toBe(false);
  });
});
