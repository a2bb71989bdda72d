// cloud-hypervisor rules (src/model/vmm/cloud-hypervisor.ts), each by rule id, on the real kernel model.
import { describe, expect, it } from 'vitest';
import { BAR0_GPA, PMCSR, cfgR, cfgW, effects, forwards, mmioR, rig } from './rig.js';

describe('vmm.ch.move-bar / vmm.ch.bar-cached', () => {
  it('a BAR with an address is a memslot at once, whatever MEM says; moving it moves the memslot', () => {
    const r = rig('cloud-hypervisor');
    const s = r.guest(cfgW(0x10, 4, BAR0_GPA));
    expect(s.rule).toBe('vmm.ch.move-bar');
    expect(effects(s)).toContain('guest-map(bar0)');
    expect(forwards(s).some((f) => f.startsWith('fwd(cfg-write'))).toBe(false);
    const m = r.guest(cfgW(0x10, 4, 0xfd000000n));
    expect(effects(m)).toEqual(['guest-unmap(bar0)', 'guest-map(bar0)']);
  });

  it('a sizing write is cached, not forwarded', () => {
    const r = rig('cloud-hypervisor');
    r.guest(cfgR(0, 4));
    const s = r.guest(cfgW(0x14, 4, 0xffffffffn));
    expect(s.rule).toBe('vmm.ch.bar-cached');
    expect(forwards(s)).toEqual([]);
    expect(r.guest(cfgR(0x14, 4)).outcome).toEqual({ kind: 'ok', value: 0xfffe0000n });
  });
});

describe('vmm.ch.mse-forward-only', () => {
  it('COMMAND goes to the device unchanged and the memslot stays: access after MEM=0 is fatal', () => {
    const r = rig('cloud-hypervisor');
    r.guest(cfgW(0x10, 4, BAR0_GPA));
    r.guest(cfgW(0x04, 2, 0x0006));
    const s = r.guest(cfgW(0x04, 2, 0x0004));
    expect(s.rule).toBe('vmm.ch.mse-forward-only');
    expect(forwards(s)).toEqual(['fwd(cfg-write 0x4 len=2 val=0x4 => ok ret=2)']);
    expect(effects(s)).not.toContain('guest-unmap(bar0)');
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.direct-map-stale');
  });
});

describe('vmm.ch.pm-forward-only', () => {
  it('PMCSR goes to the device unchanged; BARs are never unmapped', () => {
    const r = rig('cloud-hypervisor');
    r.guest(cfgW(0x10, 4, BAR0_GPA));
    r.guest(cfgW(0x04, 2, 0x0006));
    const s = r.guest(cfgW(PMCSR, 2, 3));
    expect(s.rule).toBe('vmm.ch.pm-forward-only');
    expect(r.kernel.view.powerState).toBe('D3hot');
    expect(effects(s)).not.toContain('guest-unmap(bar0)');
  });
});

describe('vmm.ch.forward / vmm.ch.cfg-read', () => {
  it('other writes and all reads go to the device as they are', () => {
    const r = rig('cloud-hypervisor');
    const w = r.guest(cfgW(0x3c, 1, 0x0a));
    expect(w.rule).toBe('vmm.ch.forward');
    expect(forwards(w).pop()).toBe('fwd(cfg-write 0x3c len=1 val=0xa => ok ret=1)');
    const rd = r.guest(cfgR(0x3c, 1));
    expect(rd.rule).toBe('vmm.ch.cfg-read');
    expect(rd.outcome).toEqual({ kind: 'ok', value: 0x0an });
  });

  it('MSI-X enable: VFIO interrupts first, then the write reaches the device', () => {
    const r = rig('cloud-hypervisor');
    r.guest(cfgR(0, 4));
    const f = forwards(r.guest(cfgW(0xa2, 2, 0x8004)));
    expect(f[0]).toMatch(/^fwd\(ioctl set-irqs index=2 count=5/);
    expect(f[1]).toMatch(/^fwd\(cfg-write 0xa2 len=2 val=0x8004/);
  });
});

describe('vmm.ch.cfg-read-failed', () => {
  it('a failed config read reads as all ones', () => {
    const r = rig('cloud-hypervisor');
    r.guest(cfgW(0x10, 4, BAR0_GPA));
    r.host({ kind: 'close' });
    expect(r.guest(cfgR(0x00, 4))).toMatchObject({ rule: 'vmm.ch.cfg-read-failed', outcome: { kind: 'all-ones', len: 4 } });
  });
});

describe('vmm.bar-mmap-failed (cloud-hypervisor)', () => {
  it('a failed BAR mmap fails the device, so the VMM exits (barmap-at-enable@v2, BAR0 busy)', async () => {
    const { memOnlyE1000e } = await import('./rig.js');
    const device = memOnlyE1000e();
    device.quirks = { ...device.quirks, resourceBusyBars: [0] };
    const r = rig('cloud-hypervisor', { device, kernel: 'barmap-at-enable@v2' });
    const s = r.guest(cfgR(0, 4));
    expect(s.rule).toBe('vmm.bar-mmap-failed');
    expect(s.outcome).toEqual({ kind: 'vmm-exit', how: 'exit', status: 1 });
  });
});

describe('cloud-hypervisor MSI-X pages', () => {
  it('the PBA is read from the device with pread (only the table is emulated)', () => {
    const r = rig('cloud-hypervisor');
    r.guest(cfgW(0x1c, 4, 0xfe100000n));
    r.guest(cfgW(0x04, 2, 0x0006));
    const s = r.guest(mmioR(0xfe102000n));
    expect(s.rule).toBe('vmm.trapped');
    expect(forwards(s)[0]).toMatch(/^fwd\(region-read bar3\+0x2000/);
    expect(r.guest(mmioR(0xfe100000n + 0xcn)).rule).toBe('vmm.msix.emulated');
  });
});
