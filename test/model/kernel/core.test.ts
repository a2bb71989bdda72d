// One test per vfio_pci_core.c rule (open/close, ioctls, mmap, faults, reset, low power; type1 is in type1.test.ts), named after the rule id.
import { describe, expect, it } from 'vitest';
import type { HostEvent, IoctlOp } from '../../../src/trace/types.js';
import { compareObserved } from '../../../src/replay/compare.js';
import { BAR0_ADDR, cfgr, cfgw, err, expectStep, model, ok, openMapped, run, sigbus, withConfig } from './helpers.js';

const V = 'linux-7.2';
function opened(version = V, dev = {}) {
  const m = model(version, dev);
  run(m, { kind: 'open' });
  run(m, cfgw(0x04, 0x0006));
  return m;
}
const io = (op: IoctlOp): HostEvent => ({ kind: 'ioctl', ...op });
const mmap = (region: number, offset = 0n, length = 0x20000n, prot = 3, addr = BAR0_ADDR): HostEvent => ({ kind: 'mmap', region, offset, length, prot, addr });
const memr = (bar = 0, offset = 0x8n): HostEvent => ({ kind: 'mem-read', bar, offset, len: 4 });
const memw = (bar = 0, offset = 0x8n): HostEvent => ({ kind: 'mem-write', bar, offset, len: 4, value: 1n });
const u32 = (d: Uint8Array, at: number) => d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24);
const data = (s: { outcome: unknown }) => (s.outcome as { data: Uint8Array }).data;
const lp = (request: 'entry' | 'entry-with-wakeup' | 'exit', flags = 0x20000, wakeupFd = -1): HostEvent =>
  io({ op: 'low-power', request, flags: flags | (request === 'entry' ? 3 : request === 'exit' ? 5 : 4), wakeupFd });

describe('open / close', () => {
  it('core.open.enable', () => {
    const m = model(V);
    expectStep(run(m, { kind: 'open' }), { kind: 'ok', ret: 0n }, 'core.open.enable', [{ kind: 'reset', method: 'pm' }]);
    expect(m.view.isOpen).toBe(true);
    expect(m.view.memoryEnabled).toBe(true); // pci_enable_device turned decode on
  });
  it('core.open.already-enabled', () => expectStep(run(opened(), { kind: 'open' }), { kind: 'ok' }, 'core.open.already-enabled', []));
  it('core.open.barmap-error-fails-open', () => {
    const m = model('barmap-at-enable@v1', { quirks: { resourceBusyBars: [1] } });
    expectStep(run(m, { kind: 'open' }), err('EBUSY'), 'core.open.barmap-error-fails-open');
    expect(m.view.isOpen).toBe(false);
  });
  it('core.close.disable', () => {
    const m = opened();
    const s = run(m, { kind: 'close' });
    expectStep(s, { kind: 'ok' }, 'core.close.disable');
    expect(s.effects).toEqual([{ kind: 'reset', method: 'pm' }, { kind: 'power', from: 'D0', to: 'D3hot' }, { kind: 'release', what: 'device' }]);
    expect(m.view.isOpen).toBe(false);
  });
  it('core.close.not-last', () => {
    const m = opened();
    run(m, { kind: 'open' });
    expectStep(run(m, { kind: 'close' }), { kind: 'ok' }, 'core.close.not-last', []);
    expect(m.view.isOpen).toBe(true);
  });
  it('core.close.deferred-by-mappings', () => {
    const m = openMapped(V);
    expectStep(run(m, { kind: 'close' }), { kind: 'ok' }, 'core.close.deferred-by-mappings', []);
    expectStep(run(m, memr()), ok, 'mem.pte-present'); // the VMA still holds the device
  });
  it('a new open while mappings hold the closed fd does not re-enable; the last munmap then keeps it open', () => {
    const m = openMapped(V);
    run(m, { kind: 'close' });
    expectStep(run(m, { kind: 'open' }), { kind: 'ok' }, 'core.open.already-enabled', []);
    expectStep(run(m, cfgr(0, 2)), { kind: 'ok' }, 'config.read');
    expectStep(run(m, { kind: 'munmap', addr: BAR0_ADDR, length: 0x20000n }), { kind: 'ok' }, 'mmap.munmap', []);
    expect(m.view.isOpen).toBe(true);
    expectStep(run(m, { kind: 'close' }), { kind: 'ok' }, 'core.close.disable');
  });
  it('core.close.disable-after-last-munmap', () => {
    const m = openMapped(V);
    run(m, { kind: 'close' });
    const s = run(m, { kind: 'munmap', addr: BAR0_ADDR, length: 0x20000n });
    expectStep(s, { kind: 'ok' }, 'core.close.disable-after-last-munmap');
    expect(m.view.isOpen).toBe(false);
  });
  it('reopen after close wakes the device from idle D3hot with its state restored', () => {
    const m = opened();
    run(m, { kind: 'close' });
    expect(m.view.powerState).toBe('D3hot');
    const s = run(m, { kind: 'open' });
    expectStep(s, { kind: 'ok' }, 'core.open.enable', [{ kind: 'power', from: 'D3hot', to: 'D0' }, { kind: 'reset', method: 'pm' }]);
  });
  it('core.fd.not-open', () => expectStep(run(model(V), cfgr(0, 4)), err('EBADF'), 'core.fd.not-open'));
});

