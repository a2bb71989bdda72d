// The unused device's idle power state (src/model/kernel/runtime-pm.ts) and a function lost in
// D3cold (lost.ts): one test per rule, named after it. D3cold is source-only (docs).
import { describe, expect, it } from 'vitest';
import { e1000eSnapshot, type E1000eOverrides } from '../../../src/model/devices/e1000e.js';
import { VfioPciKernelModel } from '../../../src/model/kernel/index.js';
import type { HostLists } from '../../../src/model/kernel/host-config.js';
import { findKernelVersion } from '../../../src/model/versions/kernel.js';
import { cfgr, cfgw, err, expectStep, ok, run } from './helpers.js';

const V = 'linux-7.2';
const SUSPENDED = { powerState: 'D3hot', runtimeStatus: 'suspended', control: 'auto', d3coldAllowed: '1', driverOverride: 'vfio-pci' };
function model(dev: E1000eOverrides, host?: HostLists, version = V): VfioPciKernelModel {
  return new VfioPciKernelModel(e1000eSnapshot(dev), version, host);
}
const COLD: E1000eOverrides = { sysfs: { ...SUSPENDED, powerState: 'D3cold' }, quirks: { d3cold: 'wakes' } };
const LOST: E1000eOverrides = { sysfs: { ...SUSPENDED, powerState: 'D3cold' }, quirks: { d3cold: 'no-wake' } };

describe('idle D3 (switch idleD3)', () => {
  it('runtime-pm from 5.19, vfio sets D3hot itself before', () => {
    expect(findKernelVersion('linux-5.14')!.switches.idleD3).toBe('set-power-state');
    expect(findKernelVersion('linux-5.19')!.switches.idleD3).toBe('runtime-pm');
  });
  it('core.open.enable resumes the idle device; core.close.disable suspends it again', () => {
    const m = model({ sysfs: SUSPENDED });
    expectStep(run(m, { kind: 'open' }), ok, 'core.open.enable', [{ kind: 'power', from: 'D3hot', to: 'D0' }, { kind: 'reset', method: 'pm' }]);
    const s = run(m, { kind: 'close' });
    expectStep(s, ok, 'core.close.disable');
    expect(s.effects).toContainEqual({ kind: 'power', from: 'D0', to: 'D3hot' });
  });
  it('an idle device goes to D3cold on a platform that can cut its power, unless d3cold_allowed=0 or pcie_port_pm=off', () => {
    const m = model({ quirks: { d3cold: 'wakes' } });
    run(m, { kind: 'open' });
    expect(run(m, { kind: 'close' }).effects).toContainEqual({ kind: 'power', from: 'D3hot', to: 'D3cold' });
    expect(m.view.powerState).toBe('D3cold');
    const p = model({ quirks: { d3cold: 'wakes' } }, { kernelCmdline: ['pcie_port_pm=off'] });
    run(p, { kind: 'open' });
    run(p, { kind: 'close' });
    expect(p.view.powerState).toBe('D3hot');
    // Before 5.19 vfio-pci puts it in D3hot itself: never D3cold.
    const o = model({ quirks: { d3cold: 'wakes' } }, undefined, 'linux-5.14');
    run(o, { kind: 'open' });
    run(o, { kind: 'close' });
    expect(o.view.powerState).toBe('D3hot');
  });
  it('open from D3cold: power comes back, the function was reset by the power cycle', () => {
    const m = model(COLD);
    expectStep(run(m, { kind: 'open' }), ok, 'core.open.enable', [
      { kind: 'power', from: 'D3cold', to: 'D0' },
      { kind: 'reset', method: 'd3cold' },
      { kind: 'reset', method: 'pm' },
    ]);
  });
});

describe('a function lost in D3cold (quirks d3cold=no-wake)', () => {
  it('core.open.device-lost', () => {
    const m = model(LOST);
    expectStep(run(m, { kind: 'open' }), { kind: 'ok', ret: 0n }, 'core.open.device-lost', [{ kind: 'lost-state', what: 'device (D3cold power-up failed: config reads all ones)' }]);
    // No reset works: GET_INFO has no RESET flag, VFIO_DEVICE_RESET is -EINVAL.
    expectStep(run(m, { kind: 'ioctl', op: 'reset' }), err('EINVAL'), 'core.reset.not-supported-einval');
  });
  it('config.read.device-lost-all-ones', () => {
    const m = model(LOST);
    run(m, { kind: 'open' });
    expectStep(run(m, cfgr(0x00, 4)), { kind: 'ok', ret: 4n, data: new Uint8Array([0xff, 0xff, 0xff, 0xff]) }, 'config.read.device-lost-all-ones');
  });
  it('BAR pread of the lost function: -EIO, current_state is still D3cold (memory_enabled false)', () => {
    const m = model(LOST);
    run(m, { kind: 'open' });
    expect(run(m, { kind: 'region-read', region: 0, offset: 8n, len: 2 }).outcome).toEqual(err('EIO'));
  });
  it('config.write.device-lost-dropped', () => {
    const m = model(LOST);
    run(m, { kind: 'open' });
    expectStep(run(m, cfgw(0x04, 0x0006)), { kind: 'ok', ret: 2n }, 'config.write.device-lost-dropped');
  });
  it('power_state keeps reading D3cold (current_state was left there)', () => {
    const m = model(LOST);
    run(m, { kind: 'open' });
    expectStep(run(m, { kind: 'sysfs', path: 'power_state' }), { kind: 'ok', text: 'D3cold' }, 'sysfs.power-state.read');
  });
});
