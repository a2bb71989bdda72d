// One test per vfio_pci_dmabuf.c rule (export errno table, revoke/unrevoke, importer ops), named after the rule id.
import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../src/trace/types.js';
import { BAR0_ADDR, cfgw, err, expectStep, model, ok, run } from './helpers.js';

const GET = 0x10000, SET = 0x20000, PROBE = 0x40000;
function opened(version = 'linux-7.0', dev = {}) {
  const m = model(version, dev);
  run(m, { kind: 'open' });
  run(m, cfgw(0x04, 0x0006));
  return m;
}
const exp = (regionIndex = 0, ranges = [{ offset: 0n, length: 0x1000n }], flags = GET | 11, dmaBufFlags = 0): HostEvent => ({
  kind: 'ioctl',
  op: 'dma-buf',
  flags,
  regionIndex,
  openFlags: 2,
  dmaBufFlags,
  ranges,
});
const imp = (dmabuf: number, op: 'attach' | 'map' | 'unmap' | 'detach' | 'mmap' | 'close'): HostEvent => ({ kind: 'dmabuf', dmabuf, op });

describe('DMABUF export errno table', () => {
  it('dmabuf.export.no-feature', () => expectStep(run(opened('linux-6.12'), exp()), err('ENOTTY'), 'dmabuf.export.no-feature'));
  it('dmabuf.export.check-feature', () => {
    expectStep(run(opened(), exp(0, undefined, SET | 11)), err('EINVAL'), 'dmabuf.export.check-feature');
    expectStep(run(opened(), exp(0, undefined, 11)), err('EINVAL'), 'dmabuf.export.check-feature');
  });
  it('dmabuf.export.probe', () => expectStep(run(opened(), exp(0, undefined, PROBE | GET | 11)), { kind: 'ok', ret: 0n }, 'dmabuf.export.probe', []));
  it('dmabuf.export.bad-flags-or-no-ranges', () => {
    expectStep(run(opened(), exp(0, [])), err('EINVAL'), 'dmabuf.export.bad-flags-or-no-ranges');
    expectStep(run(opened(), exp(0, undefined, GET | 11, 1)), err('EINVAL'), 'dmabuf.export.bad-flags-or-no-ranges');
  });
  it('dmabuf.export.not-a-bar', () => expectStep(run(opened(), exp(6)), err('ENODEV'), 'dmabuf.export.not-a-bar'));
  it('dmabuf.export.bar-resource-not-claimed', () => {
    expectStep(run(opened('linux-7.1', { quirks: { resourceBusyBars: [0] } }), exp(0)), err('ENODEV'), 'dmabuf.export.bar-resource-not-claimed');
    expectStep(run(opened('linux-7.0.11', { quirks: { resourceBusyBars: [0] } }), exp(0)), err('ENODEV'), 'dmabuf.export.bar-resource-not-claimed');
  });
  it('dmabuf.export.range-unaligned', () => expectStep(run(opened(), exp(0, [{ offset: 0x10n, length: 0x1000n }])), err('EINVAL'), 'dmabuf.export.range-unaligned'));
  it('dmabuf.export.range-overflow', () =>
    expectStep(run(opened(), exp(0, [{ offset: 0n, length: 1n << 62n }, { offset: 0n, length: 1n << 62n }])), err('EINVAL'), 'dmabuf.export.range-overflow'));
  it('dmabuf.export.no-p2p-provider', () => {
    expectStep(run(opened(), exp(2)), err('EINVAL'), 'dmabuf.export.no-p2p-provider');
    expectStep(run(opened(), exp(4)), err('EINVAL'), 'dmabuf.export.no-p2p-provider');
  });
  it('dmabuf.export.unmappable-unknown', () =>
    expectStep(run(opened('linux-7.2', { quirks: { nonMappableBars: true } }), exp(0)), { kind: 'unsupported' }, 'dmabuf.export.unmappable-unknown'));
  it('dmabuf.export.p2pdma-non-mappable', () =>
    expectStep(run(opened('dmabuf-unmappable-bars@v2', { quirks: { nonMappableBars: true } }), exp(0)), err('EINVAL'), 'dmabuf.export.p2pdma-non-mappable'));
  it('dmabuf.export.bar-mmap-unsupported', () =>
    expectStep(run(opened('dmabuf-unmappable-bars@v1', { quirks: { nonMappableBars: true } }), exp(0)), err('EINVAL'), 'dmabuf.export.bar-mmap-unsupported'));
  it('dmabuf.export.range-past-bar', () => expectStep(run(opened(), exp(0, [{ offset: 0x1f000n, length: 0x2000n }])), err('EINVAL'), 'dmabuf.export.range-past-bar'));
  // The lab on 7.2 (dmabuf #21): BAR start + offset wraps u64 before the end check.
  it('dmabuf.export.range-phys-overflow', () => {
    expectStep(run(opened(), exp(0, [{ offset: 0xfffffffffffff000n, length: 0x2000n }])), err('EOVERFLOW'), 'dmabuf.export.range-phys-overflow');
    // Past the end but no wrap: still the end check.
    expectStep(run(opened(), exp(0, [{ offset: 0x7ffffffffffff000n, length: 0x2000n }])), err('EINVAL'), 'dmabuf.export.range-past-bar');
  });
  it('dmabuf.export.ok', () => {
    expectStep(run(opened(), exp(0), { observed: { ret: 12n } }), { kind: 'ok', ret: 12n }, 'dmabuf.export.ok', [{ kind: 'dmabuf-export', dmabuf: 12, region: 0 }]);
    // Without an observed fd the model names it 1000 + export ordinal.
    expectStep(run(opened(), exp(0)), ok, 'dmabuf.export.ok', [{ kind: 'dmabuf-export', dmabuf: 1000, region: 0 }]);
  });
  it('dmabuf.export.created-revoked', () => {
    const m = opened();
    run(m, cfgw(0x04, 0x0004));
    expectStep(run(m, exp(0)), ok, 'dmabuf.export.created-revoked', [{ kind: 'dmabuf-export', dmabuf: 1000, region: 0 }, { kind: 'revoke', dmabuf: 1000 }]);
  });
});

