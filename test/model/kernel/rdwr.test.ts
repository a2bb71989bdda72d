// One test per vfio_pci_rdwr.c rule (BAR/ROM/VGA rw, barmap, ioeventfd), named after the rule id.
import { describe, expect, it } from 'vitest';
import { emptyTraits, type HostEvent } from '../../../src/trace/types.js';
import { cfgw, err, expectStep, model, ok, run, regionRead } from './helpers.js';

const V = 'linux-7.2';
function opened(version = V, dev = {}, mse = true) {
  const m = model(version, dev);
  run(m, { kind: 'open' });
  if (!mse) run(m, cfgw(0x04, 0x0000));
  return m;
}
const write = (region: number, offset: bigint, len = 4): HostEvent => ({ kind: 'region-write', region, offset, data: new Uint8Array(len) });
const ioevt = (flags: number, offset: bigint, fd = 9, data = 1n): HostEvent => ({ kind: 'ioctl', op: 'ioeventfd', flags, offset, data, fd });
const BAR = (i: number) => BigInt(i) << 40n;

describe('BAR / ROM / VGA read-write rules', () => {
  it('rdwr.zero-length', () => expectStep(run(opened(), regionRead(0, 0n, 0)), { kind: 'ok', ret: 0n }, 'rdwr.zero-length'));
  it('rdwr.region.invalid-index', () => expectStep(run(opened(), regionRead(9, 0n, 4)), err('EINVAL'), 'rdwr.region.invalid-index'));
  it('rdwr.vga.invalid', () => expectStep(run(opened(), regionRead(8, 0xa0000n, 4)), err('EINVAL'), 'rdwr.vga.invalid'));
  it('rdwr.vga.no-memory-check', () => {
    const m = opened(V, { vga: true }, false);
    expectStep(run(m, regionRead(8, 0xa0000n, 4)), { kind: 'ok', ret: 4n }, 'rdwr.vga.no-memory-check');
    expectStep(run(m, regionRead(8, 0x3dfn, 4)), { kind: 'ok', ret: 1n }, 'rdwr.vga.no-memory-check');
  });
  it('rdwr.vga.outside-windows', () => expectStep(run(opened(V, { vga: true }), regionRead(8, 0x1000n, 4)), err('EINVAL'), 'rdwr.vga.outside-windows'));
  it('rdwr.rom.write-einval', () => expectStep(run(opened(), write(6, 0n)), err('EINVAL'), 'rdwr.rom.write-einval'));
  it('rdwr.rom.absent', () => expectStep(run(opened(V, { romSize: 0n }), regionRead(6, 0n, 4)), err('EINVAL'), 'rdwr.rom.absent'));
  it('rdwr.rom.past-end', () => expectStep(run(opened(), regionRead(6, 0x40000n, 4)), err('EINVAL'), 'rdwr.rom.past-end'));
  it('rdwr.rom.ok', () => expectStep(run(opened(), regionRead(6, 0n, 4)), { kind: 'ok', ret: 4n }, 'rdwr.rom.ok', [{ kind: 'device-access', what: 'rom+0x0' }]));
  it('rdwr.rom.map-rom-fails-enomem', () => {
    // every version: pci_map_rom probes the ROM header before any memory_enabled test [L rom #11]
    for (const v of ['linux-5.7', 'linux-5.8', 'linux-6.1', V]) {
      expectStep(run(opened(v, {}, false), regionRead(6, 0n, 4)), err('ENOMEM'), 'rdwr.rom.map-rom-fails-enomem', [
        { kind: 'platform-hazard', reason: 'ROM header probe with memory decode disabled' },
      ]);
    }
  });
  it('rdwr.rom.memory-disabled-eio', () => {
    const m = opened('linux-6.1');
    run(m, cfgw(0xcc, 0x0003));
    expectStep(run(m, regionRead(6, 0n, 4)), err('EIO'), 'rdwr.rom.memory-disabled-eio', [
      { kind: 'platform-hazard', reason: 'ROM header probe with the device in D3hot' },
    ]); // [L rom #16]
  });
  it('rdwr.rom.past-image-ff', () => {
    // traces/lab/found/6.1/rom-past-image-ff: QEMU's efi-e1000e.rom fills 0x3d000 of the 0x40000
    // BAR; vfio-pci reads the rest as 0xff with no memory_enabled test, so in D3hot the image
    // fails -EIO and the fill succeeds.
    const rom = { traits: { ...emptyTraits(), romImage: 0x3d000 } };
    const m = opened('linux-6.1', rom);
    run(m, cfgw(0xcc, 0x0003));
    const hz = { kind: 'platform-hazard', reason: 'ROM header probe with the device in D3hot' } as const;
    expectStep(run(m, regionRead(6, 0x3fffcn, 4)), { kind: 'ok', ret: 4n, data: Uint8Array.of(0xff, 0xff, 0xff, 0xff) }, 'rdwr.rom.past-image-ff', [hz]);
    expectStep(run(m, regionRead(6, 0x3d000n, 1)), { kind: 'ok', ret: 1n }, 'rdwr.rom.past-image-ff');
    expectStep(run(m, regionRead(6, 0x3cffen, 4)), err('EIO'), 'rdwr.rom.memory-disabled-eio', [hz]);
    // In D0 a read across the image end: the device's bytes (not the model's), then vfio's 0xff.
    const d0 = opened('linux-6.1', rom);
    const s = run(d0, regionRead(6, 0x3cffen, 4));
    expectStep(s, { kind: 'ok', ret: 4n }, 'rdwr.rom.past-image-ff', [{ kind: 'device-access', what: 'rom+0x3cffe' }]);
    const o = s.outcome as { data: Uint8Array; own: Uint8Array };
    expect([...o.data.slice(2)]).toEqual([0xff, 0xff]);
    expect([...o.own]).toEqual([0, 0, 0xff, 0xff]);
    // Without the trait the image fills the BAR (the default): the same read reaches the device.
    expectStep(run(opened('linux-6.1'), regionRead(6, 0x3fffcn, 4)), { kind: 'ok', ret: 4n }, 'rdwr.rom.ok');
  });
  it('rdwr.rom.reaches-disabled-device', () => {
    const m = opened('linux-5.8');
    run(m, cfgw(0xcc, 0x0003));
    expectStep(run(m, regionRead(6, 0n, 4)), { kind: 'hazard', reason: 'device in D3hot' }, 'rdwr.rom.reaches-disabled-device');
  });
  it('rdwr.bar.unassigned', () => expectStep(run(opened(), regionRead(4, 0n, 4)), err('EINVAL'), 'rdwr.bar.unassigned'));
  it('rdwr.bar.past-end-einval', () => expectStep(run(opened(), regionRead(0, 0x20000n, 4)), err('EINVAL'), 'rdwr.bar.past-end-einval'));
  it('rdwr.bar.short-at-end', () => expectStep(run(opened(), regionRead(0, 0x1fffen, 4)), { kind: 'ok', ret: 2n }, 'rdwr.bar.short-at-end'));
  it('rdwr.bar.ok', () => expectStep(run(opened(), write(0, 0x8n)), { kind: 'ok', ret: 4n }, 'rdwr.bar.ok', [{ kind: 'device-access', what: 'bar0+0x8' }]));
  it('rdwr.bar.memory-disabled-eio', () => {
    const m = opened(V, {}, false);
    expectStep(run(m, regionRead(0, 0x8n, 4)), err('EIO'), 'rdwr.bar.memory-disabled-eio', []);
    expectStep(run(m, regionRead(3, 0x3ffcn, 8)), err('EIO'), 'rdwr.bar.memory-disabled-eio');
  });
  it('rdwr.bar.reaches-disabled-device', () =>
    expectStep(run(opened('linux-5.7', {}, false), regionRead(0, 0x8n, 4)), { kind: 'hazard', reason: 'memory decode disabled (COMMAND.MEM=0)' }, 'rdwr.bar.reaches-disabled-device'));
  it('rdwr.bar.io-no-check', () => {
    const m = opened(V, {}, false);
    run(m, cfgw(0xcc, 0x0003));
    expectStep(run(m, regionRead(2, 0x0n, 4)), { kind: 'ok', ret: 4n }, 'rdwr.bar.io-no-check');
  });
  it('rdwr.bar.msix-table-reads-ff', () => {
    const s = run(opened(V, {}, false), regionRead(3, 0x10n, 4));
    expectStep(s, { kind: 'ok', ret: 4n }, 'rdwr.bar.msix-table-reads-ff');
    expect(Buffer.from((s.outcome as { data: Uint8Array }).data).toString('hex')).toBe('ffffffff');
  });
  it('rdwr.bar.msix-table-write-dropped', () =>
    expectStep(run(opened(V, {}, false), write(3, 0x0n)), { kind: 'ok', ret: 4n }, 'rdwr.bar.msix-table-write-dropped', []));
});

