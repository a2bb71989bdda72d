// The missing-tool rule, checked on a real gated test file run by vitest with a PATH that holds only
// `sh` (no QEMU, gcc or ld): it skips with one line naming the tools and their packages, and under
// CI=true the same run fails with that line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TOOLS, hasTool, missingLine } from './needs-tool.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const bin = mkdtempSync(join(tmpdir(), 'node-only-bin-'));
symlinkSync(spawnSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).stdout.trim(), join(bin, 'sh'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function vitest(file: string, ci: boolean) {
  const env: Record<string, string> = { PATH: bin, HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1' };
  if (ci) env.CI = 'true';
  return spawnSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', file], { cwd: repo, env, encoding: 'utf8' });
}

describe('needs-tool', { timeout: 60_000 }, () => {
  it('names each tool with the package that installs it', () => {
    expect(missingLine(['qemu-system-x86_64', 'gcc', 'ld'])).toBe('qemu-system-x86_64, gcc, ld not on PATH (install: apt-get install qemu-system-x86 gcc libc6-dev binutils)');
    expect(Object.keys(TOOLS)).toEqual(['qemu-system-x86_64', 'strace', 'gcc', 'ld', 'busybox', 'chromium', 'iasl']);
    expect(hasTool('strace')).toBe(spawnSync('sh', ['-c', 'command -v strace']).status === 0);
  });

  it('without the tools: the gated file skips and prints one line', () => {
    const r = vitest('test/lab-vmm/inner-guest.test.ts', false);
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(0);
    const lines = out.split('\n').filter((l) => l.startsWith('skip '));
    expect(lines).toEqual([`skip test/lab-vmm/inner-guest.test.ts: ${missingLine(['qemu-system-x86_64', 'gcc', 'ld'])}`]);
    expect(out).toMatch(/5 skipped/);
  });

  it('under CI=true: the same run fails, naming the tools', () => {
    const r = vitest('test/lab-vmm/inner-guest.test.ts', true);
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(1);
    expect(out).toContain(`CI=true but ${missingLine(['qemu-system-x86_64', 'gcc', 'ld'])}; .ci/run installs it`);
    expect(out).not.toMatch(/^skip /m);
  });
});
