// One test per huge-fault rule (vfio_pci_mmap_huge_fault, 6.12+) on a device whose BAR0 is 1G at a
// 1G-aligned address, and the handler calls the model predicts (Step.faultLog) as the lab saw them
// on 6.12.117 and 7.2.13 with ivshmem-plain's 1G BAR (traces/lab/<k>/ivshmem-plain/ivshmem-huge).
// The released-6.12 behaviors (catalog bugs huge-fault-order, huge-fault-unaligned-pfn) stay
// source-only: Debian's 6.12 carries both fixes.
import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../src/trace/types.js';
import { renderEffect } from '../../../src/model/outcome.js';
import { hugeOrders } from '../../../src/model/kernel/huge-fault.js';
import { expectStep, model, ok, run, withConfig } from './helpers.js';

const GIB = 0x40000000n;
const MIB2 = 0x200000n;
const VMA = 0x7f0040000000n; // 1G aligned
const big = (pageSize = 4096) =>
  withConfig(
    (c) => {
      c.setU32(0x10, 0x0000000c); // BAR0: 64-bit prefetchable memory at 0x40_0000_0000
      c.setU32(0x14, 0x00000040);
    },
    { bars: [{ index: 0, size: GIB, kind: 'mem', is64: true, prefetchable: true }], pageSize },
  );
const mmap = (offset: bigint, length: bigint, addr = VMA): HostEvent => ({ kind: 'mmap', region: 0, offset, length, prot: 3, addr });
const memr = (offset: bigint): HostEvent => ({ kind: 'mem-read', bar: 0, offset, len: 4 });
const fx = (s: { effects: Parameters<typeof renderEffect>[0][] }): string => s.effects.map(renderEffect).join(' ');

function mapped(version: string, offset = 0n, length = GIB, pageSize = 4096, addr = VMA) {
  const m = model(version, big(pageSize));
  run(m, { kind: 'open' });
  run(m, { kind: 'cfg-write', offset: 4, data: new Uint8Array([0x06, 0x00]) }); // MEM + bus master
  run(m, mmap(offset, length, addr));
  return m;
}