describe('barmap rules', () => {
  it('rdwr.barmap.request-ebusy', () => {
    const m = opened('linux-7.0', { quirks: { resourceBusyBars: [0] } });
    expectStep(run(m, regionRead(0, 0n, 4)), err('EBUSY'), 'rdwr.barmap.request-ebusy');
  });
  it('rdwr.barmap.iomap-enomem', () => {
    const m = opened('linux-7.0', { quirks: { iomapFailBars: [0] } });
    expectStep(run(m, regionRead(0, 0n, 4)), err('ENOMEM'), 'rdwr.barmap.iomap-enomem');
    expectStep(run(m, regionRead(0, 0n, 4)), err('ENOMEM'), 'rdwr.barmap.iomap-enomem'); // region released: same error again
  });
  it('rdwr.barmap.enable-time-error', () => {
    const m = opened('linux-7.1', { quirks: { resourceBusyBars: [0] } });
    expect(m.view.isOpen).toBe(true);
    expectStep(run(m, regionRead(0, 0n, 4)), err('EBUSY'), 'rdwr.barmap.enable-time-error');
  });
  it('rdwr.barmap.concurrent-first-use-ebusy', () => {
    const m = opened('linux-7.0');
    expectStep(run(m, regionRead(0, 0n, 4), { tid: 1, overlap: 5 }), ok, 'rdwr.bar.ok');
    expectStep(run(m, regionRead(0, 4n, 4), { tid: 2, overlap: 5 }), err('EBUSY'), 'rdwr.barmap.concurrent-first-use-ebusy');
    expectStep(run(m, regionRead(0, 4n, 4), { tid: 2 }), ok, 'rdwr.bar.ok');
    const n = opened('linux-7.1');
    run(n, regionRead(0, 0n, 4), { tid: 1, overlap: 5 });
    expectStep(run(n, regionRead(0, 4n, 4), { tid: 2, overlap: 5 }), ok, 'rdwr.bar.ok');
  });
});

