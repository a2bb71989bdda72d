// The host page size from the header (DeviceSnapshot.page_size: 4K, 16K, 64K) drives mmap
// granularity, sub-page BAR handling (vfio_pci_probe_mmaps) and KVM's memslot checks. The e1000e's
// BAR3 (16K, MSI-X) is exactly one page at 16K and a sub-page BAR at 64K. Source-only where noted
// in docs/power-pages-processes.md.
import { describe, expect, it } from 'vitest';
import type { HostEvent, IoctlOp } from '../../../src/trace/types.js';
import { E1000E_BAR3 } from '../../../src/model/devices/e1000e.js';
import { cfgw, err, expectStep, model, ok, run, withConfig } from './helpers.js';

const K16 = 0x4000n;
const K64 = 0x10000n;
const io = (op: IoctlOp): HostEvent => ({ kind: 'ioctl', ...op });
const mmap = (region: number, offset: bigint, length: bigint): HostEvent => ({ kind: 'mmap', region, offset, length, prot: 3, addr: 0x7f0000000000n });
const flags = (s: { outcome: unknown }): number => {
  const d = (s.outcome as { data: Uint8Array }).data;
  return d[4]! | (d[5]! << 8);
};

function opened(pageSize: number, bar3 = E1000E_BAR3) {
  const m = model('linux-6.19', withConfig((c) => c.setU32(0x1c, bar3), { pageSize }));
  run(m, { kind: 'open' });
  run(m, cfgw(0x04, 0x0006));
  return m;
}

describe('page size', () => {
  it('mmap.unaligned-offset: the offset must be a multiple of the host page (16K, 64K)', () => {
    expectStep(run(opened(16384), mmap(0, 0x1000n, 0x1000n)), err('EINVAL'), 'mmap.unaligned-offset');
    expectStep(run(opened(16384), mmap(0, K16, 0x1000n)), ok, 'mmap.ok-lazy');
    expectStep(run(opened(65536), mmap(0, K16, K16)), err('EINVAL'), 'mmap.unaligned-offset');
  });

  it('mmap.past-bar-end: the length is rounded up to the host page before the BAR-end check', () => {
    // 128K BAR0 at 64K pages: offset 64K + 4K rounds to 64K + 64K = the end: allowed; 64K + 64K + 1 is not.
    expectStep(run(opened(65536), mmap(0, K64, 0x1000n)), ok, 'mmap.ok-lazy');
    expectStep(run(opened(65536), mmap(0, K64, K64 + 1n)), err('EINVAL'), 'mmap.past-bar-end');
  });

  it('mmap.bar-not-mappable: a sub-page BAR (16K BAR3 at 64K pages) needs a page-aligned start', () => {
    // Page aligned (0xfea40000): vfio reserves the rest of the page; the mmap covers one 64K page.
    const a = opened(65536);
    expect(flags(run(a, io({ op: 'get-region-info', index: 3, argsz: 40 }))) & 0x4).toBe(0x4);
    expectStep(run(a, mmap(3, 0n, K16)), ok, 'mmap.ok-lazy');
    // 16K but not 64K aligned: no MMAP flag, mmap -EINVAL; BAR0 (128K) is still mappable.
    const u = opened(65536, E1000E_BAR3 + 0x4000);
    expect(flags(run(u, io({ op: 'get-region-info', index: 3, argsz: 40 }))) & 0x4).toBe(0);
    expectStep(run(u, mmap(3, 0n, K16)), err('EINVAL'), 'mmap.bar-not-mappable');
    expectStep(run(u, mmap(0, 0n, 0x20000n)), ok, 'mmap.ok-lazy');
    // At 16K pages the same BAR is a whole page: mappable wherever it is.
    expectStep(run(opened(16384, E1000E_BAR3 + 0x4000), mmap(3, 0n, K16)), ok, 'mmap.ok-lazy');
  });

  it('kvm.memslot.unaligned-einval', () => {
    const slot = (gpa: bigint, size: bigint, uaddr: bigint): HostEvent => ({ kind: 'memslot', slot: 1, flags: 0, gpa, size, uaddr });
    // A memslot laid out for 4K pages on a 16K host: size, guest address or host address off the page.
    expectStep(run(opened(16384), slot(0xfea00000n, 0x1000n, 0x7f0000000000n)), err('EINVAL'), 'kvm.memslot.unaligned-einval');
    expectStep(run(opened(16384), slot(0xfea01000n, K16, 0x7f0000000000n)), err('EINVAL'), 'kvm.memslot.unaligned-einval');
    expectStep(run(opened(65536), slot(0xfea00000n, K64, 0x7f0000004000n)), err('EINVAL'), 'kvm.memslot.unaligned-einval');
    expectStep(run(opened(16384), slot(0xfea00000n, K16, 0x7f0000000000n)), ok, 'kvm.memslot.not-vfio');
    expectStep(run(opened(4096), slot(0xfea01000n, 0x1000n, 0x7f0000001000n)), ok, 'kvm.memslot.not-vfio');
  });
});

describe('munmap at the host page size', () => {
  it('mmap.munmap-unaligned-einval', () => {
    const m = opened(16384);
    run(m, mmap(0, 0n, 0x1000n));
    expectStep(run(m, { kind: 'munmap', addr: 0x7f0000001000n, length: 0x1000n }), err('EINVAL'), 'mmap.munmap-unaligned-einval');
    // The length is rounded up to the page: 4K unmaps the whole 16K mapping (not a partial munmap).
    expectStep(run(m, { kind: 'munmap', addr: 0x7f0000000000n, length: 0x1000n }), ok, 'mmap.munmap');
  });
});