describe('revoke / unrevoke and importer ops', () => {
  function exported(version = 'linux-7.0') {
    const m = opened(version);
    run(m, exp(0), { observed: { ret: 7n } });
    return m;
  }
  it('dmabuf.attach.ok', () => expectStep(run(exported(), imp(7, 'attach')), { kind: 'ok', ret: 0n }, 'dmabuf.attach.ok'));
  it('dmabuf.attach.revoked-enodev', () => {
    const m = exported();
    expectStep(run(m, cfgw(0x04, 0x0004)), ok, 'config.command.mse-clear-zaps', [{ kind: 'revoke', dmabuf: 7 }]);
    expectStep(run(m, imp(7, 'attach')), err('ENODEV'), 'dmabuf.attach.revoked-enodev');
    expectStep(run(m, cfgw(0x04, 0x0006)), ok, 'config.command.mse-set', [{ kind: 'unrevoke', dmabuf: 7 }]);
    expectStep(run(m, imp(7, 'attach')), ok, 'dmabuf.attach.ok');
  });
  it('dmabuf.map.ok', () => {
    const m = exported();
    run(m, imp(7, 'attach'));
    expectStep(run(m, imp(7, 'map')), { kind: 'ok', ret: 0n }, 'dmabuf.map.ok');
  });
  it('dmabuf.map.not-attached', () => expectStep(run(exported(), imp(7, 'map')), err('EINVAL'), 'dmabuf.map.not-attached'));
  it('dmabuf.map.revoked-enodev', () => {
    const m = exported();
    run(m, imp(7, 'attach'));
    expect(run(m, { kind: 'ioctl', op: 'reset' }).effects).toEqual([{ kind: 'revoke', dmabuf: 7 }, { kind: 'reset', method: 'pm' }, { kind: 'unrevoke', dmabuf: 7 }]);
    run(m, cfgw(0xcc, 0x0003)); // D3hot revokes and stays revoked
    expectStep(run(m, imp(7, 'map')), err('ENODEV'), 'dmabuf.map.revoked-enodev');
  });
  it('dmabuf.unmap.ok', () => expectStep(run(exported(), imp(7, 'unmap')), { kind: 'ok' }, 'dmabuf.unmap.ok'));
  it('dmabuf.detach.ok', () => expectStep(run(exported(), imp(7, 'detach')), { kind: 'ok' }, 'dmabuf.detach.ok'));
  it('dmabuf.mmap.unsupported', () => expectStep(run(exported(), imp(7, 'mmap')), err('EINVAL'), 'dmabuf.mmap.unsupported'));
  it('dmabuf.release', () => {
    const m = exported();
    expectStep(run(m, imp(7, 'close')), { kind: 'ok' }, 'dmabuf.release', [{ kind: 'release', what: 'dmabuf7' }]);
    expectStep(run(m, imp(7, 'attach')), err('EBADF'), 'dmabuf.importer.unknown-fd');
  });
  it('dmabuf.importer.unknown-fd', () => expectStep(run(exported(), imp(99, 'attach')), err('EBADF'), 'dmabuf.importer.unknown-fd'));
  it('close revokes every dmabuf permanently', () => {
    const m = exported();
    const s = run(m, { kind: 'close' });
    expect(s.effects).toContainEqual({ kind: 'revoke', dmabuf: 7 });
    expectStep(run(m, imp(7, 'attach')), err('ENODEV'), 'dmabuf.attach.revoked-enodev');
    run(m, { kind: 'open' });
    run(m, cfgw(0x04, 0x0006));
    expectStep(run(m, imp(7, 'attach')), err('ENODEV'), 'dmabuf.attach.revoked-enodev'); // orphaned: never unrevoked
  });
  it('low-power entry revokes; the wakeup resume does not unrevoke; exit does', () => {
    const m = exported('linux-7.2');
    expect(run(m, { kind: 'ioctl', op: 'low-power', request: 'entry-with-wakeup', flags: SET | 4, wakeupFd: 5 }).effects).toContainEqual({ kind: 'revoke', dmabuf: 7 });
    run(m, { kind: 'cfg-read', offset: 0, len: 4 }); // wakes
    expectStep(run(m, imp(7, 'attach')), err('ENODEV'), 'dmabuf.attach.revoked-enodev');
    expect(run(m, { kind: 'ioctl', op: 'low-power', request: 'exit', flags: SET | 5, wakeupFd: -1 }).effects).toEqual([{ kind: 'unrevoke', dmabuf: 7 }]);
  });
  it('mmap of a BAR is unaffected by dmabuf state', () => {
    const m = exported();
    run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x1000n, prot: 3, addr: BAR0_ADDR });
    expectStep(run(m, { kind: 'mem-read', bar: 0, offset: 0n, len: 4 }), ok, 'fault.populate');
  });
});
