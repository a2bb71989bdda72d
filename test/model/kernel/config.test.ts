// One test per vfio_pci_config.c rule, named after the rule id.
import { describe, expect, it } from 'vitest';
import { ConfigImage } from '../../../src/model/pci/config-image.js';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';
import { cfgr, cfgw, err, expectStep, model, ok, openMapped, run, withAf, withConfig, withExpFlr } from './helpers.js';

const V = 'linux-7.2';
function opened(version = V, dev = {}) {
  const m = model(version, dev);
  run(m, { kind: 'open' });
  return m;
}
const bytes = (s: { outcome: { kind: string } }) => Buffer.from((s.outcome as { data: Uint8Array }).data).toString('hex');

describe('config rules', () => {
  it('config.read', () => {
    const s = run(opened(), cfgr(0x00, 4));
    expectStep(s, { kind: 'ok', ret: 4n }, 'config.read');
    expect(bytes(s)).toBe('8680d310');
  });

  it('config.read: the model owns the virtualized bits, the function the rest (per release) [data-owner]', () => {
    const own = (v: string, off: number, len: number): string => {
      const m = model(v);
      run(m, { kind: 'open' });
      return Buffer.from((run(m, cfgr(off, len)).outcome as { own: Uint8Array }).own).toString('hex');
    };
    expect(own('linux-7.2', 0x00, 8)).toBe('ffffffff00041000'); // IDs virtual; COMMAND: INTX_DISABLE; STATUS: CAP_LIST
    expect(own('linux-7.2', 0x10, 4)).toBe('ffffffff'); // BARs are emulated
    // PMCSR (e1000e PM at 0xc8): PME_En/PME_Status virtualized since 5.19, passed through before.
    expect(own('linux-7.2', 0xcc, 2)).toBe('0081');
    expect(own('linux-5.8', 0xcc, 2)).toBe('0000');
  });

  it('config.read.bar-emulated', () => {
    const m = opened();
    run(m, cfgw(0x10, 0xffffffff, 4));
    const s = run(m, cfgr(0x10, 4));
    expectStep(s, { kind: 'ok', ret: 4n }, 'config.read.bar-emulated');
    expect(bytes(s)).toBe('0000feff'); // 128 KiB sizing mask, mem32 non-prefetchable
    run(m, cfgw(0x18, 0xffffffff, 4));
    expect(bytes(run(m, cfgr(0x18, 4)))).toBe('e1ffffff'); // 32-byte I/O BAR
    run(m, cfgw(0x30, 0xffffffff, 4));
    expect(bytes(run(m, cfgr(0x30, 4)))).toBe('0100fcff'); // 256 KiB ROM, enable bit kept
    expect(bytes(run(m, cfgr(0x20, 4)))).toBe('00000000'); // unimplemented BAR4
  });

  it('config.read.out-of-range-efault', () => {
    expectStep(run(opened(), cfgr(0xffe, 4)), err('EFAULT'), 'config.read.out-of-range-efault');
  });

  it('config.read.snapshot-short', () => {
    const m = opened(V, { config: e1000eSnapshot().config.slice(0, 64) });
    expectStep(run(m, cfgr(0x40, 4)), { kind: 'unsupported' }, 'config.read.snapshot-short');
  });

  it('config.read.zero-length', () => {
    expectStep(run(opened(), cfgr(0x00, 0)), { kind: 'ok', ret: 0n }, 'config.read.zero-length');
  });

  it('config.write.zero-length', () => {
    expectStep(run(opened(), { kind: 'cfg-write', offset: 0, data: new Uint8Array(0) }), { kind: 'ok', ret: 0n }, 'config.write.zero-length');
  });

  it('config.write.default', () => {
    const m = opened();
    expectStep(run(m, cfgw(0x0c, 0x10, 1)), { kind: 'ok', ret: 1n }, 'config.write.default');
    expect(bytes(run(m, cfgr(0x0c, 1)))).toBe('10');
    run(m, cfgw(0x00, 0xffff)); // vendor id: not writable
    expect(bytes(run(m, cfgr(0x00, 2)))).toBe('8680');
  });

  it('config.write.out-of-range-efault', () => {
    const m = opened();
    const s = run(m, { kind: 'cfg-write', offset: 0xffc, data: new Uint8Array(8).fill(0x11) });
    expectStep(s, err('EFAULT'), 'config.write.out-of-range-efault');
  });

  it('config.write.unassigned-raw', () => {
    const m = opened();
    expectStep(run(m, cfgw(0x40, 0xbeef)), { kind: 'ok', ret: 2n }, 'config.write.unassigned-raw');
    expect(m.k.hw.config.u16(0x40)).toBe(0xbeef);
    expect(bytes(run(m, cfgr(0x40, 2)))).toBe('efbe');
  });

  it('config.bar.write-virtual', () => {
    const m = opened();
    expectStep(run(m, cfgw(0x10, 0xffffffff, 4)), { kind: 'ok', ret: 4n }, 'config.bar.write-virtual');
    expect(m.k.hw.config.u32(0x10)).toBe(0xfea00000); // the real BAR is never touched
  });

  it('config.command.mse-clear-zaps', () => {
    const m = openMapped(V);
    expectStep(run(m, cfgw(0x04, 0x0004)), { kind: 'ok', ret: 2n }, 'config.command.mse-clear-zaps', [{ kind: 'zap', bars: [0] }]);
    expect(m.view.memoryEnabled).toBe(false);
    expect(m.k.hw.config.u16(0x04) & 0x2).toBe(0);
  });

  it('config.command.mse-clear-no-zap', () => {
    const m = openMapped('linux-5.7');
    expectStep(run(m, cfgw(0x04, 0x0004)), { kind: 'ok', ret: 2n }, 'config.command.mse-clear-no-zap', []);
  });

  it('config.command.mse-set', () => {
    const m = opened();
    run(m, cfgw(0x04, 0x0000));
    expect(m.view.memoryEnabled).toBe(false);
    expectStep(run(m, cfgw(0x04, 0x0006)), { kind: 'ok', ret: 2n }, 'config.command.mse-set', []);
    expect(m.view.memoryEnabled).toBe(true);
    expect(bytes(run(m, cfgr(0x04, 2)))).toBe('0600');
  });

  it('config.command.backdoor-restore-bars', () => {
    // 5.8: VFIO_DEVICE_RESET from D3hot wakes the NoSoftRst- device without vfio's restore, so the
    // hardware COMMAND is lost while vconfig still has MEM set; the next MEM write restores BARs.
    const m = opened('linux-5.8');
    run(m, cfgw(0x04, 0x0006));
    run(m, cfgw(0xcc, 0x0003));
    run(m, { kind: 'ioctl', op: 'reset' });
    expect(m.k.hw.config.u16(0x04) & 0x2).toBe(0);
    expectStep(run(m, cfgw(0x04, 0x0006)), { kind: 'ok' }, 'config.command.backdoor-restore-bars', [{ kind: 'restore-bars' }]);
  });

  it('config.cap.write-dropped', () => {
    const m = opened();
    expectStep(run(m, cfgw(0x144, 0xffffffff, 4)), { kind: 'ok', ret: 4n }, 'config.cap.write-dropped');
    expect(bytes(run(m, cfgr(0x144, 4)))).toBe('78563412');
  });

  it('config.cap.write-dropped: a PCIe function without extended capabilities has a virtual zero at 0x100', () => {
    // QEMU's nvme in the lab (traces/lab/<k>/nvme/edges): 0x100 reads 0 and a write there is dropped.
    const m = model('linux-6.1', withConfig((c) => c.setU32(0x100, 0)));
    run(m, { kind: 'open' });
    expectStep(run(m, cfgw(0x100, 0xffffffff, 4)), { kind: 'ok', ret: 4n }, 'config.cap.write-dropped');
    expect(bytes(run(m, cfgr(0x100, 4)))).toBe('00000000');
    // Past the anchor dword the bytes stay unassigned (raw).
    run(m, cfgw(0x104, 0x5a5a5a5a, 4));
    expect(bytes(run(m, cfgr(0x104, 4)))).toBe('5a5a5a5a');
  });

  it('config.msix.write-dropped', () => {
    const m = opened();
    expectStep(run(m, cfgw(0xa2, 0xc004)), { kind: 'ok', ret: 2n }, 'config.msix.write-dropped');
    expect(bytes(run(m, cfgr(0xa2, 2)))).toBe('0400');
  });

  it('config.msi.write-virtual', () => {
    const m = opened();
    expectStep(run(m, cfgw(0xd2, 0x0081)), { kind: 'ok' }, 'config.msi.write-virtual');
    expect(bytes(run(m, cfgr(0xd2, 2)))).toBe('8000'); // ENABLE only sticks while MSI is on via SET_IRQS
    expect(m.k.hw.config.u16(0xd2)).toBe(0x0080);
    run(m, cfgw(0xd4, 0xfee00000, 4));
    expect(bytes(run(m, cfgr(0xd4, 4)))).toBe('0000e0fe');
    run(m, { kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 1, start: 0, count: 1, argsz: 24, fds: [] });
    run(m, cfgw(0xd2, 0x00f1)); // QSIZE clamped to msi_qmax (0 for one vector)
    expect(bytes(run(m, cfgr(0xd2, 2)))).toBe('8100');
  });

  it('config.vndr.write-raw', () => {
    const dev = withConfig((c: ConfigImage) => {
      c.setU8(0x34, 0x40);
      c.setU8(0x40, 0x09);
      c.setU8(0x41, 0xc8);
      c.setU8(0x42, 0x08);
    });
    const m = opened(V, dev);
    expectStep(run(m, cfgw(0x44, 0x1234)), { kind: 'ok' }, 'config.vndr.write-raw');
    expect(m.k.hw.config.u16(0x44)).toBe(0x1234);
  });

  it('config.pm.write-default', () => {
    expectStep(run(opened(), cfgw(0xca, 0xffff)), { kind: 'ok' }, 'config.pm.write-default');
  });

  it('config.pm.d3hot-zaps', () => {
    const m = openMapped(V);
    expectStep(run(m, cfgw(0xcc, 0x0003)), { kind: 'ok', ret: 2n }, 'config.pm.d3hot-zaps', [
      { kind: 'zap', bars: [0] },
      { kind: 'power', from: 'D0', to: 'D3hot' },
    ]);
    expect(m.view.powerState).toBe('D3hot');
    expect(m.view.memoryEnabled).toBe(false);
    expect(bytes(run(m, cfgr(0xcc, 2)))).toBe('0300'); // state bits show the real power state
  });

  it('config.pm.d3hot-no-zap', () => {
    const m = openMapped('linux-5.8');
    expectStep(run(m, cfgw(0xcc, 0x0003)), { kind: 'ok' }, 'config.pm.d3hot-no-zap', [{ kind: 'power', from: 'D0', to: 'D3hot' }]);
    expect(m.view.memoryEnabled).toBe(true); // pre-5.19 predicate ignores the power state
  });

  it('config.pm.set-state', () => {
    expectStep(run(opened(), cfgw(0xcc, 0x0000)), { kind: 'ok' }, 'config.pm.set-state', []);
  });

  it('config.pm.state-refused', () => {
    const m = opened();
    expectStep(run(m, cfgw(0xcc, 0x0001)), { kind: 'ok', ret: 2n }, 'config.pm.state-refused', []);
    expect(m.view.powerState).toBe('D0');
  });

  it('config.pm.state-refused from D3hot to a shallower non-D0 state', () => {
    const m = opened(V, withConfig((c) => c.setU16(0xca, c.u16(0xca) | 0x200)));
    run(m, cfgw(0xcc, 0x0003));
    expectStep(run(m, cfgw(0xcc, 0x0001)), { kind: 'ok' }, 'config.pm.state-refused', []);
    expect(m.view.powerState).toBe('D3hot');
  });

  it('config.pm.d0-restore-nosoftrst', () => {
    const m = openMapped(V);
    run(m, cfgw(0xcc, 0x0003));
    expectStep(run(m, cfgw(0xcc, 0x0000)), { kind: 'ok' }, 'config.pm.d0-restore-nosoftrst', [{ kind: 'power', from: 'D3hot', to: 'D0' }]);
    expect(m.k.hw.config.u16(0x04) & 0x2).toBe(2); // vfio's pm_save put COMMAND back
    expect(m.view.memoryEnabled).toBe(true);
  });

  it('config.pm.d3hot-to-d0', () => {
    const m = opened(V, withConfig((c) => c.setU16(0xcc, 0x0008)));
    run(m, cfgw(0x04, 0x0006));
    run(m, cfgw(0xcc, 0x0003));
    expectStep(run(m, cfgw(0xcc, 0x0000)), { kind: 'ok' }, 'config.pm.d3hot-to-d0', [{ kind: 'power', from: 'D3hot', to: 'D0' }]);
  });

  it('config.exp.devctl-write', () => {
    expectStep(run(opened(), cfgw(0xe8, 0x2810)), { kind: 'ok' }, 'config.exp.devctl-write', []);
  });

  it('config.exp.write-default', () => {
    expectStep(run(opened(), cfgw(0xf0, 0x0040)), { kind: 'ok' }, 'config.exp.write-default');
  });

  it('config.exp.flr-not-supported', () => {
    const m = opened();
    expectStep(run(m, cfgw(0xe8, 0xa810)), { kind: 'ok', ret: 2n }, 'config.exp.flr-not-supported', []);
    expect(bytes(run(m, cfgr(0xe8, 2)))).toBe('1028'); // BCR_FLR always reads 0
  });

  it('config.exp.flr', () => {
    const m = openMapped(V, withExpFlr());
    expectStep(run(m, cfgw(0xe8, 0xa810)), { kind: 'ok', ret: 2n }, 'config.exp.flr', [
      { kind: 'zap', bars: [0] },
      { kind: 'reset', method: 'flr' },
    ]);
  });

  it('config.af.ctrl-write', () => {
    expectStep(run(opened(V, withAf()), cfgw(0x44, 0x00, 1)), { kind: 'ok' }, 'config.af.ctrl-write', []);
  });

  it('config.af.write-default', () => {
    expectStep(run(opened(V, withAf()), cfgw(0x42, 0xff, 1)), { kind: 'ok' }, 'config.af.write-default', []);
  });

  it('config.af.flr', () => {
    const m = openMapped(V, withAf());
    expectStep(run(m, cfgw(0x44, 0x01, 1)), { kind: 'ok', ret: 1n }, 'config.af.flr', [
      { kind: 'zap', bars: [0] },
      { kind: 'reset', method: 'af_flr' },
    ]);
  });

  it('config.af.flr-not-supported', () => {
    expectStep(run(opened(V, withAf(0x00)), cfgw(0x44, 0x01, 1)), { kind: 'ok' }, 'config.af.flr-not-supported', []);
  });
});

describe('vconfig details', () => {
  it('clears bus master at open (selftest) and reads back what was written', () => {
    const m = opened();
    expect(Number(m.view.peekConfig(0x04, 2)) & 0x4).toBe(0);
    run(m, cfgw(0x04, 0x0006));
    expect(Number(m.view.peekConfig(0x04, 2)) & 0x4).toBe(4);
  });

  it('hides PME support in vconfig from 5.19 on', () => {
    const pme = withConfig((c) => c.setU16(0xca, 0xc822));
    expect(Number(opened('linux-5.19', pme).view.peekConfig(0xca, 2)) & 0xf800).toBe(0);
    expect(Number(opened('linux-5.8', pme).view.peekConfig(0xca, 2)) & 0xf800).toBe(0xc800);
  });

  it('unlinks a capability vfio-pci cannot size', () => {
    const dev = withConfig((c) => {
      c.setU8(0xe1, 0xb0); // PCIe -> unknown cap 0x0a at 0xb0 -> MSI-X
      c.setU8(0xb0, 0x0a);
      c.setU8(0xb1, 0xa0);
    });
    const m = opened(V, dev);
    expect(Number(m.view.peekConfig(0xe1, 1))).toBe(0xa0);
  });
});
