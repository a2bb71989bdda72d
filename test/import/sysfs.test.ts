// The device snapshot: sysfs `resource` decoding and reading a snapshot from a tracer directory or
// straight from a sysfs device directory.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseResource, readSnapshot } from '../../src/import/sysfs.js';
import { UserError } from '../../src/errors.js';
import { makeFakeSysfs } from './helpers.js';

describe('sysfs snapshot', () => {
  it('resource: BAR kinds, sizes, 64-bit and prefetch flags; ROM from line 6; unimplemented BARs skipped', () => {
    const text = [
      '0x00000000fe000000 0x00000000fe01ffff 0x0000000000040200',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x000000000000e000 0x000000000000e01f 0x0000000000040101',
      '0x0000008000000000 0x00000080ffffffff 0x000000000014220c',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x00000000fe080000 0x00000000fe0bffff 0x0000000000046200',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
    ].join('\n');
    const { bars, romSize } = parseResource(text, 'resource');
    expect(bars).toEqual([
      { index: 0, size: 0x20000n, kind: 'mem', is64: false, prefetchable: false },
      { index: 2, size: 0x20n, kind: 'io', is64: false, prefetchable: false },
      { index: 3, size: 0x100000000n, kind: 'mem', is64: true, prefetchable: true },
    ]);
    expect(romSize).toBe(0x40000n);
  });

  it('a malformed resource line is an error at its line', () => {
    expect(() => parseResource('0x0 0x1 0x200\nbogus\n', 'r')).toThrowError(UserError);
    expect(() => parseResource('0x0 0x1 0x200\nbogus\n', 'r')).toThrowError(/^r:2:1: /);
  });

  it('reads a live-layout sysfs device directory (symlinked driver and iommu_group)', () => {
    const root = makeFakeSysfs({ bdf: '0000:01:00.0', group: 7 });
    const s = readSnapshot(join(root, 'bus/pci/devices/0000:01:00.0'));
    expect(s.device.bdf).toBe('0000:01:00.0');
    expect(s.driver).toBe('vfio-pci');
    expect(s.device.iommuGroup).toBe(7);
    expect([s.device.vendorId, s.device.deviceId]).toEqual([0x8086, 0x10d3]);
    expect(s.device.config.length).toBe(256);
    expect(s.device.resetMethods).toEqual(['pm', 'bus']);
    expect(s.device.vga).toBe(false);
    expect(s.powerState).toBe('D0');
  });

  it('a directory that is neither a capture nor a sysfs device is a clear error', () => {
    expect(() => readSnapshot('/tmp')).toThrowError(/no snapshot in \/tmp/);
  });
});

describe("the tracer's module-params and kernel_cmdline", () => {
  it('go into the header (module-params sorted); a malformed module-params line is located', async () => {
    const { cpSync, mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { importTrace } = await import('../../src/import/importer.js');
    const dir = mkdtempSync(join(tmpdir(), 'info-params-'));
    cpSync(join(import.meta.dirname, '../../traces/qemu/7.2/d3hot-read'), dir, { recursive: true });
    expect(importTrace({ dir, tracerVersion: 't' }).trace.header.moduleParams).toBeUndefined();
    writeFileSync(join(dir, 'info'), readFileSync(join(dir, 'info'), 'utf8') + 'kernel_cmdline=BOOT_IMAGE=/vmlinuz iommu=pt  vfio_pci.disable_idle_d3=1\n');
    writeFileSync(join(dir, 'module-params'), 'vfio_pci.nointxmask=N\nvfio_pci.disable_idle_d3=Y\n');
    const h = importTrace({ dir, tracerVersion: 't' }).trace.header;
    expect(h.moduleParams).toEqual(['vfio_pci.disable_idle_d3=Y', 'vfio_pci.nointxmask=N']);
    expect(h.kernelCmdline).toEqual(['BOOT_IMAGE=/vmlinuz', 'iommu=pt', 'vfio_pci.disable_idle_d3=1']);
    writeFileSync(join(dir, 'module-params'), 'vfio_pci.nointxmask=N\nbogus line\n');
    expect(() => importTrace({ dir, tracerVersion: 't' })).toThrowError(/module-params:2:1: expected module\.param=value/);
  });
});

describe("the tracer's info: VMM version", () => {
  it('vmm_version (the VMM\'s --version line) gives the header its version; a capture without it warns', async () => {
    const { cpSync, mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { importTrace } = await import('../../src/import/importer.js');
    const src = join(import.meta.dirname, '../../traces/qemu/7.2/d3hot-read');
    const dir = mkdtempSync(join(tmpdir(), 'info-version-'));
    cpSync(src, dir, { recursive: true });
    const bare = importTrace({ dir, tracerVersion: 't' });
    expect(bare.trace.header.vmm.version).toBe('');
    expect(bare.report.notes.join('\n')).toMatch(/no qemu version in the capture: .*--vmm-version/);
    writeFileSync(join(dir, 'info'), readFileSync(join(dir, 'info'), 'utf8') + 'vmm_version=QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n');
    expect(importTrace({ dir, tracerVersion: 't' }).trace.header.vmm.version).toBe('7.2.22');
  });
});