describe('ioeventfd rules', () => {
  it('ioeventfd.bad-args', () => {
    expectStep(run(opened(), ioevt(0x3, BAR(0))), err('EINVAL'), 'ioeventfd.bad-args');
    expectStep(run(opened(), ioevt(0x4, BAR(0), -2)), err('EINVAL'), 'ioeventfd.bad-args');
  });
  it('ioeventfd.not-a-bar', () => expectStep(run(opened(), ioevt(0x4, BAR(6))), err('EINVAL'), 'ioeventfd.not-a-bar'));
  it('ioeventfd.past-bar-end', () => expectStep(run(opened(), ioevt(0x4, BAR(2) + 0x1en)), err('EINVAL'), 'ioeventfd.past-bar-end'));
  it('ioeventfd.msix-table', () => expectStep(run(opened(), ioevt(0x4, BAR(3) + 0x4cn)), err('EINVAL'), 'ioeventfd.msix-table'));
  it('ioeventfd.size8-rejected', () => {
    expectStep(run(opened(), ioevt(0x8, BAR(0))), err('EINVAL'), 'ioeventfd.size8-rejected');
    expectStep(run(opened('linux-6.12'), ioevt(0x8, BAR(0))), { kind: 'ok', ret: 0n }, 'ioeventfd.added');
  });
  it('ioeventfd.added', () => expectStep(run(opened(), ioevt(0x4, BAR(0) + 0x10n)), { kind: 'ok', ret: 0n }, 'ioeventfd.added'));
  it('ioeventfd.exists', () => {
    const m = opened();
    run(m, ioevt(0x4, BAR(0) + 0x10n));
    expectStep(run(m, ioevt(0x4, BAR(0) + 0x10n, 10)), err('EEXIST'), 'ioeventfd.exists');
  });
  it('ioeventfd.removed', () => {
    const m = opened();
    run(m, ioevt(0x4, BAR(0) + 0x10n));
    expectStep(run(m, ioevt(0x4, BAR(0) + 0x10n, -1)), { kind: 'ok', ret: 0n }, 'ioeventfd.removed');
  });
  it('ioeventfd.remove-missing', () => expectStep(run(opened(), ioevt(0x4, BAR(0), -1)), err('ENODEV'), 'ioeventfd.remove-missing'));
  it('ioeventfd.too-many', () => {
    const m = opened();
    for (let i = 0; i < 1000; i++) run(m, ioevt(0x1, BAR(0) + BigInt(i)));
    expectStep(run(m, ioevt(0x1, BAR(0) + 1000n)), err('ENOSPC'), 'ioeventfd.too-many');
  });
});