describe('info ioctls', () => {
  it('core.get-info.ok', () => {
    const s = run(opened(), io({ op: 'get-info', argsz: 24 }));
    expectStep(s, { kind: 'ok', ret: 0n }, 'core.get-info.ok');
    expect([u32(data(s), 4), u32(data(s), 8), u32(data(s), 12)]).toEqual([0x3, 9, 5]);
    expect(u32(data(run(opened(V, { resetMethods: [] }), io({ op: 'get-info', argsz: 24 }))), 4)).toBe(0x2);
  });
  it('core.get-info.ok: cap_offset copied out when argsz has room (5.8+), not before [L info-edges #3]', () => {
    expect(data(run(opened(), io({ op: 'get-info', argsz: 24 }))).length).toBe(20);
    expect(u32(data(run(opened(), io({ op: 'get-info', argsz: 24 }))), 16)).toBe(0);
    expect(data(run(opened(), io({ op: 'get-info', argsz: 16 }))).length).toBe(16);
    expect(data(run(opened('linux-5.7'), io({ op: 'get-info', argsz: 24 }))).length).toBe(16);
  });
  it('core.get-info.argsz-einval', () => expectStep(run(opened(), io({ op: 'get-info', argsz: 8 })), err('EINVAL'), 'core.get-info.argsz-einval'));
  it('core.region-info.ok', () => {
    const s = run(opened(), io({ op: 'get-region-info', index: 0, argsz: 32 }));
    expectStep(s, { kind: 'ok', ret: 0n }, 'core.region-info.ok');
    expect(u32(data(s), 4)).toBe(0x7); // READ|WRITE|MMAP
    expect(u32(data(s), 16)).toBe(0x20000);
    expect(u32(data(run(opened(), io({ op: 'get-region-info', index: 2, argsz: 32 }))), 4)).toBe(0x3); // I/O BAR: no MMAP
    expect(u32(data(run(opened(V, { quirks: { nonMappableBars: true } }), io({ op: 'get-region-info', index: 0, argsz: 32 }))), 4)).toBe(0x3);
  });
  it('core.region-info.bar-unimplemented', () => {
    const s = run(opened(), io({ op: 'get-region-info', index: 4, argsz: 32 }));
    expectStep(s, { kind: 'ok' }, 'core.region-info.bar-unimplemented');
    expect(u32(data(s), 4)).toBe(0);
  });
  it('core.region-info.msix-mappable', () => {
    const s = run(opened(), io({ op: 'get-region-info', index: 3, argsz: 48 }));
    expectStep(s, { kind: 'ok' }, 'core.region-info.msix-mappable');
    expect([u32(data(s), 4), u32(data(s), 12), u32(data(s), 32)]).toEqual([0xf, 32, 3 | (1 << 16)]);
    const short = run(opened(), io({ op: 'get-region-info', index: 3, argsz: 32 }));
    expect([u32(data(short), 0), u32(data(short), 12)]).toEqual([40, 0]); // argsz grown, no cap copied
  });
  it('core.region-info.config', () => {
    const s = run(opened(), io({ op: 'get-region-info', index: 7, argsz: 32 }));
    expectStep(s, { kind: 'ok' }, 'core.region-info.config');
    expect([u32(data(s), 4), u32(data(s), 16), u32(data(s), 28)]).toEqual([0x3, 4096, 0x700]);
  });
  it('core.region-info.rom', () => {
    const s = run(opened(), io({ op: 'get-region-info', index: 6, argsz: 32 }));
    expectStep(s, { kind: 'ok' }, 'core.region-info.rom');
    expect([u32(data(s), 4), u32(data(s), 16)]).toEqual([0x1, 0x40000]);
  });
  it('core.region-info.rom-absent', () => expectStep(run(opened(V, { romSize: 0n }), io({ op: 'get-region-info', index: 6, argsz: 32 })), { kind: 'ok' }, 'core.region-info.rom-absent'));
  it('core.region-info.vga', () => expectStep(run(opened(V, { vga: true }), io({ op: 'get-region-info', index: 8, argsz: 32 })), { kind: 'ok' }, 'core.region-info.vga'));
  it('core.region-info.vga-absent-einval', () => expectStep(run(opened(), io({ op: 'get-region-info', index: 8, argsz: 32 })), err('EINVAL'), 'core.region-info.vga-absent-einval'));
  it('core.region-info.argsz-einval', () => expectStep(run(opened(), io({ op: 'get-region-info', index: 0, argsz: 16 })), err('EINVAL'), 'core.region-info.argsz-einval'));
  it('core.region-info.index-einval', () => expectStep(run(opened(), io({ op: 'get-region-info', index: 9, argsz: 32 })), err('EINVAL'), 'core.region-info.index-einval'));
});

