// OpenVMM rules (src/model/vmm/openvmm.ts), each by rule id, on the real kernel model.
import { describe, expect, it } from 'vitest';
import { BAR0_GPA, PMCSR, bootBar0, cfgR, cfgW, effects, forwards, memOnlyE1000e, mmioR, rig } from './rig.js';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';

describe('vmm.openvmm.forward', () => {
  it('before #3751 a narrow write becomes read + merge + a whole-dword write', () => {
    const r = rig('openvmm-3609');
    const s = r.guest(cfgW(0x3c, 1, 0x0a));
    expect(s.rule).toBe('vmm.openvmm.forward');
    const f = forwards(s).filter((x) => !x.startsWith('fwd(open') && !x.startsWith('fwd(mmap'));
    expect(f).toHaveLength(2);
    expect(f[0]).toMatch(/^fwd\(cfg-read 0x3c len=4/);
    expect(f[1]).toMatch(/^fwd\(cfg-write 0x3c len=4 val=0x[0-9a-f]*0a /);
  });

  it('#3751 forwards only the enabled bytes', () => {
    const r = rig('openvmm-3751');
    const f = forwards(r.guest(cfgW(0x3d, 1, 0x01))).filter((x) => x.startsWith('fwd(cfg'));
    expect(f).toEqual(['fwd(cfg-write 0x3d len=1 val=0x1 => ok ret=1)']);
  });
});

describe('vmm.openvmm.bar-cached', () => {
  it('BAR writes stay in the VMM copy: nothing reaches the kernel', () => {
    const r = rig('openvmm-3336');
    r.guest(cfgR(0, 4)); // start-up
    const s = r.guest(cfgW(0x10, 4, BAR0_GPA));
    expect(s.rule).toBe('vmm.openvmm.bar-cached');
    expect(forwards(s)).toEqual([]);
    expect(r.kernel.view.peekConfig(0x10, 4)).not.toBe(BAR0_GPA);
  });
});

describe('vmm.openvmm.mse-map / vmm.openvmm.mse-unmap', () => {
  it('map and unmap happen before the COMMAND write is forwarded', () => {
    const r = rig('openvmm-3336');
    r.guest(cfgW(0x10, 4, BAR0_GPA));
    const on = r.guest(cfgW(0x04, 2, 0x0006));
    expect(on.rule).toBe('vmm.openvmm.mse-map');
    const e = effects(on);
    expect(e.indexOf('guest-map(bar0)')).toBeLessThan(e.findIndex((x) => x.startsWith('fwd(cfg-write 0x4')));
    const off = r.guest(cfgW(0x04, 2, 0x0004));
    expect(off.rule).toBe('vmm.openvmm.mse-unmap');
    const k = off.effects.map((x) => x.kind);
    expect(k.indexOf('guest-unmap')).toBeLessThan(k.lastIndexOf('forward'));
  });

  it('#3751: a byte write to COMMAND\'s high byte does not change MSE', () => {
    const r = rig('openvmm-3751');
    bootBar0(r);
    expect(r.guest(cfgW(0x05, 1, 0x04)).rule).toBe('vmm.openvmm.forward');
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.direct-map');
  });

  it('#3248 traps instead of mapping', () => {
    const r = rig('openvmm-3248');
    r.guest(cfgW(0x10, 4, BAR0_GPA));
    const on = r.guest(cfgW(0x04, 2, 0x0006));
    expect(effects(on)).toContain('vmm(bar0 trapped at 0xfe000000)');
    expect(effects(on)).not.toContain('guest-map(bar0)');
  });
});

describe('vmm.openvmm.pm-unmap-bars', () => {
  it('#3609 leaving D0: unmap first, then forward', () => {
    const r = rig('openvmm-3609');
    bootBar0(r);
    const s = r.guest(cfgW(PMCSR, 2, 3));
    expect(s.rule).toBe('vmm.openvmm.pm-unmap-bars');
    const e = effects(s);
    expect(e.indexOf('guest-unmap(bar0)')).toBeLessThan(e.findIndex((x) => x.startsWith('fwd(cfg-write 0xcc')));
  });

  it('D1 unmaps too (stricter than vfio-pci, which only zaps for D3hot)', () => {
    const r = rig('openvmm-3609');
    bootBar0(r);
    const s = r.guest(cfgW(PMCSR, 2, 1));
    expect(s.rule).toBe('vmm.openvmm.pm-unmap-bars');
    expect(effects(s)).toContain('guest-unmap(bar0)');
    expect(s.effects.some((x) => x.kind === 'zap')).toBe(false);
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.unassigned');
  });

  it('#3336 does not track PMCSR: the write is just forwarded', () => {
    const r = rig('openvmm-3336');
    bootBar0(r);
    const s = r.guest(cfgW(PMCSR, 2, 3));
    expect(s.rule).toBe('vmm.openvmm.forward');
    expect(effects(s)).not.toContain('guest-unmap(bar0)');
  });
});

describe('vmm.openvmm.pm-remap-after-write', () => {
  it('entering D0: forward first, remap after the write succeeded', () => {
    const r = rig('openvmm-3609');
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 3));
    const s = r.guest(cfgW(PMCSR, 2, 0));
    expect(s.rule).toBe('vmm.openvmm.pm-remap-after-write');
    const k = s.effects.map((x) => x.kind);
    expect(k.lastIndexOf('forward')).toBeLessThan(k.indexOf('guest-map'));
    expect(k.indexOf('power')).toBeLessThan(k.indexOf('guest-map'));
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.direct-map');
  });
});

