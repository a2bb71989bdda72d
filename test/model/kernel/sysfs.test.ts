// One test per sysfs rule (src/model/kernel/sysfs.ts), named after the rule id, on the e1000e-like
// device (PM capability, NoSoftRst-, pm reset). Versions: 7.2 (runtime PM idle), 5.14 (vfio sets
// D3hot itself), and the header's device-sysfs / quirks d3cold where a rule needs them.
import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../src/trace/types.js';
import { e1000eSnapshot, type E1000eOverrides } from '../../../src/model/devices/e1000e.js';
import { VfioPciKernelModel } from '../../../src/model/kernel/index.js';
import type { HostLists } from '../../../src/model/kernel/host-config.js';
import { BAR0_ADDR, cfgr, cfgw, err, expectStep, ok, run } from './helpers.js';

const V = 'linux-7.2';
/** A device bound to vfio-pci and runtime-suspended when the trace starts (as the lab finds it). */
const IDLE: E1000eOverrides = { sysfs: { powerState: 'D3hot', runtimeStatus: 'suspended', control: 'auto', d3coldAllowed: '1', driverOverride: 'vfio-pci' } };
function model(version = V, dev: E1000eOverrides = IDLE, host?: HostLists): VfioPciKernelModel {
  return new VfioPciKernelModel(e1000eSnapshot(dev), version, host);
}
const rd = (path: string): HostEvent => ({ kind: 'sysfs', path });
const wr = (path: string, write: string): HostEvent => ({ kind: 'sysfs', path, write });
const text = (t: string) => ({ kind: 'ok', text: t }) as const;
const UNBIND = '/sys/bus/pci/drivers/vfio-pci/unbind';
const BIND = '/sys/bus/pci/drivers/vfio-pci/bind';
const BDF = '0000:00:03.0';

describe('reads', () => {
  it('sysfs.power-state.read', () => {
    const m = model();
    expectStep(run(m, rd('power_state')), text('D3hot'), 'sysfs.power-state.read', []);
    run(m, { kind: 'open' });
    expectStep(run(m, rd('power_state')), text('D0'), 'sysfs.power-state.read');
  });
  it('sysfs.runtime-status.read', () => {
    const m = model();
    expectStep(run(m, rd('power/runtime_status')), text('suspended'), 'sysfs.runtime-status.read');
    run(m, { kind: 'open' });
    expectStep(run(m, rd('power/runtime_status')), text('active'), 'sysfs.runtime-status.read');
    run(m, { kind: 'close' });
    expectStep(run(m, rd('power/runtime_status')), text('suspended'), 'sysfs.runtime-status.read');
    // Before 5.19 vfio-pci sets D3hot itself: runtime PM stays active.
    const old = model('linux-5.14', {});
    run(old, { kind: 'open' });
    run(old, { kind: 'close' });
    expectStep(run(old, rd('power_state')), text('D3hot'), 'sysfs.power-state.read');
    expectStep(run(old, rd('power/runtime_status')), text('active'), 'sysfs.runtime-status.read');
  });
  it('sysfs.power-control.read', () => {
    expectStep(run(model(), rd('power/control')), text('auto'), 'sysfs.power-control.read');
    expectStep(run(model('linux-5.14', {}), rd('power/control')), text('on'), 'sysfs.power-control.read');
  });
  it('sysfs.d3cold-allowed.read', () => expectStep(run(model(), rd('d3cold_allowed')), text('1'), 'sysfs.d3cold-allowed.read'));
  it('sysfs.driver-override.read', () => {
    expectStep(run(model(), rd('driver_override')), text('vfio-pci'), 'sysfs.driver-override.read');
    expectStep(run(model(V, {}), rd('driver_override')), text('(null)'), 'sysfs.driver-override.read');
  });
  it('sysfs.read-only-file', () => expectStep(run(model(), wr('power_state', 'D0')), err('EACCES'), 'sysfs.read-only-file'));
  it('sysfs.write-only-file', () => expectStep(run(model(), rd('reset')), err('EACCES'), 'sysfs.write-only-file'));
  it('sysfs.unmodeled-file', () => expectStep(run(model(), rd('sriov_totalvfs')), { kind: 'unsupported' }, 'sysfs.unmodeled-file'));
});

