// The host page size in the VMM models: KVM memslot failures and sub-page BARs (QEMU's
// vfio_sub_page_bar_update_mapping). Rules vmm.memslot-failed-aborts, vmm.memslot-failed,
// vmm.sub-page-bar-userspace.
import { describe, expect, it } from 'vitest';
import type { DeviceSnapshot } from '../../../src/trace/types.js';
import { BAR0_GPA, cfgW, effects, memOnlyE1000e, mmioR, rig, show } from './rig.js';
import { syntheticMmapAddr } from '../../../src/model/vmm/base.js';

/** The e1000e on a host with `pageSize` pages, BAR1 shrunk to 16K (sub-page at 64K). */
function device(pageSize: number): DeviceSnapshot {
  const d = memOnlyE1000e();
  return { ...d, pageSize, bars: d.bars.map((b) => (b.index === 1 ? { ...b, size: 0x4000n } : b)) };
}

describe('page size in the VMM models', () => {
  it('vmm.memslot-failed-aborts', () => {
    // A 4K-sized memslot on a 16K host: KVM -EINVAL, QEMU aborts ("error registering slot").
    const r = rig('qemu-10.0', { device: device(16384) });
    r.guest(cfgW(0x04, 2, 0)); // start-up: open + BAR mmaps
    const s = r.host({ kind: 'memslot', slot: 5, flags: 0, gpa: BAR0_GPA, size: 0x1000n, uaddr: syntheticMmapAddr(0) });
    expect(show(s)).toBe('vmm-exit status=134 [vmm.memslot-failed-aborts] vmm(memslot -EINVAL [kvm.memslot.unaligned-einval]: abort)');
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.dead');
    // The same memslot on a 4K host maps BAR0.
    const ok4 = rig('qemu-10.0', { device: device(4096) });
    ok4.guest(cfgW(0x04, 2, 0));
    expect(effects(ok4.host({ kind: 'memslot', slot: 5, flags: 0, gpa: BAR0_GPA, size: 0x1000n, uaddr: syntheticMmapAddr(0) }))).toEqual(['guest-map(bar0)']);
  });

  it('vmm.memslot-failed', () => {
    // OpenVMM's handling of a failed memslot is not read: the errno is reported as is.
    const r = rig('openvmm-3751', { device: device(16384) });
    const s = r.host({ kind: 'memslot', slot: 5, flags: 0, gpa: BAR0_GPA, size: 0x1000n, uaddr: 0x7f0000000000n });
    expect(show(s)).toBe('-EINVAL [vmm.memslot-failed] vmm(memslot -EINVAL [kvm.memslot.unaligned-einval])');
  });

  it('vmm.sub-page-bar-userspace', () => {
    // 64K host: BAR1 (16K) placed 16K- but not 64K-aligned cannot be a memslot: QEMU loads through its mmap.
    const un = rig('qemu-10.0', { device: device(65536) });
    un.guest(cfgW(0x14, 4, 0xfe104000n));
    un.guest(cfgW(0x04, 2, 0x0006));
    const s = un.guest(mmioR(0xfe104008n));
    expect(s.rule).toBe('vmm.sub-page-bar-userspace');
    expect(effects(s)).toContain('fwd(mem-read bar1+0x8 len=4 => ok)');
    // Placed 64K-aligned: expanded to a page, a memslot, the guest reaches it directly (and the
    // p2p DMA map covers the whole 64K page).
    const al = rig('qemu-10.0', { device: device(65536) });
    al.guest(cfgW(0x14, 4, 0xfe110000n));
    const on = al.guest(cfgW(0x04, 2, 0x0006));
    expect(effects(on)).toContain('fwd(map-dma iova=0xfe110000 size=0x10000 => ok ret=0)');
    expect(al.guest(mmioR(0xfe110008n)).rule).toBe('vmm.direct-map');
    // OpenVMM: no such rule (its sub-page handling is not read): direct like any BAR.
    const ov = rig('openvmm-3751', { device: device(65536) });
    ov.guest(cfgW(0x14, 4, 0xfe104000n));
    ov.guest(cfgW(0x04, 2, 0x0006));
    expect(ov.guest(mmioR(0xfe104008n)).rule).not.toBe('vmm.sub-page-bar-userspace');
  });
});
