// One test per vfio_iommu_type1.c rule (MAP_DMA / UNMAP_DMA of BAR mappings), named after the rule id.
// Expected values follow the source and the lab (traces/lab/*/map-dma.txt).
import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../src/trace/types.js';
import type { Step } from '../../../src/model/outcome.js';
import { BAR0_ADDR, cfgw, err, expectStep, model, run } from './helpers.js';

const V = 'linux-7.2';
function opened(version = V) {
  const m = model(version);
  run(m, { kind: 'open' });
  run(m, cfgw(0x04, 0x0006));
  run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr: BAR0_ADDR });
  return m;
}
const map = (size = 0x1000n, flags = 3, iova = 0x100000n, vaddr = BAR0_ADDR): HostEvent => ({ kind: 'map-dma', vaddr, iova, size, flags });
const unmap = (iova = 0x100000n, size = 0x1000n, flags = 0): HostEvent => ({ kind: 'unmap-dma', iova, size, flags });
const size = (s: Step) => {
  const d = (s.outcome as { data?: Uint8Array }).data;
  return d === undefined ? undefined : Buffer.from(d).readBigUInt64LE(0);
};

describe('type1 MAP_DMA', () => {
  it('type1.map-dma.ok', () => {
    const m = opened();
    expectStep(run(m, map(0x20000n)), { kind: 'ok', ret: 0n }, 'type1.map-dma.ok', [{ kind: 'populate', bar: 0 }]);
    // Pages already present are used as they are: no fault, no populate [L map-dma#5].
    expectStep(run(m, map(0x20000n, 3, 0x200000n)), { kind: 'ok' }, 'type1.map-dma.ok', []);
    expect(m.k.st.dmas).toEqual([{ iova: 0x100000n, size: 0x20000n }, { iova: 0x200000n, size: 0x20000n }]);
  });
  it('type1.map-dma.bad-flags-einval', () => {
    expectStep(run(opened(), map(0x1000n, 0x8 | 3)), err('EINVAL'), 'type1.map-dma.bad-flags-einval');
    // VADDR is an unknown flag before 5.12
    expectStep(run(opened('linux-5.8'), map(0x1000n, 0x4 | 3)), err('EINVAL'), 'type1.map-dma.bad-flags-einval');
  });
  it('type1.map-dma.vaddr-update-unsupported', () =>
    expectStep(run(opened(), map(0x1000n, 0x4)), { kind: 'unsupported' }, 'type1.map-dma.vaddr-update-unsupported'));
  it('type1.map-dma.no-prot-einval', () => expectStep(run(opened(), map(0x20000n, 0)), err('EINVAL'), 'type1.map-dma.no-prot-einval'));
  it('type1.map-dma.unaligned-einval', () => {
    expectStep(run(opened(), map(0x800n)), err('EINVAL'), 'type1.map-dma.unaligned-einval');
    expectStep(run(opened(), map(0n)), err('EINVAL'), 'type1.map-dma.unaligned-einval');
    expectStep(run(opened(), map(0x1000n, 3, 0x100800n)), err('EINVAL'), 'type1.map-dma.unaligned-einval');
    expectStep(run(opened(), map(0x1000n, 3, 0x100000n, BAR0_ADDR + 0x10n)), err('EINVAL'), 'type1.map-dma.unaligned-einval');
  });
  it('type1.map-dma.wrap-einval', () =>
    expectStep(run(opened(), map(0x2000n, 3, 0xfffffffffffff000n)), err('EINVAL'), 'type1.map-dma.wrap-einval'));
  it('type1.map-dma.iova-exists-eexist', () => {
    const m = opened();
    run(m, map(0x20000n));
    expectStep(run(m, map(0x20000n)), err('EEXIST'), 'type1.map-dma.iova-exists-eexist');
    // any overlap, from either side
    expectStep(run(m, map(0x1000n, 3, 0x110000n)), err('EEXIST'), 'type1.map-dma.iova-exists-eexist');
    expectStep(run(m, map(0x2000n, 3, 0xff000n)), err('EEXIST'), 'type1.map-dma.iova-exists-eexist');
    expectStep(run(m, map(0x1000n, 3, 0x120000n)), { kind: 'ok' }, 'type1.map-dma.ok');
  });
  it('type1.map-dma.entry-limit-enospc', () => {
    const m = opened();
    for (let i = 0n; i < 65535n; i++) m.k.st.dmas.push({ iova: 0x1_0000_0000n + i * 0x1000n, size: 0x1000n });
    expectStep(run(m, map()), err('ENOSPC'), 'type1.map-dma.entry-limit-enospc');
  });
  // Guest RAM as a real QEMU maps it (traces/qemu): no device mapping there, the dma is made and
  // takes iova space like any other.
  it('type1.map-dma.ordinary-memory', () => {
    const m = opened();
    expectStep(run(m, map(0x1000n, 3, 0x100000n, 0x1000n)), { kind: 'ok', ret: 0n }, 'type1.map-dma.ordinary-memory');
    expect(m.k.st.dmas).toEqual([{ iova: 0x100000n, size: 0x1000n }]);
    expectStep(run(m, map(0x1000n, 3, 0x100000n, 0x1000n)), err('EEXIST'), 'type1.map-dma.iova-exists-eexist');
  });
  it('type1.map-dma.memory-into-bar-unsupported', () =>
    expectStep(run(opened(), map(0x2000n, 3, 0x100000n, BAR0_ADDR - 0x1000n)), { kind: 'unsupported' }, 'type1.map-dma.memory-into-bar-unsupported'));
  it('type1.map-dma.range-past-mapping-efault', () => {
    const m = opened();
    expectStep(run(m, map(0x21000n)), err('EFAULT'), 'type1.map-dma.range-past-mapping-efault');
    expect(m.k.st.dmas).toEqual([]); // the half-built dma is removed
  });
  it('type1.map-dma.write-readonly-efault', () => {
    const m = model(V);
    run(m, { kind: 'open' });
    run(m, { kind: 'mmap', region: 3, offset: 0n, length: 0x1000n, prot: 1, addr: BAR0_ADDR });
    expectStep(run(m, map(0x1000n, 3)), err('EFAULT'), 'type1.map-dma.write-readonly-efault');
    expectStep(run(m, map(0x1000n, 1)), { kind: 'ok' }, 'type1.map-dma.ok'); // READ only maps [L map-dma#35]
  });
  it('type1.map-dma.fault-sigbus-efault', () => {
    const m = opened();
    run(m, cfgw(0x04, 0x0004)); // MSE off
    expectStep(run(m, map(0x20000n, 1)), err('EFAULT'), 'type1.map-dma.fault-sigbus-efault');
    expect(m.k.st.dmas).toEqual([]);
    run(m, cfgw(0x04, 0x0006));
    expectStep(run(m, map(0x20000n)), { kind: 'ok' }, 'type1.map-dma.ok');
    // D3hot and low power refuse the fault the same way
    const d3 = opened();
    run(d3, cfgw(0xcc, 0x0003));
    expectStep(run(d3, map()), err('EFAULT'), 'type1.map-dma.fault-sigbus-efault');
    const lp = opened();
    run(lp, { kind: 'ioctl', op: 'low-power', request: 'entry', flags: 0x20003, wakeupFd: -1 });
    expectStep(run(lp, map()), err('EFAULT'), 'type1.map-dma.fault-sigbus-efault');
  });
  it('type1.map-dma.contended-fault-efault', () => {
    const m = opened('block-disabled-mmio@v1');
    run(m, cfgw(0x04, 0x0006), { tid: 1, overlap: 8 });
    expectStep(run(m, map(), { tid: 2, overlap: 8 }), err('EFAULT'), 'type1.map-dma.contended-fault-efault');
  });
  it('type1.map-dma.contended-fault-waits', () => {
    const m = opened('block-disabled-mmio@v2');
    run(m, cfgw(0x04, 0x0006), { tid: 1, overlap: 8 });
    expectStep(run(m, map(), { tid: 2, overlap: 8 }), { kind: 'blocked' }, 'type1.map-dma.contended-fault-waits');
  });
});

