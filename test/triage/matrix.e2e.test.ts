// `vfio-replay matrix` run as a user would: kernels x VMMs, each cell an outcome and its rule.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';
import { allKernels } from '../../src/matrix/index.js';
import { KERNEL_VERSIONS } from '../../src/model/versions/kernel.js';
import { VMM_VERSIONS } from '../../src/model/versions/vmm.js';

const seed2 = 'traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb';

describe('matrix (built CLI)', { timeout: 120_000 }, () => {
  beforeAll(assertBuilt);

  it('covers every kernel version (releases, point releases, series versions) once', () => {
    expect([...allKernels()].sort()).toEqual(KERNEL_VERSIONS.map((v) => v.id).sort());
    expect(allKernels()).toContain('linux-7.0.11');
  });

  it('text: seed 002 event 4 under every VMM, the rule of each distinct outcome in the legend', () => {
    const r = run(['matrix', seed2, '--event', '4', '--kernels', 'linux-5.7,linux-6.19'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`matrix ${seed2}: 2 kernels x 7 VMMs, each cell: event #0004 guest mmio-read 0xfe000008 len=4`);
    const head = lines[2].split(/\s+/);
    expect(head).toEqual(['kernel', ...VMM_VERSIONS.map((v) => v.id)]);
    const legend = new Map(lines.filter((l) => /^ {2}[a-z] {2}/.test(l)).map((l) => [l.trim().slice(0, 1), l.trim().slice(3)]));
    const row = (k: string): string[] => lines.find((l) => l.startsWith(k + ' '))!.trim().split(/\s+/).slice(1).map((c) => legend.get(c)!);
    const at = (k: string, vmm: string): string => row(k)[VMM_VERSIONS.findIndex((v) => v.id === vmm)];
    expect(at('linux-6.19', 'openvmm-3336')).toBe('vmm-exit KVM_RUN -EFAULT [vmm.direct-map-stale]');
    expect(at('linux-6.19', 'openvmm-3609')).toBe('unassigned val=0xffffffff [vmm.unassigned]');
    expect(at('linux-6.19', 'openvmm-3248')).toBe('all-ones len=4 [vmm.trapped.error-all-ones]');
    // Before 5.8 nothing zaps the mapping: the stale read reaches the device in D3hot.
    expect(at('linux-5.7', 'openvmm-3336')).toBe('HAZARD [mem.premapped-reaches-disabled-device]');
  });

  it('default: each cell the first failing event; --markdown and --json agree with the text', () => {
    const md = run(['matrix', seed2, '--kernels', 'linux-6.19', '--vmms', 'qemu-10.0,openvmm-3336', '--markdown'], { cwd: repo });
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain('| kernel | qemu-10.0 | openvmm-3336 |');
    expect(md.stdout).toContain(
      '| linux-6.19 | #0004 `unassigned val=0x0` <sub>vmm.unassigned</sub> | #0004 `vmm-exit KVM_RUN -EFAULT` <sub>vmm.direct-map-stale</sub> |',
    );
    expect(md.stdout).toContain('- #0004: `guest mmio-read 0xfe000008 len=4`');
    const js = run(['matrix', seed2, '--kernels', 'linux-6.19', '--vmms', 'qemu-10.0,openvmm-3336', '--json'], { cwd: repo });
    const o = JSON.parse(js.stdout) as { event: null; cells: { vmm: string; index: number; rule: string; kind: string }[] };
    expect(o.event).toBeNull();
    expect(o.cells.map((c) => [c.vmm, c.index, c.kind, c.rule])).toEqual([
      ['qemu-10.0', 4, 'unassigned', 'vmm.unassigned'],
      ['openvmm-3336', 4, 'vmm-exit', 'vmm.direct-map-stale'],
    ]);
    // A host-only trace: no VMM column but "none" and the header's family.
    const host = run(['matrix', 'traces/seeds/004-mse-live-mappings/mse-live-mappings.pb', '--kernels', 'linux-5.7,linux-5.8'], { cwd: repo });
    expect(host.code, host.stderr).toBe(0);
    expect(host.stdout.split('\n')[2]).toMatch(/^kernel\s+none$/);
    expect(host.stdout).toContain('  a  #0005 HAZARD [mem.premapped-reaches-disabled-device]');
    expect(host.stdout).toContain('  b  #0005 SIGBUS BUS_ADRERR [fault.memory-disabled-sigbus]');
  });

  it('bad input: one located line, exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-matrix-'));
    writeFileSync(join(dir, 'bad.txt'), 'vfio-trace 1\nbogus line\n');
    const cases: [string[], RegExp][] = [
      [['matrix', seed2, '--event', '99'], /guest-d3hot-mmio\.pb: --event 99: the trace has 9 events/],
      [['matrix', seed2, '--kernels', 'linux-9.9'], /unknown kernel version "linux-9\.9"/],
      [['matrix', seed2, '--vmms', 'qemu-1'], /unknown VMM version "qemu-1"/],
      [['matrix', seed2, '--json', '--markdown'], /--json and --markdown: pick one/],
      [['matrix', join(dir, 'bad.txt')], /bad\.txt:2:1: /],
      [['matrix', join(dir, 'missing.pb')], /missing\.pb: /],
    ];
    for (const [args, msg] of cases) {
      const r = run(args, { cwd: repo });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).toBe('');
    }
  });
});