describe('mmap', () => {
  it('mmap.invalid-index', () => expectStep(run(opened(), mmap(9)), err('EINVAL'), 'mmap.invalid-index'));
  it('mmap.not-a-bar', () => expectStep(run(opened(), mmap(6)), err('EINVAL'), 'mmap.not-a-bar'));
  it('mmap.bar-not-mappable', () => expectStep(run(opened(), mmap(2, 0n, 0x1000n)), err('EINVAL'), 'mmap.bar-not-mappable'));
  it('mmap.non-mappable-bars', () => expectStep(run(opened(V, { quirks: { nonMappableBars: true } }), mmap(0)), err('EINVAL'), 'mmap.non-mappable-bars'));
  it('mmap.unaligned-offset', () => expectStep(run(opened(), mmap(0, 0x10n, 0x1000n)), err('EINVAL'), 'mmap.unaligned-offset'));
  it('mmap.past-bar-end', () => expectStep(run(opened(), mmap(0, 0x1f000n, 0x2000n)), err('EINVAL'), 'mmap.past-bar-end'));
  it('mmap.ok-lazy', () => {
    const m = model(V);
    run(m, { kind: 'open' });
    run(m, cfgw(0x04, 0x0000));
    expectStep(run(m, mmap(0)), { kind: 'ok', ret: BAR0_ADDR }, 'mmap.ok-lazy', []); // no MSE check in mmap()
  });
  it('mmap.remap-at-mmap', () => expectStep(run(opened('linux-5.7'), mmap(0)), { kind: 'ok' }, 'mmap.remap-at-mmap', [{ kind: 'populate', bar: 0 }]));
  it('mmap.barmap.request-ebusy', () => expectStep(run(opened('linux-7.0', { quirks: { resourceBusyBars: [0] } }), mmap(0)), err('EBUSY'), 'mmap.barmap.request-ebusy'));
  it('mmap.barmap.iomap-enomem', () => expectStep(run(opened('linux-7.0', { quirks: { iomapFailBars: [0] } }), mmap(0)), err('ENOMEM'), 'mmap.barmap.iomap-enomem'));
  it('mmap.barmap.enable-time-error', () => expectStep(run(opened('linux-7.1', { quirks: { iomapFailBars: [0] } }), mmap(0)), err('ENOMEM'), 'mmap.barmap.enable-time-error'));
  it('mmap.barmap.concurrent-first-use-ebusy', () => {
    const m = opened('linux-7.0');
    run(m, mmap(0), { tid: 1, overlap: 2 });
    expectStep(run(m, { kind: 'region-read', region: 0, offset: 0n, len: 4 }, { tid: 2, overlap: 2 }), err('EBUSY'), 'rdwr.barmap.concurrent-first-use-ebusy');
    const n = opened('linux-7.0');
    run(n, { kind: 'region-read', region: 0, offset: 0n, len: 4 }, { tid: 1, overlap: 2 });
    expectStep(run(n, mmap(0), { tid: 2, overlap: 2 }), err('EBUSY'), 'mmap.barmap.concurrent-first-use-ebusy');
  });
  it('mmap.munmap', () => expectStep(run(openMapped(V), { kind: 'munmap', addr: BAR0_ADDR, length: 0x20000n }), { kind: 'ok' }, 'mmap.munmap'));
  it('mmap.munmap-nothing', () => expectStep(run(opened(), { kind: 'munmap', addr: 0x1000n, length: 0x1000n }), { kind: 'ok' }, 'mmap.munmap-nothing'));
  it('mmap.munmap-partial', () => expectStep(run(openMapped(V), { kind: 'munmap', addr: BAR0_ADDR, length: 0x1000n }), { kind: 'unsupported' }, 'mmap.munmap-partial'));
});