describe('type1 UNMAP_DMA', () => {
  it('type1.unmap-dma.ok', () => {
    const m = opened();
    run(m, map(0x20000n));
    run(m, cfgw(0x04, 0x0004)); // the zap does not tear the IOMMU mapping down [L map-dma#8..10]
    const s = run(m, unmap(0x100000n, 0x20000n));
    expectStep(s, { kind: 'ok', ret: 0n }, 'type1.unmap-dma.ok');
    expect(size(s)).toBe(0x20000n);
    expect(m.k.st.dmas).toEqual([]);
    // a larger range takes every dma fully inside it
    run(m, cfgw(0x04, 0x0006));
    run(m, map(0x1000n, 3, 0x100000n));
    run(m, map(0x1000n, 3, 0x200000n));
    expect(size(run(m, unmap(0n, 0x1000000n)))).toBe(0x2000n);
  });
  it('type1.unmap-dma.nothing-mapped', () => {
    const s = run(opened(), unmap(0x300000n));
    expectStep(s, { kind: 'ok', ret: 0n }, 'type1.unmap-dma.nothing-mapped');
    expect(size(s)).toBe(0n);
  });
  it('type1.unmap-dma.all', () => {
    const m = opened();
    run(m, map(0x20000n));
    run(m, map(0x1000n, 3, 0x400000n));
    const s = run(m, unmap(0n, 0n, 2));
    expectStep(s, { kind: 'ok', ret: 0n }, 'type1.unmap-dma.all');
    expect(size(s)).toBe(0x21000n);
    expect(m.k.st.dmas).toEqual([]);
  });
  it('type1.unmap-dma.all-with-range-einval', () =>
    expectStep(run(opened(), unmap(0x100000n, 0x1000n, 2)), err('EINVAL'), 'type1.unmap-dma.all-with-range-einval'));
  it('type1.unmap-dma.bad-flags-einval', () => {
    expectStep(run(opened(), unmap(0x100000n, 0x1000n, 8)), err('EINVAL'), 'type1.unmap-dma.bad-flags-einval');
    expectStep(run(opened('linux-5.8'), unmap(0n, 0n, 2)), err('EINVAL'), 'type1.unmap-dma.bad-flags-einval'); // no UNMAP_ALL before 5.12
  });
  it('type1.unmap-dma.dirty-bitmap-combined-einval', () =>
    expectStep(run(opened(), unmap(0n, 0n, 3)), err('EINVAL'), 'type1.unmap-dma.dirty-bitmap-combined-einval'));
  it('type1.unmap-dma.dirty-bitmap-unsupported', () =>
    expectStep(run(opened(), unmap(0x100000n, 0x1000n, 1)), { kind: 'unsupported' }, 'type1.unmap-dma.dirty-bitmap-unsupported'));
  it('type1.unmap-dma.vaddr-unsupported', () =>
    expectStep(run(opened(), unmap(0x100000n, 0x1000n, 4)), { kind: 'unsupported' }, 'type1.unmap-dma.vaddr-unsupported'));
  it('type1.unmap-dma.unaligned-einval', () => {
    expectStep(run(opened(), unmap(0x100000n, 0n)), err('EINVAL'), 'type1.unmap-dma.unaligned-einval');
    expectStep(run(opened(), unmap(0x100000n, 0x800n)), err('EINVAL'), 'type1.unmap-dma.unaligned-einval');
    expectStep(run(opened(), unmap(0x100800n, 0x1000n)), err('EINVAL'), 'type1.unmap-dma.unaligned-einval');
  });
  it('type1.unmap-dma.wrap-einval', () =>
    expectStep(run(opened(), unmap(0xfffffffffffff000n, 0x2000n)), err('EINVAL'), 'type1.unmap-dma.wrap-einval'));
  it('type1.unmap-dma.bisects-mapping-einval', () => {
    const m = opened();
    run(m, map(0x20000n));
    expectStep(run(m, unmap(0x101000n, 0x1000n)), err('EINVAL'), 'type1.unmap-dma.bisects-mapping-einval');
    expectStep(run(m, unmap(0x100000n, 0x1000n)), err('EINVAL'), 'type1.unmap-dma.bisects-mapping-einval');
    expect(m.k.st.dmas).toHaveLength(1);
  });
});
