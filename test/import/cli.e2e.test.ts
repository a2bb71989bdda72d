// `vfio-replay import` as a user runs it: the built CLI, its summary, and no output on bad input.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo, straceDir } from './helpers.js';

const cli = join(repo, 'dist/src/cli/main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('vfio-replay import (built CLI)', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-cli-'));

  it('imports a capture, prints what it read and skipped, and the trace dumps', () => {
    const out = join(dir, 'ok.pb');
    const r = run(['import', '--strace', join(straceDir, 'xverbose.strace'), '--vmm', 'qemu', '--vmm-version', '10.0.3', '--title', 'fixture', '-o', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^34 events: vfio-open 3, /);
    expect(r.stderr).toMatch(/container\/group set-up calls \(as set-up events\) 9, other container\/group\/iommufd ioctls 1, device info queries 4/);
    expect(r.stderr).toMatch(/note: no device snapshot/);
    const d = run(['dump', out]);
    expect(d.status).toBe(0);
    expect(d.stdout).toMatch(/^source strace$/m);
    expect(d.stdout).toMatch(/^vmm qemu 10.0.3 kvm$/m);
    expect(d.stdout).toMatch(/race=1 kvm-run vcpu=0 => ret=0/);
  });

  it('malformed input: one located line on stderr, exit 2, no output file', () => {
    const lines = readFileSync(join(straceDir, 'tracer-default.strace'), 'latin1').split('\n');
    const at = lines.findIndex((l) => l.includes('pwrite64('));
    lines[at] = lines[at]!.replace(/, 2, (\d+)\)/, ', 2, $1');
    const bad = join(dir, 'bad.strace');
    writeFileSync(bad, lines.join('\n'), 'latin1');
    const out = join(dir, 'bad.pb');
    const r = run(['import', '--strace', bad, '-o', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^vfio-replay: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${at + 1}:\\d+: `));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('nothing to import is a clear error', () => {
    const r = run(['import', dir, '-o', join(dir, 'none.pb')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nothing to import: no strace log and no QEMU log/);
  });
});