describe('huge faults', () => {
  it('hugeOrders: PUD only with 4K pages (x86_64); PMD = PAGE_SIZE/8 pages', () => {
    expect(hugeOrders(4096n)).toEqual([{ size: 'pud', order: 18 }, { size: 'pmd', order: 9 }]);
    expect(hugeOrders(16384n)).toEqual([{ size: 'pmd', order: 11 }]); // 32M
    expect(hugeOrders(65536n)).toEqual([{ size: 'pmd', order: 13 }]); // 512M
  });

  it('fault.huge-pud', () => {
    const s = run(mapped('linux-6.12'), memr(0n));
    expectStep(s, ok, 'fault.huge-pud');
    expect(fx(s)).toBe('map(bar0,pud) populate(bar0) device(bar0+0x0)');
    // 6.19 maps the aligned-down block for any fault address in it.
    expect(fx(run(mapped('linux-6.19'), memr(0x12345000n)))).toBe('map(bar0,pud) populate(bar0) device(bar0+0x12345000)');
    // The whole GiB is present: a later access anywhere in it does not fault.
    const m = mapped('linux-6.19');
    run(m, memr(0n));
    expectStep(run(m, memr(GIB - 4n)), ok, 'mem.pte-present');
  });

  it('fault.huge-pmd', () => {
    // 6.12: a fault not at the GiB's start falls back from the PUD (address); at a 2M boundary a PMD maps.
    const s = run(mapped('linux-6.12'), memr(MIB2));
    expectStep(s, ok, 'fault.huge-pmd');
    expect(fx(s)).toBe('fallback(bar0,pud:address) map(bar0,pmd) populate(bar0) device(bar0+0x200000)');
    // 6.19: a half-BAR mapping (512M) cannot hold a PUD: PMDs map (the PUD is not reported, the
    // mapping being smaller than a PUD).
    expect(fx(run(mapped('linux-6.19', 0n, GIB / 2n), memr(0x1000n)))).toBe('map(bar0,pmd) populate(bar0) device(bar0+0x1000)');
    // 16K pages (arm64): no PUD; the PMD is 32M.
    expect(fx(run(mapped('linux-6.19', 0n, GIB, 16384), memr(0x2004000n)))).toBe('map(bar0,pmd) populate(bar0) device(bar0+0x2004000)');
  });

  it('fault.huge-fallback-pte', () => {
    // 6.12: the first fault at 0x1000 falls back from both orders and a PTE maps; the 2M block now
    // has a PTE table, so a later fault at its aligned start is not offered a PMD (even after a zap).
    const m = mapped('linux-6.12');
    const first = run(m, memr(0x1000n));
    expectStep(first, ok, 'fault.huge-fallback-pte');
    expect(fx(first)).toBe('fallback(bar0,pud:address) fallback(bar0,pmd:address) populate(bar0) device(bar0+0x1000)');
    expect(fx(run(m, memr(0n)))).toBe('populate(bar0) device(bar0+0x0)');
    run(m, { kind: 'cfg-write', offset: 4, data: new Uint8Array([0x04, 0x00]) }); // MEM off: zap
    run(m, { kind: 'cfg-write', offset: 4, data: new Uint8Array([0x06, 0x00]) });
    expect(fx(run(m, memr(0n)))).toBe('populate(bar0) device(bar0+0x0)');
    // The next 2M block has no table: its aligned start maps a PMD.
    expect(fx(run(m, memr(MIB2)))).toBe('map(bar0,pmd) populate(bar0) device(bar0+0x200000)');
  });

  it('fault.huge-vma-unaligned-falls-back', () => {
    // A VMA 2M- but not 1G-aligned (QEMU before 9.2 left the address to the kernel): no PUD fits.
    const s = run(mapped('linux-6.19', 0n, GIB, 4096, VMA + MIB2), memr(0n));
    expect(fx(s)).toBe('fallback(bar0,pud:vma) map(bar0,pmd) populate(bar0) device(bar0+0x0)');
  });

  it('fault.huge-unaligned-pfn-misdirected', () => {
    // A 1G-aligned VMA over BAR0 from offset 2M (QEMU 9.1 with a 2M-aligned pgoff, bugzilla 219619):
    // 6.12 inserts a PUD for a PFN 2M off its alignment; the entry maps the aligned-down GiB.
    const m = mapped('linux-6.12', MIB2, GIB - MIB2 * 2n);
    const sp = run(m, memr(MIB2));
    // The mapping is shorter than a GiB from its start: the PUD does not fit; the PMD's PFN is aligned.
    expect(fx(sp)).toBe('map(bar0,pmd) populate(bar0) device(bar0+0x200000)');
    const m2 = model('linux-6.12', big());
    run(m2, { kind: 'open' });
    run(m2, { kind: 'cfg-write', offset: 4, data: new Uint8Array([0x06, 0x00]) });
    run(m2, { kind: 'mmap', region: 0, offset: 0x3000n, length: GIB / 2n, prot: 3, addr: VMA });
    const s = run(m2, memr(0x3000n));
    expectStep(s, { kind: 'hazard' }, 'fault.huge-unaligned-pfn-misdirected');
    expect(fx(s)).toBe('map(bar0,pmd,pfn-unaligned) populate(bar0) device(bar0+0x0)');
    expect(s.outcome).toEqual({ kind: 'hazard', reason: 'PMD built from an unaligned PFN: bar0+0x3000 reaches bar0+0x0' });
    // 6.19 falls back to a page.
    const f = run(mapped('linux-6.19', 0x3000n, GIB / 2n), memr(0x3000n));
    expectStep(f, ok, 'fault.huge-fallback-pte');
    expect(fx(f)).toBe('fallback(bar0,pmd:pfn) populate(bar0) device(bar0+0x3000)');
    // Before 6.12 there is no huge_fault: pages (or the whole VMA) only, nothing tried.
    expect(fx(run(mapped('linux-6.1', 0x3000n, GIB / 2n), memr(0x3000n)))).toBe('populate(bar0) device(bar0+0x3000)');
  });

  it('mem.huge-entry-misdirected', () => {
    const m = model('linux-6.12', big());
    run(m, { kind: 'open' });
    run(m, { kind: 'cfg-write', offset: 4, data: new Uint8Array([0x06, 0x00]) });
    run(m, { kind: 'mmap', region: 0, offset: 0x3000n, length: GIB / 2n, prot: 3, addr: VMA });
    run(m, memr(0x3000n));
    // A later access through the present PMD lands 0x3000 below its aim.
    const s = run(m, memr(0x13000n));
    expectStep(s, { kind: 'hazard' }, 'mem.huge-entry-misdirected');
    expect(fx(s)).toBe('device(bar0+0x10000)');
  });

  it('huge faults: a trace without the mmap address maps pages only', () => {
    const s = run(mapped('linux-6.19', 0n, GIB, 4096, 0n), memr(0n));
    expect(fx(s)).toBe('populate(bar0) device(bar0+0x0)');
  });
});