describe('CPU access through a mapping', () => {
  it('fault.no-mapping', () => expectStep(run(opened(), memr(1)), { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_MAPERR' }, 'fault.no-mapping'));
  it('fault.write-to-readonly-mapping', () => {
    const m = opened();
    run(m, mmap(0, 0n, 0x20000n, 1));
    expectStep(run(m, memw()), { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_ACCERR' }, 'fault.write-to-readonly-mapping');
  });
  it('fault.populate', () => {
    const m = opened();
    run(m, mmap(0));
    expectStep(run(m, memr()), ok, 'fault.populate', [{ kind: 'populate', bar: 0 }, { kind: 'device-access', what: 'bar0+0x8' }]);
  });
  it('fault.memory-disabled-sigbus', () => {
    const m = openMapped(V);
    run(m, cfgw(0x04, 0x0004));
    expectStep(run(m, memr()), sigbus, 'fault.memory-disabled-sigbus', []);
    expectStep(run(m, memw(0, 0x1f000n)), sigbus, 'fault.memory-disabled-sigbus');
  });
  it('fault.low-power-sigbus', () => {
    const m = openMapped('linux-6.1');
    run(m, lp('entry'));
    expectStep(run(m, memr()), sigbus, 'fault.low-power-sigbus');
  });
  it('fault.contended-writer-sigbus', () => {
    const m = openMapped('block-disabled-mmio@v1');
    run(m, cfgw(0x04, 0x0004), { tid: 1, overlap: 4 });
    expectStep(run(m, memr(), { tid: 2, overlap: 4 }), sigbus, 'fault.contended-writer-sigbus');
  });
  it('fault.contended-writer-waits', () => {
    for (const v of ['block-disabled-mmio@v2', 'linux-5.8', V]) {
      const m = openMapped(v);
      run(m, cfgw(0x04, 0x0004), { tid: 1, overlap: 4 });
      expectStep(run(m, memr(), { tid: 2, overlap: 4 }), { kind: 'blocked' }, 'fault.contended-writer-waits');
    }
  });
  it('fault.populated-device-not-decoding', () => {
    const m = opened('linux-5.8');
    run(m, cfgw(0xcc, 0x0003)); // D3hot, not part of the 5.8 predicate
    run(m, mmap(1, 0n, 0x20000n, 3, 0x7f0000200000n));
    expectStep(run(m, memr(1)), { kind: 'hazard', reason: 'device in D3hot' }, 'fault.populated-device-not-decoding');
  });
  it('mem.pte-present', () => expectStep(run(openMapped(V), memr(0, 0x10n)), ok, 'mem.pte-present', [{ kind: 'device-access', what: 'bar0+0x10' }]));
  it('mem.pte-present-reaches-disabled-device', () => {
    const m = openMapped('linux-5.8');
    run(m, cfgw(0xcc, 0x0003));
    expectStep(run(m, memr()), { kind: 'hazard', reason: 'device in D3hot' }, 'mem.pte-present-reaches-disabled-device');
  });
  it('mem.premapped-reaches-disabled-device', () => {
    const m = openMapped('linux-5.7');
    run(m, cfgw(0x04, 0x0004));
    expectStep(run(m, memr()), { kind: 'hazard', reason: 'memory decode disabled (COMMAND.MEM=0)' }, 'mem.premapped-reaches-disabled-device');
  });
  it('D1 counts as memory-enabled, so a live PTE reaches a function that does not decode', () => {
    const m = openMapped(V, withConfig((c) => c.setU16(0xca, c.u16(0xca) | 0x200)));
    expectStep(run(m, cfgw(0xcc, 0x0001)), { kind: 'ok' }, 'config.pm.set-state', [{ kind: 'power', from: 'D0', to: 'D1' }]);
    expect(m.view.memoryEnabled).toBe(true);
    expectStep(run(m, memr()), { kind: 'hazard', reason: 'device in D1' }, 'mem.pte-present-reaches-disabled-device');
  });
});

describe('reset', () => {
  it('core.reset.zap-then-d0', () => {
    const m = openMapped(V);
    expectStep(run(m, io({ op: 'reset' })), { kind: 'ok', ret: 0n }, 'core.reset.zap-then-d0', [{ kind: 'zap', bars: [0] }, { kind: 'reset', method: 'pm' }]);
    expectStep(run(m, memr()), ok, 'fault.populate'); // refault after reset
  });
  it('core.reset.d0-then-zap', () => {
    const m = openMapped('bar-zap-cleanup@v3');
    expectStep(run(m, io({ op: 'reset' })), { kind: 'ok', ret: 0n }, 'core.reset.d0-then-zap', [{ kind: 'zap', bars: [0] }, { kind: 'reset', method: 'pm' }]);
  });
  it('core.reset.no-zap', () => expectStep(run(openMapped('linux-5.7'), io({ op: 'reset' })), { kind: 'ok' }, 'core.reset.no-zap', [{ kind: 'reset', method: 'pm' }]));
  it('core.reset.not-supported-einval', () => expectStep(run(opened(V, { resetMethods: [] }), io({ op: 'reset' })), err('EINVAL'), 'core.reset.not-supported-einval'));
  it('core.hot-reset-info.argsz-einval', () => expectStep(run(opened(), io({ op: 'get-hot-reset-info', argsz: 8 })), err('EINVAL'), 'core.hot-reset-info.argsz-einval'));
  it('core.hot-reset-info.no-bus-reset', () => expectStep(run(opened(), io({ op: 'get-hot-reset-info', argsz: 32 })), err('ENODEV'), 'core.hot-reset-info.no-bus-reset'));
  it('core.hot-reset-info.enospc', () => {
    // The header still goes back: argsz, flags 0, the count to make room for [L hot-reset #2:
    // data=0c0000000000000001000000]; a flipped count byte is a divergence.
    const s = run(opened(V, { resetMethods: ['pm', 'bus'] }), io({ op: 'get-hot-reset-info', argsz: 12 }));
    expectStep(s, err('ENOSPC'), 'core.hot-reset-info.enospc');
    expect(Buffer.from((s.outcome as { data: Uint8Array }).data).toString('hex')).toBe('0c0000000000000001000000');
    const seen = (hex: string) => ({ errno: 'ENOSPC', data: Uint8Array.from(Buffer.from(hex, 'hex')) });
    expect(compareObserved(s.outcome, seen('0c0000000000000001000000'), io({ op: 'get-hot-reset-info', argsz: 12 }))).toBeNull();
    expect(compareObserved(s.outcome, seen('0c0000000000000002000000'), io({ op: 'get-hot-reset-info', argsz: 12 }))).toBe('data[8]=02 (model 01)');
  });
  it('core.hot-reset-info.ok', () => {
    const s = run(opened(V, { resetMethods: ['pm', 'bus'], bdf: '0000:01:00.0', iommuGroup: 3 }), io({ op: 'get-hot-reset-info', argsz: 20 }));
    expectStep(s, { kind: 'ok' }, 'core.hot-reset-info.ok');
    // {argsz, flags, count 1} + {group 3, segment 0, bus 1, devfn 0}, as the lab read it [L hot-reset #3].
    expect(Buffer.from(data(s)).toString('hex')).toBe('1400000000000000010000000300000000000100');
    expect((s.outcome as { own?: Uint8Array }).own).toEqual(new Uint8Array(20).fill(0xff));
  });
  it('core.hot-reset-info.ok: a group or address the header does not know is not owned', () => {
    const s = run(opened(V, { resetMethods: ['pm', 'bus'], bdf: 'unknown', iommuGroup: -1 }), io({ op: 'get-hot-reset-info', argsz: 20 }));
    expect([...(s.outcome as { own: Uint8Array }).own]).toEqual([...new Uint8Array(12).fill(0xff), ...new Uint8Array(8)]);
  });
  it('core.hot-reset.flags-einval', () => expectStep(run(opened(), io({ op: 'hot-reset', flags: 1, groupFds: [5] })), err('EINVAL'), 'core.hot-reset.flags-einval'));
  it('core.hot-reset.group-count-einval', () => {
    expectStep(run(opened(), io({ op: 'hot-reset', flags: 0, groupFds: [] })), err('EINVAL'), 'core.hot-reset.group-count-einval');
    // 6.1 probes for a slot/bus reset first [L reset-reopen #45]
    expectStep(run(opened('linux-6.1'), io({ op: 'hot-reset', flags: 0, groupFds: [] })), err('ENODEV'), 'core.hot-reset.no-bus-reset');
    expectStep(run(opened('linux-6.1', { resetMethods: ['pm', 'bus'] }), io({ op: 'hot-reset', flags: 0, groupFds: [] })), err('EINVAL'), 'core.hot-reset.group-count-einval');
  });
  it('core.hot-reset.count-exceeds-set-einval', () =>
    expectStep(run(opened(V, { resetMethods: ['pm', 'bus'] }), io({ op: 'hot-reset', flags: 0, groupFds: [5, 5] })), err('EINVAL'), 'core.hot-reset.count-exceeds-set-einval'));
  it('core.hot-reset.bad-fd-ebadf', () =>
    expectStep(run(opened(V, { resetMethods: ['pm', 'bus'] }), io({ op: 'hot-reset', flags: 0, groupFds: [-1] })), err('EBADF'), 'core.hot-reset.bad-fd-ebadf'));
  it('core.hot-reset.no-bus-reset', () => expectStep(run(opened(), io({ op: 'hot-reset', flags: 0, groupFds: [5] })), err('ENODEV'), 'core.hot-reset.no-bus-reset'));
  it('core.hot-reset.memory-lock-trylock-ebusy', () => {
    const m = opened(V, { resetMethods: ['pm', 'bus'] });
    run(m, cfgw(0x04, 0x0006), { tid: 1, overlap: 3 });
    expectStep(run(m, io({ op: 'hot-reset', flags: 0, groupFds: [5] }), { tid: 2, overlap: 3 }), err('EBUSY'), 'core.hot-reset.memory-lock-trylock-ebusy');
  });
  it('core.hot-reset.ok', () => {
    const m = openMapped(V, { resetMethods: ['pm', 'bus'] });
    expectStep(run(m, io({ op: 'hot-reset', flags: 0, groupFds: [5] })), { kind: 'ok', ret: 0n }, 'core.hot-reset.ok', [{ kind: 'zap', bars: [0] }, { kind: 'reset', method: 'bus' }]);
  });
});

describe('low power', () => {
  it('core.low-power.not-supported', () => expectStep(run(opened('linux-5.19'), lp('entry')), err('ENOTTY'), 'core.low-power.not-supported'));
  it('core.low-power.check-feature-einval', () => {
    expectStep(run(opened(), lp('entry', 0x10000)), err('EINVAL'), 'core.low-power.check-feature-einval');
    expectStep(run(opened(), lp('exit', 0)), err('EINVAL'), 'core.low-power.check-feature-einval');
  });
  it('core.low-power.probe', () => expectStep(run(opened(), lp('entry', 0x60000)), { kind: 'ok', ret: 0n }, 'core.low-power.probe', []));
  it('core.low-power.entry', () => {
    const m = openMapped(V);
    expectStep(run(m, lp('entry')), { kind: 'ok', ret: 0n }, 'core.low-power.entry', [
      { kind: 'zap', bars: [0] },
      { kind: 'low-power', what: 'enter' },
      { kind: 'power', from: 'D0', to: 'D3hot' },
    ]);
    // A config read resumes the device and it suspends again; low power stays engaged.
    expectStep(run(m, cfgr(0, 4)), { kind: 'ok' }, 'config.read', [{ kind: 'power', from: 'D3hot', to: 'D0' }, { kind: 'power', from: 'D0', to: 'D3hot' }]);
    expectStep(run(m, memr()), sigbus, 'fault.low-power-sigbus');
  });
  it('core.low-power.entry: a user-D3hot NoSoftRst- device goes to D0 first, its saved config written back', () => {
    // Random lab campaign (6.1 seed 1 #650): D3hot, MEM written off while in D3hot, low power:
    // the runtime suspend restores the config saved at D3hot entry (MEM on in hardware), so the
    // ROM read that wakes it passes pci_map_rom and fails the memory_enabled test: EIO, not ENOMEM.
    const m = opened('linux-6.1');
    run(m, cfgw(0xcc, 0x0003));
    run(m, cfgw(0x04, 0x0000, 4));
    expect(run(m, lp('entry-with-wakeup', 0x20000, 7)).effects).toContainEqual({ kind: 'power', from: 'D3hot', to: 'D0' });
    expect(m.k.hw.config.u16(0x04) & 0x2).toBe(0x2);
    expectStep(run(m, { kind: 'region-read', region: 6, offset: 0n, len: 4 }), err('EIO'), 'rdwr.rom.memory-disabled-eio');
  });
  it('core.low-power.entry-with-wakeup', () => {
    const m = openMapped(V);
    expectStep(run(m, lp('entry-with-wakeup', 0x20000, 7)), { kind: 'ok' }, 'core.low-power.entry-with-wakeup');
    expectStep(run(m, memr()), sigbus, 'fault.low-power-sigbus'); // a fault does not wake the device
    // The first resume signals the eventfd and ends low power: faults work again.
    expectStep(run(m, cfgr(0, 4)), { kind: 'ok' }, 'config.read', [{ kind: 'power', from: 'D3hot', to: 'D0' }, { kind: 'low-power', what: 'wake' }]);
    expectStep(run(m, memr()), ok, 'fault.populate');
  });
  it('core.low-power.bad-wakeup-fd', () => {
    const m = openMapped(V);
    expectStep(run(m, lp('entry-with-wakeup', 0x20000, -1)), err('EINVAL'), 'core.low-power.bad-wakeup-fd', []);
  });
  it('core.low-power.already-engaged', () => {
    const m = opened();
    run(m, lp('entry'));
    const s = run(m, lp('entry'));
    expectStep(s, err('EINVAL'), 'core.low-power.already-engaged');
  });
  it('core.low-power.exit', () => {
    const m = openMapped(V);
    run(m, lp('entry'));
    expectStep(run(m, lp('exit')), { kind: 'ok', ret: 0n }, 'core.low-power.exit', [{ kind: 'power', from: 'D3hot', to: 'D0' }, { kind: 'low-power', what: 'exit' }]);
    expectStep(run(m, memr()), ok, 'fault.populate');
  });
  it('core.low-power.exit-not-engaged', () => expectStep(run(opened(), lp('exit')), { kind: 'ok', ret: 0n }, 'core.low-power.exit-not-engaged', []));
});

describe('features, raw ioctls, KVM events', () => {
  const feat = (flags: number, feature: number): HostEvent => io({ op: 'feature', flags: flags | feature, feature, payload: new Uint8Array(0) });
  it('core.feature.bad-flags', () => expectStep(run(opened(), feat(0x80000 | 0x20000, 0)), err('EINVAL'), 'core.feature.bad-flags'));
  it('core.feature.get-and-set', () => expectStep(run(opened(), feat(0x30000, 0)), err('EINVAL'), 'core.feature.get-and-set'));
  it('core.feature.not-supported-enotty', () => expectStep(run(opened(), feat(0x20000, 10)), err('ENOTTY'), 'core.feature.not-supported-enotty'));
  it('undecoded low-power features are routed like the decoded ones [L low-power #80-86]', () => {
    const m = opened('linux-6.12');
    expectStep(run(m, feat(0x10000, 3)), err('EINVAL'), 'core.low-power.check-feature-einval');
    expectStep(run(m, feat(0x40000, 3)), { kind: 'ok', ret: 0n }, 'core.low-power.probe');
    expectStep(run(m, feat(0x0, 3)), err('EINVAL'), 'core.low-power.check-feature-einval');
    expectStep(run(m, feat(0x20000, 4)), err('EINVAL'), 'core.low-power.check-feature-einval'); // payload < 8
    const ww = io({ op: 'feature', flags: 0x20004, feature: 4, payload: new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0]) });
    expectStep(run(m, ww), { kind: 'ok', ret: 0n }, 'core.low-power.entry-with-wakeup');
    // the EXIT ioctl's own runtime resume already ended the single-shot wakeup low power
    expectStep(run(m, feat(0x20000, 5)), { kind: 'ok', ret: 0n }, 'core.low-power.exit-not-engaged', [
      { kind: 'power', from: 'D3hot', to: 'D0' },
      { kind: 'low-power', what: 'wake' },
    ]);
  });
  it('an undecoded DMA_BUF feature is parsed from its payload', () => {
    const p = new Uint8Array(32);
    p[12] = 1; // nr_ranges
    p[25] = 0x10; // length 0x1000
    const m = opened('linux-7.0');
    expectStep(run(m, io({ op: 'feature', flags: 0x1000b, feature: 11, payload: p })), ok, 'dmabuf.export.ok');
    expectStep(run(m, io({ op: 'feature', flags: 0x1000b, feature: 11, payload: p.slice(0, 8) })), err('EINVAL'), 'dmabuf.export.check-feature');
  });
  it('dmabuf.export.ranges-copy-efault', () => {
    const p = new Uint8Array(16);
    p[12] = 2; // two ranges announced, none present
    expectStep(run(opened('linux-7.0'), io({ op: 'feature', flags: 0x1000b, feature: 11, payload: p })), err('EFAULT'), 'dmabuf.export.ranges-copy-efault');
  });
  it('core.feature.id12-probe-einval', () => {
    expectStep(run(opened('linux-7.2'), feat(0x40000, 12)), err('EINVAL'), 'core.feature.id12-probe-einval');
    expectStep(run(opened('linux-6.12'), feat(0x40000, 12)), err('ENOTTY'), 'core.feature.not-supported-enotty');
  });
  it('core.feature.id12-unmodeled', () => expectStep(run(opened('linux-7.2'), feat(0x10000, 12)), { kind: 'unsupported' }, 'core.feature.id12-unmodeled'));
  it('core.feature.id12-unknown', () => expectStep(run(opened('linux-7.1'), feat(0x40000, 12)), { kind: 'unsupported' }, 'core.feature.id12-unknown'));
  const raw = (name: string, arg = new Uint8Array(0)): HostEvent => io({ op: 'raw', fdKind: 'container', request: 0, name, arg });
  it('container.api-version', () => expectStep(run(opened(), raw('VFIO_GET_API_VERSION')), { kind: 'ok', ret: 0n }, 'container.api-version'));
  it('container.check-extension', () => {
    expectStep(run(opened(), raw('VFIO_CHECK_EXTENSION', new Uint8Array([3, 0, 0, 0]))), { kind: 'ok', ret: 1n }, 'container.check-extension');
    expectStep(run(opened(), raw('VFIO_CHECK_EXTENSION', new Uint8Array([2, 0, 0, 0]))), { kind: 'ok', ret: 0n }, 'container.check-extension');
  });
  it('container.setup', () => {
    expectStep(run(opened(), raw('VFIO_SET_IOMMU')), { kind: 'ok', ret: 0n }, 'container.setup');
    expectStep(run(model(V), raw('VFIO_GROUP_SET_CONTAINER')), { kind: 'ok', ret: 0n }, 'container.setup'); // no device fd needed
  });
  it('core.ioctl.raw-unmodeled', () => expectStep(run(opened(), raw('VFIO_EEH_PE_OP')), { kind: 'unsupported' }, 'core.ioctl.raw-unmodeled'));
  it('kvm.memslot.not-vfio', () => expectStep(run(opened(), { kind: 'memslot', slot: 1, flags: 0, gpa: 0n, size: 0x1000n, uaddr: BAR0_ADDR }), { kind: 'ok' }, 'kvm.memslot.not-vfio'));
  it('kvm.run.not-kernel-vfio', () => expectStep(run(opened(), { kind: 'kvm-run', vcpu: 0 }), { kind: 'unsupported' }, 'kvm.run.not-kernel-vfio'));
});
