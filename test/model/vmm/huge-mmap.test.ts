// VmmSwitches.barMmapAlign: where the VMM's BAR mmap lands decides which huge entries the kernel's
// huge_fault can insert (src/model/kernel/huge-fault.ts). A 1G BAR at a 1G-aligned host address.
import { describe, expect, it } from 'vitest';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';
import { ConfigImage } from '../../../src/model/pci/config-image.js';
import type { DeviceSnapshot } from '../../../src/trace/types.js';
import { cfgW, effects, mmioR, rig } from './rig.js';

const GIB = 0x40000000n;
const GPA = 0x8_0000_0000n; // 64-bit BAR above 4G

function gigBar(): DeviceSnapshot {
  const d = e1000eSnapshot();
  const c = new ConfigImage(d.config);
  c.setU32(0x10, 0x0000000c); // BAR0: 64-bit prefetchable memory at 0x40_0000_0000 (1G aligned)
  c.setU32(0x14, 0x00000040);
  return { ...d, config: c.bytes, bars: [{ index: 0, size: GIB, kind: 'mem', is64: true, prefetchable: true }] };
}

function firstRead(vmm: string, kernel: string): string[] {
  const r = rig(vmm, { device: gigBar(), kernel });
  r.guest(cfgW(0x10, 4, GPA & 0xffff_ffffn));
  r.guest(cfgW(0x14, 4, GPA >> 32n));
  // MEM on: QEMU maps the BAR into the guest and (p2p) MAP_DMAs it: type1 faults the mmap linearly.
  const on = effects(r.guest(cfgW(0x04, 2, 0x0006)));
  const read = effects(r.guest(mmioR(GPA + 0x1000n)));
  return [...on, ...read].filter((e) => /^(map|fallback)\(/.test(e));
}

describe('barMmapAlign', () => {
  it('barMmapAlign: QEMU 10.0 aligns the BAR mmap to 1G: one PUD maps the whole BAR', () => {
    expect(firstRead('qemu-10.0', 'linux-6.19')).toEqual(['map(bar0,pud)']);
  });
  it('barMmapAlign: QEMU 7.2 leaves the address to the kernel (2M aligned): the PUD falls back, PMDs map', () => {
    expect(firstRead('qemu-7.2', 'linux-6.19')).toEqual(['fallback(bar0,pud:vma)', 'map(bar0,pmd)']);
  });
  it('barMmapAlign: before 6.12 no kernel maps huge, whatever the VMM', () => {
    expect(firstRead('qemu-10.0', 'linux-6.1')).toEqual([]);
  });
});