describe('power/control and d3cold_allowed', () => {
  it('sysfs.power-control.invalid-einval', () => expectStep(run(model(), wr('power/control', 'sometimes')), err('EINVAL'), 'sysfs.power-control.invalid-einval'));
  it('sysfs.power-control.on-resumes', () => {
    const m = model();
    expectStep(run(m, wr('power/control', 'on')), ok, 'sysfs.power-control.on-resumes', [{ kind: 'power', from: 'D3hot', to: 'D0' }]);
    expect(m.view.powerState).toBe('D0');
    // Closing now leaves it in D0: the usage count reaches 0 but runtime PM is forbidden.
    run(m, { kind: 'open' });
    expectStep(run(m, { kind: 'close' }), ok, 'core.close.disable');
    expect(m.view.powerState).toBe('D0');
  });
  it('sysfs.power-control.on', () => {
    const m = model();
    run(m, { kind: 'open' });
    expectStep(run(m, wr('power/control', 'on')), ok, 'sysfs.power-control.on', []);
  });
  it('sysfs.power-control.auto-suspends', () => {
    const m = model();
    run(m, wr('power/control', 'on'));
    expectStep(run(m, wr('power/control', 'auto')), ok, 'sysfs.power-control.auto-suspends', [{ kind: 'power', from: 'D0', to: 'D3hot' }]);
  });
  it('sysfs.power-control.auto', () => {
    const m = model();
    run(m, { kind: 'open' });
    expectStep(run(m, wr('power/control', 'auto')), ok, 'sysfs.power-control.auto', []);
    // disable_idle_d3: allowed, yet never suspended.
    const n = model(V, { sysfs: { ...IDLE.sysfs!, powerState: 'D0', runtimeStatus: 'active' } }, { moduleParams: ['vfio_pci.disable_idle_d3=Y'] });
    expectStep(run(n, wr('power/control', 'auto')), ok, 'sysfs.power-control.auto', []);
  });
  it('sysfs.power-control.no-runtime-pm', () => expectStep(run(model('linux-5.14', {}), wr('power/control', 'auto')), ok, 'sysfs.power-control.no-runtime-pm', []));
  it('sysfs.d3cold-allowed.invalid-einval', () => expectStep(run(model(), wr('d3cold_allowed', 'yes')), err('EINVAL'), 'sysfs.d3cold-allowed.invalid-einval'));
  it('sysfs.d3cold-allowed.write', () => {
    const m = model();
    expectStep(run(m, wr('d3cold_allowed', '0')), ok, 'sysfs.d3cold-allowed.write', [
      { kind: 'power', from: 'D3hot', to: 'D0' },
      { kind: 'power', from: 'D0', to: 'D3hot' },
    ]);
    expectStep(run(m, rd('d3cold_allowed')), text('0'), 'sysfs.d3cold-allowed.read');
    // With platform D3cold, d3cold_allowed picks the idle state (source-only).
    const c = model(V, { ...IDLE, quirks: { d3cold: 'wakes' } });
    run(c, wr('d3cold_allowed', '1'));
    expect(c.view.powerState).toBe('D3cold');
    run(c, wr('d3cold_allowed', '0'));
    expect(c.view.powerState).toBe('D3hot');
  });
});

