import { describe, expect, it } from 'vitest';
import {
  KERNEL_RELEASES,
  KERNEL_SERIES,
  KERNEL_VERSIONS,
  findKernelVersion,
  resolveKernelRelease,
  switchSource,
  unknownSwitches,
} from '../../../src/model/versions.js';
import { versionsJson, versionsText } from '../../../src/cli/versions.js';

describe('kernel versions table', () => {
  it('has the exact release ids in order', () => {
    expect(KERNEL_RELEASES).toEqual([
      'linux-5.7', 'linux-5.8', 'linux-5.9', 'linux-5.10', 'linux-5.14', 'linux-5.15', 'linux-5.19', 'linux-6.1', 'linux-6.6', 'linux-6.12',
      'linux-6.19', 'linux-7.0', 'linux-7.0.11', 'linux-7.1', 'linux-7.2',
    ]);
  });

  it('orders each series with its base first', () => {
    expect(KERNEL_SERIES['block-disabled-mmio']).toEqual(['linux-5.7', 'block-disabled-mmio@v1', 'block-disabled-mmio@v2', 'block-disabled-mmio@v3']);
    expect(KERNEL_SERIES['dmabuf-unmappable-bars']).toEqual(['linux-7.0', 'dmabuf-unmappable-bars@v1', 'dmabuf-unmappable-bars@v2']);
    expect(KERNEL_SERIES['barmap-at-enable']).toEqual(['linux-7.0', ...[1, 2, 3, 4, 5].map((n) => `barmap-at-enable@v${n}`)]);
    expect(KERNEL_SERIES['bar-zap-cleanup']).toEqual(['linux-7.1', 'bar-zap-cleanup@v2', 'bar-zap-cleanup@v3']);
  });

  it('gives every changed switch a source', () => {
    for (const v of KERNEL_VERSIONS) {
      const parent = v.derivesFrom !== undefined ? findKernelVersion(v.derivesFrom) : undefined;
      if (parent === undefined) continue;
      for (const [name, value] of Object.entries(v.switches)) {
        if (parent.switches[name as keyof typeof v.switches] !== value) expect(v.sources[name as keyof typeof v.sources], `${v.id}.${name}`).toBeDefined();
      }
    }
  });

  it('encodes the series switches the seeds hinge on', () => {
    const s = (id: string) => findKernelVersion(id)!.switches;
    expect([s('linux-5.7').faultContention, s('block-disabled-mmio@v1').faultContention, s('block-disabled-mmio@v2').faultContention]).toEqual(['none', 'wait', 'wait']);
    expect([s('block-disabled-mmio@v1').bugContendedFaultSigbus, s('block-disabled-mmio@v2').bugContendedFaultSigbus]).toEqual([true, false]);
    expect(s('dmabuf-unmappable-bars@v1').dmabufRefusesUnmappable).toBe('bar-mmap-supported');
    expect(s('dmabuf-unmappable-bars@v2').dmabufRefusesUnmappable).toBe('p2pdma-provider');
    expect(s('barmap-at-enable@v1').barmapAt).toBe('fail-open');
    expect(['v2', 'v3', 'v4', 'v5'].map((n) => s(`barmap-at-enable@${n}`).iomapFailReleasesRegion)).toEqual([false, false, false, true]);
    expect([s('bar-zap-cleanup@v2').resetZapAfterD0, s('bar-zap-cleanup@v3').resetZapAfterD0]).toEqual([false, true]);
    expect(unknownSwitches(findKernelVersion('linux-7.2')!)).toEqual(['dmabufRefusesUnmappable']);
  });

  it('traces a switch to the version that set it', () => {
    expect(switchSource('linux-6.12', 'blockDisabledMmio').version).toBe('linux-5.8');
    expect(switchSource('linux-6.12', 'blockDisabledMmio').source?.ref).toContain('CVE-2020-12888');
  });
});

describe('resolveKernelRelease', () => {
  it('maps an upstream uname to the nearest version it descends from, with a warning', () => {
    expect(resolveKernelRelease('6.18.3-arch1')?.id).toBe('linux-6.12');
    expect(resolveKernelRelease('7.0.9')?.id).toBe('linux-7.0');
    expect(resolveKernelRelease('7.0.12')?.id).toBe('linux-7.0.11');
    expect(resolveKernelRelease('7.1.0-rc3')?.id).toBe('linux-7.1');
    expect(resolveKernelRelease('9.0')?.id).toBe('linux-7.2');
    // a stable point lands on its own branch, never on a later mainline release
    expect(resolveKernelRelease('5.10.60')?.id).toBe('linux-5.10.50');
    expect(resolveKernelRelease('5.10.49')).toEqual({ id: 'linux-5.10.49', distro: 'upstream' });
    expect(resolveKernelRelease('5.11.2')?.id).toBe('linux-5.10');
  });

  it('reads Debian +debNN and Fedora numbering as the upstream point and says so', () => {
    const deb = resolveKernelRelease('6.12.107+deb13-amd64')!;
    // The newest modeled 6.12.y point at or below .107 (the catalog adds points), else 6.12 itself.
    const points = KERNEL_VERSIONS.filter((v) => v.axis === 'linux-6.12.y' && Number(v.id.split('.')[2]) <= 107).map((v) => v.id);
    expect(deb).toMatchObject({ id: points.at(-1) ?? 'linux-6.12', distro: 'debian' });
    expect(deb.warning).toContain('Debian 13 numbering');
    expect(resolveKernelRelease('5.10.50+deb11-amd64')?.id).toBe('linux-5.10.50');
    const fc = resolveKernelRelease('5.9.9-100.fc33.x86_64')!;
    expect(fc).toMatchObject({ id: 'linux-5.9.9', distro: 'fedora' });
    expect(fc.warning).toContain('Fedora 33 numbering');
  });

  it('maps Ubuntu, old Debian and RHEL ABI numbering to mainline only, saying what is unknown', () => {
    const u = resolveKernelRelease('5.10.0-45-generic')!;
    expect(u).toMatchObject({ id: 'linux-5.10', distro: 'ubuntu' });
    expect(u.warning).toContain('ABI 45');
    expect(u.warning).toContain('does not say which 5.10.y point');
    expect(resolveKernelRelease('5.10.0-28-amd64')).toMatchObject({ id: 'linux-5.10', distro: 'debian' });
    expect(resolveKernelRelease('6.8.0-45-generic')).toMatchObject({ id: 'linux-6.6', distro: 'ubuntu' });
    expect(resolveKernelRelease('5.14.0-427.13.1.el9_4.x86_64')).toMatchObject({ id: 'linux-5.14', distro: 'rhel' });
  });

  it('is exact without a warning', () => {
    expect(resolveKernelRelease('6.1')).toEqual({ id: 'linux-6.1', distro: 'upstream' });
    expect(resolveKernelRelease('linux-7.0.11')).toEqual({ id: 'linux-7.0.11', distro: 'upstream' });
  });

  it('returns undefined for garbage and for releases older than every model', () => {
    expect(resolveKernelRelease('banana')).toBeUndefined();
    expect(resolveKernelRelease('4.19.0')).toBeUndefined();
  });
});

describe('vfio-replay versions output', () => {
  it('lists every kernel version with its switch sources', () => {
    const text = versionsText();
    for (const v of KERNEL_VERSIONS) expect(text).toContain(v.id);
    expect(text).toContain('CVE-2020-12888');
    const json = versionsJson() as { kernel: { versions: { id: string }[] } };
    expect(json.kernel.versions.map((v) => v.id)).toEqual(KERNEL_VERSIONS.map((v) => v.id));
  });
});
