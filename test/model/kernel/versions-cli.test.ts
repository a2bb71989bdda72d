// End-to-end: the built CLI lists every kernel version (and the VMM versions) with sources.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_VERSIONS, VMM_VERSIONS } from '../../../src/model/versions.js';

const ROOT = join(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 << 20 });
}

describe('vfio-replay versions (built CLI)', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'ignore' });
  });

  it('prints every version with switches and sources', () => {
    const r = cli('versions');
    expect(r.status).toBe(0);
    for (const v of KERNEL_VERSIONS) expect(r.stdout).toContain(v.id);
    for (const v of VMM_VERSIONS) expect(r.stdout).toContain(v.id);
    expect(r.stdout).toContain('Series barmap-at-enable: linux-7.0 < barmap-at-enable@v1');
    expect(r.stdout).toContain('bugContendedFaultSigbus = false  <- [P] abafbc551fdd');
    // Page sizes with their evidence: 64K is source-only, and says why.
    expect(r.stdout).toMatch(/^16K \(.*\)  <- \[L\] aarch64 lab/m);
    expect(r.stdout).toMatch(/^64K \(.*\)  <- \[S\] source-only: Debian ships no 64K arm64 flavour/m);
  });

  it('--json gives releases, series and per-switch sources', () => {
    const r = cli('versions', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as {
      kernel: { releases: string[]; series: Record<string, string[]>; versions: { id: string; unknown: string[]; switches: Record<string, { value: unknown; setBy: string }> }[] };
      vmm: { id: string }[];
    };
    expect(j.kernel.releases[0]).toBe('linux-5.7');
    expect(j.kernel.series['bar-zap-cleanup']).toEqual(['linux-7.1', 'bar-zap-cleanup@v2', 'bar-zap-cleanup@v3']);
    const v72 = j.kernel.versions.find((v) => v.id === 'linux-7.2')!;
    expect(v72.unknown).toEqual(['dmabufRefusesUnmappable']);
    expect(v72.switches.blockDisabledMmio).toEqual({ value: true, setBy: 'linux-5.8', source: expect.objectContaining({ evidence: 'S' }) });
    expect(j.vmm.length).toBe(VMM_VERSIONS.length);
  });
});