describe('reset', () => {
  it('sysfs.reset.invalid-einval', () => expectStep(run(model(), wr('reset', '2')), err('EINVAL'), 'sysfs.reset.invalid-einval'));
  it('sysfs.reset.no-reset-method', () => expectStep(run(model(V, { ...IDLE, resetMethods: [] }), wr('reset', '1')), err('ENOENT'), 'sysfs.reset.no-reset-method'));
  it('sysfs.reset.behind-vfio', () => {
    const m = model();
    run(m, { kind: 'open' });
    run(m, cfgw(0x04, 0x0006));
    run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr: BAR0_ADDR });
    run(m, { kind: 'mem-read', bar: 0, offset: 0x8n, len: 4 });
    const before = run(m, cfgr(0x04, 2));
    expectStep(run(m, wr('reset', '1')), ok, 'sysfs.reset.behind-vfio', [{ kind: 'reset', method: 'pm' }]);
    // vfio-pci was not told: the PTE is still present, vconfig and memory_enabled unchanged.
    expectStep(run(m, { kind: 'mem-read', bar: 0, offset: 0x8n, len: 4 }), ok, 'mem.pte-present');
    expect(run(m, cfgr(0x04, 2)).outcome).toEqual(before.outcome);
    expect(m.view.memoryEnabled).toBe(true);
  });
  it('sysfs.reset.unopened', () =>
    expectStep(run(model(), wr('reset', '1')), ok, 'sysfs.reset.unopened', [
      { kind: 'power', from: 'D3hot', to: 'D0' },
      { kind: 'reset', method: 'pm' },
      { kind: 'power', from: 'D0', to: 'D3hot' },
    ]));
  it('sysfs.reset.device-lost-not-ready', () => {
    const m = model(V, { ...IDLE, sysfs: { ...IDLE.sysfs!, powerState: 'D3cold' }, quirks: { d3cold: 'no-wake' } });
    run(m, { kind: 'open' });
    expectStep(run(m, wr('reset', '1')), err('ENOTTY'), 'sysfs.reset.device-lost-not-ready');
  });
});