describe('the handler\'s calls (Step.faultLog, compared with the lab\'s dynamic-debug lines)', () => {
  const off = (m: ReturnType<typeof mapped>) => run(m, { kind: 'cfg-write', offset: 4, data: new Uint8Array([0x04, 0x00]) });
  const on = (m: ReturnType<typeof mapped>) => run(m, { kind: 'cfg-write', offset: 4, data: new Uint8Array([0x06, 0x00]) });

  it('a PUD insert is one call; a fault with memory disabled SIGBUSes at the first aligned level', () => {
    const m = mapped('linux-6.19');
    expect(run(m, memr(0n)).faultLog).toEqual(['order=18:0x100']);
    expect(run(m, memr(GIB - 4n)).faultLog).toEqual([]); // present: no fault, no call
    off(m);
    const s = run(m, memr(0n));
    expectStep(s, { kind: 'signal' }, 'fault.memory-disabled-sigbus');
    expect(s.faultLog).toEqual(['order=18:0x2']); // the zap cleared the PUD: offered again, aligned, refused
    on(m);
    expect(run(m, memr(0x12345678n)).faultLog).toEqual(['order=18:0x100']);
  });

  it('a PUD fallback leaves a PMD table behind, even when the fault then SIGBUSes', () => {
    const m = mapped('linux-6.19', 0n, GIB, 4096, VMA + MIB2);
    expect(run(m, memr(0n)).faultLog).toEqual(['order=18:0x800', 'order=9:0x100']);
    off(m);
    // lab ivshmem-huge #17: only the PMD level is offered (the pud points to a table), and refuses.
    expect(run(m, memr(0x400000n)).faultLog).toEqual(['order=9:0x2']);
    on(m);
    expect(run(m, memr(0x400000n)).faultLog).toEqual(['order=9:0x100']);
  });

  it('a user fault that ends in a PTE is retried under mmap_lock: the PMD level is asked twice', () => {
    // lab ivshmem-huge #23/#24: PFN not aligned to a PMD (BAR offset 0x3000 at a 2M-aligned address).
    const m = mapped('linux-6.19', 0x3000n, 0x400000n);
    expect(run(m, memr(0x3000n)).faultLog).toEqual(['order=18:0x800', 'order=9:0x800', 'order=9:0x800', 'order=0:0x100']);
    expect(run(m, memr(0x4000n)).faultLog).toEqual(['order=0:0x100']); // the PMD level holds a PTE table now
    // Memory disabled at the page level: the same walk, the page refused; no PTE table is left.
    const r = mapped('linux-6.19', 0x3000n, 0x400000n);
    off(r);
    expect(run(r, memr(0x3000n)).faultLog).toEqual(['order=18:0x800', 'order=9:0x800', 'order=9:0x800', 'order=0:0x2']);
    on(r);
    expect(run(r, memr(0x3000n)).faultLog).toEqual(['order=9:0x800', 'order=9:0x800', 'order=0:0x100']);
  });

  it('a kernel-mode fault (a pread into the mapping) and GUP start under mmap_lock: no retry', () => {
    const m = mapped('linux-6.19', 0x3000n, 0x400000n);
    const s = run(m, { kind: 'cfg-read', offset: 0, len: 4, bufBar: 0, bufOffset: 0x3000n });
    expect(s.faultLog).toEqual(['order=18:0x800', 'order=9:0x800', 'order=0:0x100']);
  });

  it('no prediction where the kernel has no huge_fault or the mapping has no address', () => {
    expect(run(mapped('linux-6.1'), memr(0n)).faultLog).toBeUndefined();
    expect(run(mapped('linux-6.19', 0n, GIB, 4096, 0n), memr(0n)).faultLog).toBeUndefined();
    expect(run(mapped('linux-6.19'), { kind: 'cfg-read', offset: 0, len: 2 }).faultLog).toEqual([]);
  });
});
