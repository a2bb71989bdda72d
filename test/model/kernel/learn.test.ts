// Device traits and learning from observations (issue 21): hardware-owned state the trace shows
// otherwise is adopted once as a device note; kernel-owned state never is.
import { describe, expect, it } from 'vitest';
import { emptyTraits, type HostEvent, type Observed, type TraceEvent } from '../../../src/trace/types.js';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';
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
  it('device.rom.image-from-read: a ROM read that comes back with memory disabled ends the image before it', () => {
    const m = openMapped('linux-6.1');
    run(m, cfgw(PMCSR, 0x0003)); // D3hot: memory disabled
    const ev = { kind: 'region-read', region: 6, offset: 0x3fffcn, len: 4 } as const;
    const seen: Observed = { ret: 4n, data: Uint8Array.of(0xff, 0xff, 0xff, 0xff) };
    const s = run(m, ev);
    expect(s.rule).toBe('rdwr.rom.memory-disabled-eio'); // nothing said the image is short
    expect(m.observe({ ...meta(), ...ev, observed: seen } as TraceEvent, seen, s)).toBe(
      'ROM image ends at or before rom+0x3fffc (vfio reads 0xff past it with memory disabled), adopted',
    );
    const c = m.corrected();
    expect(c?.rule).toBe('rdwr.rom.past-image-ff');
    expect(compareObserved(c!.outcome, seen, ev)).toBeNull();
    // Adopted: the next read past it is predicted as the fill, one note only.
    expect(observe(m, { ...ev, offset: 0x3fffen, len: 2 }, { ret: 2n, data: Uint8Array.of(0xff, 0xff) })).toBeNull();
    // The image itself still fails -EIO; an errno observation teaches nothing.
    expect(observe(m, { ...ev, offset: 0n }, { errno: 'EIO' })).toBeNull();
    expect(m.corrected()).toBeNull();
    // Bytes other than the 0xff fill came from the device: no image size from them.
    expect(observe(m, { ...ev, offset: 0x100n }, { ret: 4n, data: Uint8Array.of(0x55, 0xaa, 0, 0) })).toBeNull();
    expect(m.k.hw.traits.romImage).toBe(0x3fffcn);
  });
  it('device.config.size-from-read: a read past 256 bytes shows the config space size', () => {
    // A 256-byte snapshot (lspci -x) of a PCIe function: the model bounds config at 256 bytes.
    const short = openMapped(V, { config: e1000eSnapshot().config.slice(0, 256) });
    const at = cfgr(0x100, 4);
    expect(run(short, at).rule).toBe('config.read.out-of-range-efault');
    const seen: Observed = { ret: 4n, data: Uint8Array.of(1, 0, 2, 0x14) };
    const s = run(short, at);
    expect(short.observe({ ...meta(), ...at, observed: seen } as TraceEvent, seen, s)).toBe('config space is 4096 bytes (a read at 0x100 comes back), adopted');
    // The bytes are not in the snapshot: the corrected prediction says so instead of -EFAULT.
    expect(short.corrected()?.rule).toBe('config.read.snapshot-short');
    expect((run(short, { kind: 'ioctl', op: 'get-region-info', index: 7, argsz: 32 }).outcome as { data: Uint8Array }).data[17]).toBe(0x10); // region size 0x1000
    expect(observe(short, cfgr(0x104, 4), { ret: 4n, data: new Uint8Array(4) })).toBeNull();
    // A padded 4096-byte snapshot of a conventional function: -EFAULT at 0x100 shows 256.
    const padded = openMapped(V, { traits: { ...emptyTraits(), configSize: 4096 } });
    expect(observe(padded, cfgr(0x100, 4), { errno: 'EFAULT' })).toBe('config space is 256 bytes (a read at 0x100 fails -EFAULT), adopted');
    expect(padded.corrected()?.rule).toBe('config.read.out-of-range-efault');
    expect(run(padded, cfgr(0x1fc, 4)).rule).toBe('config.read.out-of-range-efault');
  });
  it('device.reset.clears-nothing-from-read-back: a value written before a reset reads back after it', () => {
    const m = openMapped(V);
    const reg = { kind: 'region-read', region: 0, offset: 0x2800n, len: 4 } as const;
    const val = Uint8Array.of(0x50, 0x0a, 0x0a, 0x0a);
    expect(observe(m, { kind: 'region-write', region: 0, offset: 0x2800n, data: val }, { ret: 4n })).toBeNull();
    // Read back without a reset in between: a register, not a trait.
    expect(observe(m, reg, { ret: 4n, data: val })).toBeNull();
    expect(observe(m, { kind: 'ioctl', op: 'reset' }, { ret: 0n })).toBeNull();
    expect(observe(m, reg, { ret: 4n, data: val })).toBe('the reset clears nothing (bar0+0x2800 reads back 500a0a0a, written before the reset), adopted');
    expect(m.k.hw.traits.resetClears).toBe(false);
    expect(observe(m, reg, { ret: 4n, data: val })).toBeNull(); // once
    // A reset that cleared it teaches nothing; neither does a zero written before it.
    const c = openMapped(V);
    observe(c, { kind: 'region-write', region: 0, offset: 0x2800n, data: val }, { ret: 4n });
    observe(c, { kind: 'mem-write', bar: 0, offset: 0x2804n, len: 4, value: 0n }, {});
    observe(c, { kind: 'ioctl', op: 'reset' }, { ret: 0n });
    expect(observe(c, reg, { ret: 4n, data: new Uint8Array(4) })).toBeNull();
    expect(observe(c, { kind: 'mem-read', bar: 0, offset: 0x2804n, len: 4 }, { data: new Uint8Array(4) })).toBeNull();
    expect(c.k.hw.traits.resetClears).toBe(true);
  });
});