describe('vmm.openvmm.pm-d0-write-failed', () => {
  it('a failed D0 write leaves the BARs unmapped (no fatal fault later)', () => {
    const r = rig('openvmm-3609');
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 3));
    r.host({ kind: 'close' }); // deferred by the BAR mmaps: every fd op now fails EBADF
    const s = r.guest(cfgW(PMCSR, 4, 0));
    expect(s.rule).toBe('vmm.openvmm.pm-d0-write-failed');
    expect(s.outcome).toEqual({ kind: 'ok' });
    expect(effects(s)).not.toContain('guest-map(bar0)');
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.unassigned');
    expect(r.vmm.alive).toBe(true);
  });
});

describe('vmm.openvmm.pmcsr-partial-dropped', () => {
  it('#3751: a byte write to PMCSR bits 8-15 (PME_En) is dropped, not forwarded', () => {
    const r = rig('openvmm-3751');
    bootBar0(r);
    const s = r.guest(cfgW(PMCSR + 1, 1, 0x01));
    expect(s.rule).toBe('vmm.openvmm.pmcsr-partial-dropped');
    expect(s.outcome).toEqual({ kind: 'dropped' });
    expect(forwards(s)).toEqual([]);
  });

  it('#3609: the same write is merged into a dword with the current PowerState and forwarded', () => {
    const r = rig('openvmm-3609');
    bootBar0(r);
    const s = r.guest(cfgW(PMCSR + 1, 1, 0x01));
    expect(s.outcome).toEqual({ kind: 'ok' });
    expect(forwards(s)[1]).toMatch(/^fwd\(cfg-write 0xcc len=4 val=0x100 /);
    expect(effects(s)).not.toContain('guest-unmap(bar0)');
  });
});

describe('vmm.openvmm.msix-emulated', () => {
  it('the MSI-X enable goes to VFIO_DEVICE_SET_IRQS, never to config space', () => {
    for (const v of ['openvmm-3609', 'openvmm-3751']) {
      const r = rig(v);
      const s = r.guest(cfgW(0xa2, 2, 0x8004));
      expect(s.rule, v).toBe('vmm.openvmm.msix-emulated');
      const f = forwards(s).filter((x) => !x.startsWith('fwd(open') && !x.startsWith('fwd(mmap'));
      expect(f.some((x) => x.startsWith('fwd(cfg-write'))).toBe(false);
      expect(f.some((x) => x.startsWith('fwd(ioctl set-irqs index=2 count=5'))).toBe(true);
      const off = r.guest(cfgW(0xa2, 2, 0x0004));
      expect(forwards(off).some((x) => x.startsWith('fwd(ioctl set-irqs index=2 count=0'))).toBe(true);
    }
  });
});

describe('vmm.openvmm.cfg-read', () => {
  it('before #3751 reads are whole dwords; #3751 reads only the bytes asked for', () => {
    const a = rig('openvmm-3609');
    a.guest(cfgR(0, 4));
    const ra = a.guest(cfgR(0x02, 2));
    expect(ra.rule).toBe('vmm.openvmm.cfg-read');
    expect(ra.outcome).toEqual({ kind: 'ok', value: 0x10d3n });
    expect(forwards(ra)[0]).toMatch(/^fwd\(cfg-read 0x0 len=4/);
    const b = rig('openvmm-3751');
    b.guest(cfgR(0, 4));
    const rb = b.guest(cfgR(0x02, 2));
    expect(rb.outcome).toEqual({ kind: 'ok', value: 0x10d3n });
    expect(forwards(rb)[0]).toMatch(/^fwd\(cfg-read 0x2 len=2/);
  });

  it('the multi-function bit is patched out of the header type', () => {
    const device = memOnlyE1000e();
    const config = Uint8Array.from(device.config);
    config[0x0e] = 0x80;
    const r = rig('openvmm-3609', { device: { ...device, config } });
    const s = r.guest(cfgR(0x0e, 1));
    expect(s.outcome).toEqual({ kind: 'ok', value: 0n });
  });
});

describe('vmm.openvmm.pio-bar-unsupported / vmm.openvmm.bar-layout-invalid', () => {
  it('a device with an I/O BAR (stock e1000e) cannot be assigned: the VMM exits', () => {
    for (const v of ['openvmm-3248', 'openvmm-3609']) {
      const r = rig(v, { device: e1000eSnapshot() });
      const s = r.guest(cfgW(0x04, 2, 0x0006));
      expect(s.rule).toBe('vmm.openvmm.pio-bar-unsupported');
      expect(s.outcome).toEqual({ kind: 'vmm-exit', how: 'exit', status: 1 });
      expect(r.vmm.alive).toBe(false);
    }
  });

  it('QEMU assigns the same device', () => {
    expect(rig('qemu-10.0', { device: e1000eSnapshot() }).guest(cfgW(0x04, 2, 0x0006)).rule).toBe('vmm.qemu.mse-map');
  });

  it('a 64-bit BAR at index 5 is refused', () => {
    const device = memOnlyE1000e();
    device.bars = [...device.bars, { index: 5, size: 0x1000n, kind: 'mem', is64: true, prefetchable: true }];
    expect(rig('openvmm-3336', { device }).guest(cfgR(0, 4)).rule).toBe('vmm.openvmm.bar-layout-invalid');
  });
});

describe('vmm.bar-mmap-failed', () => {
  it('a BAR mmap failure at start-up is fatal for direct-mapping versions (barmap-at-enable@v2, BAR0 busy)', () => {
    const device = memOnlyE1000e();
    device.quirks = { ...device.quirks, resourceBusyBars: [0] };
    const r = rig('openvmm-3609', { device, kernel: 'barmap-at-enable@v2' });
    const s = r.guest(cfgR(0, 4));
    expect(s.rule).toBe('vmm.bar-mmap-failed');
    expect(s.outcome).toEqual({ kind: 'vmm-exit', how: 'exit', status: 1 });
  });

  it('#3248 never mmaps, so it starts', () => {
    const device = memOnlyE1000e();
    device.quirks = { ...device.quirks, resourceBusyBars: [0] };
    expect(rig('openvmm-3248', { device, kernel: 'barmap-at-enable@v2' }).guest(cfgR(0, 4)).rule).toBe('vmm.openvmm.cfg-read');
  });
});

describe('OpenVMM reset (host VFIO_DEVICE_RESET it issued)', () => {
  it('MMIO off and BARs unmapped before the reset; back in D0 after', () => {
    const r = rig('openvmm-3609');
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 3));
    const s = r.host({ kind: 'ioctl', op: 'reset' });
    expect(effects(s)).toContain('vmm(pm D3hot->D0 (reset))');
    expect(r.guest(cfgR(0x10, 4)).outcome).toEqual({ kind: 'ok', value: 0n });
  });
});

describe('vmm.openvmm.cfg-read-failed', () => {
  it('#3751: a failed byte-enabled read is all ones to the guest', () => {
    const r = rig('openvmm-3751');
    bootBar0(r);
    r.host({ kind: 'close' }); // deferred by the BAR mmaps: fd ops fail EBADF
    expect(r.guest(cfgR(0x02, 2))).toMatchObject({ rule: 'vmm.openvmm.cfg-read-failed', outcome: { kind: 'all-ones', len: 2 } });
  });

  it('before #3751 the failed dword read fills !0 (read_phys_config)', () => {
    const r = rig('openvmm-3609');
    bootBar0(r);
    r.host({ kind: 'close' });
    expect(r.guest(cfgR(0x02, 2)).outcome).toEqual({ kind: 'ok', value: 0xffffn });
  });
});
