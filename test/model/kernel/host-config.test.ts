// vfio-pci's module parameters and the kernel command line (trace header module-params /
// kernel-cmdline): how they are read, and one test per rule they decide, named after the rule.
import { describe, expect, it } from 'vitest';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';
import { VfioPciKernelModel } from '../../../src/model/kernel/index.js';
import { parseBoolParam, resolveHostConfig, type HostLists } from '../../../src/model/kernel/host-config.js';
import { cfgr, cfgw, err, expectStep, run } from './helpers.js';
import type { E1000eOverrides } from '../../../src/model/devices/e1000e.js';
import { findKernelVersion } from '../../../src/model/versions/kernel.js';

function model(version: string, host: HostLists, dev: E1000eOverrides = {}): VfioPciKernelModel {
  return new VfioPciKernelModel(e1000eSnapshot(dev), version, host);
}
const IDLE_OFF: HostLists = { moduleParams: ['vfio_pci.disable_idle_d3=Y'] };

describe('reading the header', () => {
  it('module-params win over the command line; unknown words are ignored', () => {
    const c = resolveHostConfig({ kernelCmdline: ['quiet', 'vfio_pci.disable_idle_d3=1', 'vfio-pci.nointxmask', 'pcie_port_pm=off'], moduleParams: ['vfio_pci.disable_idle_d3=N', 'vfio_iommu_type1.allow_unsafe_interrupts=Y', 'vfio_pci.ids=8086:10d3'] });
    expect(c.disableIdleD3).toBe(false);
    expect(c.from.disable_idle_d3).toBe('module-params');
    expect(c.nointxmask).toBe(true); // a bare bool word on the command line is "true"
    expect(c.from.nointxmask).toBe('kernel-cmdline');
    expect(c.portPmOff).toBe(true);
    expect(resolveHostConfig(undefined).disableIdleD3).toBe(false);
  });
  it('bool values as sysfs prints them and users write them', () => {
    expect(['Y', 'y', '1', 'on'].map(parseBoolParam)).toEqual([true, true, true, true]);
    expect(['N', 'n', '0', 'off'].map(parseBoolParam)).toEqual([false, false, false, false]);
    expect(parseBoolParam('maybe')).toBeUndefined();
  });
});

describe('rules', () => {
  it('core.close.disable-no-idle-d3', () => {
    for (const v of ['linux-5.14', 'linux-6.1', 'linux-7.2']) {
      const m = model(v, IDLE_OFF);
      run(m, { kind: 'open' });
      const s = run(m, { kind: 'close' });
      expectStep(s, { kind: 'ok' }, 'core.close.disable-no-idle-d3');
      expect(s.effects.some((e) => e.kind === 'power')).toBe(false);
      expect(m.view.powerState).toBe('D0');
      // Without the parameter the same close moves the device to D3hot.
      const d = model(v, {});
      run(d, { kind: 'open' });
      expectStep(run(d, { kind: 'close' }), { kind: 'ok' }, 'core.close.disable');
      expect(d.view.powerState).toBe('D3hot');
    }
  });
  it('core.open.enable-no-intx-masking', () => {
    // Close leaves DisINTx set in hardware (COMMAND = INTX_DISABLE, then the open-time state is
    // restored); put it there directly: the function comes with DisINTx set.
    const dev = { config: (() => { const c = e1000eSnapshot().config.slice(); c[5] = c[5]! | 0x04; return c; })() };
    const m = model('linux-6.1', { moduleParams: ['vfio_pci.nointxmask=Y'] }, dev);
    expectStep(run(m, { kind: 'open' }), { kind: 'ok' }, 'core.open.enable-no-intx-masking');
    expect(m.k.hw.config.u16(0x04) & 0x400).toBe(0x400);
    const d = model('linux-6.1', {}, dev);
    expectStep(run(d, { kind: 'open' }), { kind: 'ok' }, 'core.open.enable');
    expect(d.k.hw.config.u16(0x04) & 0x400).toBe(0);
  });
  it('core.region-info.vga-disabled-einval', () => {
    const m = model('linux-6.1', { moduleParams: ['vfio_pci.disable_vga=Y'] }, { vga: true });
    run(m, { kind: 'open' });
    expectStep(run(m, { kind: 'ioctl', op: 'get-region-info', index: 8, argsz: 32 }), err('EINVAL'), 'core.region-info.vga-disabled-einval');
    const d = model('linux-6.1', {}, { vga: true });
    run(d, { kind: 'open' });
    expectStep(run(d, { kind: 'ioctl', op: 'get-region-info', index: 8, argsz: 32 }), { kind: 'ok' }, 'core.region-info.vga');
  });
  it('rdwr.vga.disabled-einval', () => {
    const m = model('linux-6.1', { kernelCmdline: ['vfio_pci.disable_vga=1'] }, { vga: true });
    run(m, { kind: 'open' });
    expectStep(run(m, { kind: 'region-read', region: 8, offset: 0xa0000n, len: 1 }), err('EINVAL'), 'rdwr.vga.disabled-einval');
  });
  it('core.open.denylisted', () => {
    const qat = { deviceId: 0x37c8 };
    expectStep(run(model('linux-6.1', {}, qat), { kind: 'open' }), err('ENODEV'), 'core.open.denylisted');
    expectStep(run(model('linux-6.1', { moduleParams: ['vfio_pci.disable_denylist=Y'] }, qat), { kind: 'open' }), { kind: 'ok' }, 'core.open.enable');
    // 5.8 has no denylist [switch probeDenylist].
    expect(findKernelVersion('linux-5.8')!.switches.probeDenylist).toBe(false);
    expectStep(run(model('linux-5.8', {}, qat), { kind: 'open' }), { kind: 'ok' }, 'core.open.enable');
  });
  it('low power with disable_idle_d3 never runtime-suspends (the usage count stays up)', () => {
    const m = model('linux-6.1', IDLE_OFF);
    run(m, { kind: 'open' });
    run(m, cfgw(0x04, 0x0006));
    run(m, { kind: 'ioctl', op: 'low-power', request: 'entry', flags: 0x20003, wakeupFd: -1 });
    const s = run(m, cfgr(0x04, 2));
    expect(s.effects.some((e) => e.kind === 'power')).toBe(false);
    expect(m.view.powerState).toBe('D0');
  });
});
