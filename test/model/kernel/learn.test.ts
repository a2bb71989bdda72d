// Device traits and learning from observations (issue 21): hardware-owned state the trace shows
// otherwise is adopted once as a device note; kernel-owned state never is.
import { describe, expect, it } from 'vitest';
import type { HostEvent, Observed, TraceEvent } from '../../../src/trace/types.js';
import { compareObserved } from '../../../src/replay/compare.js';
import type { VfioPciKernelModel } from '../../../src/model/kernel/index.js';
import { BAR0_ADDR, cfgr, cfgw, expectStep, meta, openMapped, run } from './helpers.js';

const PMCSR = 0xcc; // the e1000e-like test device's PM capability is at 0xc8
const V = 'linux-6.12';
const REFUSAL = 'vfio-pci 0000:00:03.0: Refused to change power state from D0 to D3hot';

/** Runs `ev`, then lets the model see what was observed: the device note or null. */
function observe(m: VfioPciKernelModel, ev: HostEvent, observed: Observed): string | null {
  const s = run(m, ev);
  return m.observe({ ...meta(), ...ev, observed } as TraceEvent, observed, s);
}

describe('device traits from the header', () => {
  it('config.pm.state-refused: a function that refuses D3hot stays in D0; the kernel still zapped, BAR access keeps working', () => {
    const m = openMapped(V, { traits: { dStates: [], pmRefuses: ['D3hot'], resetClears: '', noSoftReset: '', configSize: 0, flr: '', busReset: '', source: 'lab-probe' } });
    expectStep(run(m, cfgw(PMCSR, 0x0003)), { kind: 'ok', ret: 2n }, 'config.pm.state-refused', [
      { kind: 'zap', bars: [0] },
      { kind: 'power-refused', from: 'D0', to: 'D3hot' },
    ]);
    expect(m.view.powerState).toBe('D0');
    expect(m.view.memoryEnabled).toBe(true); // current_state read back: D0
    expectStep(run(m, { kind: 'mem-read', bar: 0, offset: 0x8n, len: 4 }), { kind: 'ok' }, 'fault.populate');
    expectStep(run(m, { kind: 'region-read', region: 0, offset: 0x8n, len: 4 }), { kind: 'ok', ret: 4n }, 'rdwr.bar.ok');
    expect(Buffer.from((run(m, cfgr(PMCSR, 2)).outcome as { data: Uint8Array }).data).toString('hex')).toBe('0000');
  });
});

describe('learning from observations', () => {
  it('device.pm.refusal-from-kernel-log: adopted once, later accesses predicted from D0', () => {
    const m = openMapped(V);
    const note = observe(m, cfgw(PMCSR, 0x0003), { ret: 2n, kernelLog: REFUSAL });
    expect(note).toBe('device refuses D3hot, stays in D0 (kernel log)');
    expect(m.view.powerState).toBe('D0');
    expect(observe(m, cfgr(PMCSR, 2), { ret: 2n, data: Uint8Array.of(0, 0) })).toBeNull();
    expectStep(run(m, { kind: 'mem-read', bar: 0, offset: 0x8n, len: 4 }), { kind: 'ok' }, 'fault.populate');
    // Learned as a trait: the next D3hot write is predicted refused, no second note.
    expect(observe(m, cfgw(PMCSR, 0x0003), { ret: 2n, kernelLog: REFUSAL })).toBeNull();
    expect(m.view.powerState).toBe('D0');
  });

  it('device.pm.refusal-from-pmcsr: the PMCSR read-back shows D0 after a D3hot write', () => {
    const m = openMapped(V);
    run(m, cfgw(PMCSR, 0x0003));
    expect(m.view.powerState).toBe('D3hot');
    expect(observe(m, cfgr(PMCSR, 2), { ret: 2n, data: Uint8Array.of(0, 0) })).toBe('device refuses D3hot, stays in D0 (PMCSR reads D0)');
    expect(m.view.memoryEnabled).toBe(true);
    expectStep(run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x1000n, prot: 3, addr: BAR0_ADDR + 0x100000n }), { kind: 'ok' }, 'mmap.ok-lazy');
  });

  it('device.pm.refusal-from-power-sample: a shallower power= sample is a refusal; a deeper one stays a divergence', () => {
    const m = openMapped(V);
    expect(observe(m, cfgw(PMCSR, 0x0003), { ret: 2n, powerState: 'D0' })).toBe('device refuses D3hot, stays in D0 (power=D0 sampled)');
    const n = openMapped(V);
    const ev = cfgw(0x3c, 0x05, 1);
    expect(observe(n, ev, { ret: 1n, powerState: 'D3hot' })).toBeNull();
    expect(compareObserved({ kind: 'ok', ret: 1n }, { ret: 1n, powerState: 'D3hot' }, ev, n.view.powerState)).toBe('power=D3hot (model D0)');
  });

  it('device.config.pass-through-adopted: function-owned config bits are adopted; virtualized ones are never', () => {
    const m = openMapped(V);
    // COMMAND low byte: MEM/IO/MASTER pass through. A function without bus mastering reads 0x02.
    expect(observe(m, cfgr(0x04, 1), { ret: 1n, data: Uint8Array.of(0x02) })).toBe('config 0x4 reads 02 where the model had 06, adopted');
    expect(observe(m, cfgr(0x04, 1), { ret: 1n, data: Uint8Array.of(0x02) })).toBeNull();
    // Vendor ID is vfio's (vconfig): a different observed byte is not the device's to change.
    expect(observe(m, cfgr(0x00, 2), { ret: 2n, data: Uint8Array.of(0x87, 0x80) })).toBeNull();
    const s = run(m, cfgr(0x00, 2));
    expect(compareObserved(s.outcome, { ret: 2n, data: Uint8Array.of(0x87, 0x80) }, cfgr(0x00, 2))).toBe('data[0]=87 (model 86)');
  });
});