describe('bind, unbind, remove, rescan', () => {
  it('sysfs.unbind.waits-for-close', () => {
    const m = model();
    run(m, { kind: 'open' });
    expectStep(run(m, wr(UNBIND, BDF)), { kind: 'blocked' }, 'sysfs.unbind.waits-for-close');
    expectStep(run(model(), { kind: 'open' }), ok, 'core.open.enable');
  });
  it('sysfs.unbind.releases', () => {
    const m = model();
    expectStep(run(m, wr('driver/unbind', BDF)), ok, 'sysfs.unbind.releases', [{ kind: 'power', from: 'D3hot', to: 'D0' }]);
    expectStep(run(m, rd('power/control')), text('on'), 'sysfs.power-control.read');
    expectStep(run(m, rd('power/runtime_status')), text('active'), 'sysfs.runtime-status.read');
  });
  it('sysfs.unbind.not-bound', () => {
    const m = model();
    run(m, wr(UNBIND, BDF));
    expectStep(run(m, wr(UNBIND, BDF)), err('ENODEV'), 'sysfs.unbind.not-bound');
  });
  it('core.open.not-bound', () => {
    const m = model();
    run(m, wr(UNBIND, BDF));
    expectStep(run(m, { kind: 'open' }), err('ENODEV'), 'core.open.not-bound');
    // The importer writes a failed GET_DEVICE_FD as the raw group ioctl: the same reason.
    const raw: HostEvent = { kind: 'ioctl', op: 'raw', fdKind: 'group', request: 0x3b6a, name: 'VFIO_GROUP_GET_DEVICE_FD', arg: new Uint8Array(0) };
    expectStep(run(m, raw), err('ENODEV'), 'core.open.not-bound');
  });
  it('sysfs.bind.probes', () => {
    const m = model();
    run(m, wr(UNBIND, BDF));
    expectStep(run(m, wr(BIND, BDF)), ok, 'sysfs.bind.probes', [{ kind: 'power', from: 'D0', to: 'D3hot' }]);
    expectStep(run(m, rd('power/control')), text('auto'), 'sysfs.power-control.read');
  });
  it('core.open.group-fd-predates-rebind', () => {
    const m = model();
    run(m, wr(UNBIND, BDF));
    run(m, wr(BIND, BDF));
    expectStep(run(m, { kind: 'open' }), err('ENODEV'), 'core.open.group-fd-predates-rebind');
  });
  it('sysfs.bind.already-bound', () => expectStep(run(model(), wr(BIND, BDF)), err('EBUSY'), 'sysfs.bind.already-bound'));
  it('sysfs.bind.override-mismatch', () => {
    const m = model();
    run(m, wr(UNBIND, BDF));
    expectStep(run(m, wr('driver_override', 'e1000e')), ok, 'sysfs.driver-override.write');
    expectStep(run(m, wr(BIND, BDF)), err('ENODEV'), 'sysfs.bind.override-mismatch');
  });
  it('sysfs.driver-override.write', () => {
    const m = model();
    expectStep(run(m, wr('driver_override', '')), ok, 'sysfs.driver-override.write');
    expectStep(run(m, rd('driver_override')), text('(null)'), 'sysfs.driver-override.read');
  });
  it('sysfs.drivers-probe.already-bound', () => expectStep(run(model(), wr('/sys/bus/pci/drivers_probe', BDF)), ok, 'sysfs.drivers-probe.already-bound'));
  it('sysfs.drivers-probe.probes', () => {
    const m = model();
    run(m, wr(UNBIND, BDF));
    expectStep(run(m, wr('/sys/bus/pci/drivers_probe', BDF)), ok, 'sysfs.drivers-probe.probes');
  });
  it('sysfs.drivers-probe.no-match', () => {
    const m = model(V, {});
    run(m, wr(UNBIND, BDF));
    expectStep(run(m, wr('/sys/bus/pci/drivers_probe', BDF)), ok, 'sysfs.drivers-probe.no-match');
    expectStep(run(m, { kind: 'open' }), err('ENODEV'), 'core.open.not-bound');
  });
  it('sysfs.remove.waits-for-close', () => {
    const m = model();
    run(m, { kind: 'open' });
    expectStep(run(m, wr('remove', '1')), { kind: 'blocked' }, 'sysfs.remove.waits-for-close');
  });
  it('sysfs.remove.zero-ignored', () => expectStep(run(model(), wr('remove', '0')), ok, 'sysfs.remove.zero-ignored', []));
  it('sysfs.remove.removes', () => {
    const m = model();
    expectStep(run(m, wr('remove', '1')), ok, 'sysfs.remove.removes');
    expectStep(run(m, { kind: 'open' }), err('ENODEV'), 'core.open.not-bound');
  });
  it('sysfs.device-removed-enoent', () => {
    const m = model();
    run(m, wr('remove', '1'));
    expectStep(run(m, rd('power_state')), err('ENOENT'), 'sysfs.device-removed-enoent');
  });
  it('sysfs.drivers-probe.no-device', () => {
    const m = model();
    run(m, wr('remove', '1'));
    expectStep(run(m, wr('/sys/bus/pci/drivers_probe', BDF)), err('ENODEV'), 'sysfs.drivers-probe.no-device');
  });
  it('sysfs.bind.no-device', () => {
    const m = model();
    run(m, wr('remove', '1'));
    expectStep(run(m, wr(BIND, BDF)), err('ENODEV'), 'sysfs.bind.no-device');
  });
  it('sysfs.rescan.readds-unbound', () => {
    const m = model();
    run(m, wr('remove', '1'));
    expectStep(run(m, wr('/sys/bus/pci/rescan', '1')), ok, 'sysfs.rescan.readds-unbound');
    expectStep(run(m, rd('driver_override')), text('(null)'), 'sysfs.driver-override.read');
    expectStep(run(m, rd('power_state')), text('D0'), 'sysfs.power-state.read');
    expectStep(run(m, { kind: 'open' }), err('ENODEV'), 'core.open.not-bound');
  });
  it('sysfs.rescan.nothing-new', () => expectStep(run(model(), wr('/sys/bus/pci/rescan', '1')), ok, 'sysfs.rescan.nothing-new'));
});
