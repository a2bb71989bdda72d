// QEMU rules (src/model/vmm/qemu.ts), each by rule id, on the real kernel model.
import { describe, expect, it } from 'vitest';
import { BAR0_GPA, PMCSR, bootBar0, cfgR, cfgW, effects, forwards, memOnlyE1000e, mmioR, rig } from './rig.js';
import type { DeviceSnapshot } from '../../../src/trace/types.js';

/** e1000e with D1 and D2 advertised in PMC (the stock one has neither). */
function withD1D2(): DeviceSnapshot {
  const d = memOnlyE1000e();
  const config = Uint8Array.from(d.config);
  const pmc = config[0xca] | (config[0xcb] << 8) | 0x600;
  config[0xca] = pmc & 0xff;
  config[0xcb] = pmc >> 8;
  return { ...d, config };
}

describe('vmm.qemu.forward-first', () => {
  it('every guest config write reaches the kernel first, as written, BAR writes included', () => {
    const r = rig('qemu-7.2');
    const s = r.guest(cfgW(0x10, 4, BAR0_GPA));
    expect(s.rule).toBe('vmm.qemu.forward-first');
    expect(forwards(s).pop()).toBe('fwd(cfg-write 0x10 len=4 val=0xfe000000 => ok ret=4)');
    const b = r.guest(cfgW(0x3c, 1, 0x0b));
    expect(forwards(b)).toEqual(['fwd(cfg-write 0x3c len=1 val=0xb => ok ret=1)']);
  });
});

describe('vmm.qemu.mse-map / vmm.qemu.mse-unmap', () => {
  it('MEM on maps placed BARs after forwarding; MEM off forwards (kernel zaps) then unmaps', () => {
    const r = rig('qemu-7.2');
    r.guest(cfgW(0x10, 4, BAR0_GPA));
    const on = r.guest(cfgW(0x04, 2, 0x0006));
    expect(on.rule).toBe('vmm.qemu.mse-map');
    expect(effects(on).indexOf('guest-map(bar0)')).toBeGreaterThan(effects(on).findIndex((e) => e.startsWith('fwd(cfg-write 0x4')));
    r.guest(mmioR(BAR0_GPA));
    const off = r.guest(cfgW(0x04, 2, 0x0004));
    expect(off.rule).toBe('vmm.qemu.mse-unmap');
    const kinds = off.effects.map((e) => e.kind);
    expect(kinds.indexOf('zap')).toBeLessThan(kinds.indexOf('guest-unmap'));
  });

  it('a byte write to the COMMAND high byte does not touch MEM', () => {
    const r = rig('qemu-10.0');
    bootBar0(r);
    const s = r.guest(cfgW(0x05, 1, 0x04));
    expect(s.rule).toBe('vmm.qemu.forward-first');
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.direct-map');
  });
});

describe('vmm.qemu.no-pm-emulation', () => {
  it('7.2: the PMCSR write is forwarded, the kernel zaps, QEMU keeps the BARs mapped', () => {
    const r = rig('qemu-7.2');
    bootBar0(r);
    r.guest(mmioR(BAR0_GPA)); // the driver used BAR0: its PTEs are present
    const s = r.guest(cfgW(PMCSR, 2, 3));
    expect(s.rule).toBe('vmm.qemu.no-pm-emulation');
    expect(s.effects.map((e) => e.kind)).toContain('zap');
    expect(s.effects.map((e) => e.kind)).not.toContain('guest-unmap');
  });
});

describe('vmm.qemu.pm-unmap-bars / vmm.qemu.pm-remap-bars', () => {
  it('10.0: D3hot unmaps after forwarding; D0 forwards (kernel powers up) then remaps', () => {
    const r = rig('qemu-10.0');
    bootBar0(r);
    const d3 = r.guest(cfgW(PMCSR, 2, 3));
    expect(d3.rule).toBe('vmm.qemu.pm-unmap-bars');
    const k3 = d3.effects.map((e) => e.kind);
    expect(k3.indexOf('forward')).toBeLessThan(k3.indexOf('guest-unmap'));
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.unassigned');
    const d0 = r.guest(cfgW(PMCSR, 2, 0));
    expect(d0.rule).toBe('vmm.qemu.pm-remap-bars');
    const k0 = d0.effects.map((e) => e.kind);
    expect(k0.indexOf('power')).toBeLessThan(k0.indexOf('guest-map'));
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.direct-map');
  });
});

describe('vmm.qemu.pm-bad-transition', () => {
  it('D1 is rejected when PMC does not advertise it: BARs stay mapped', () => {
    const r = rig('qemu-10.0');
    bootBar0(r);
    const s = r.guest(cfgW(PMCSR, 2, 1));
    expect(s.rule).toBe('vmm.qemu.pm-bad-transition');
    expect(effects(s)).toContain('vmm(pm D0->D1 rejected)');
    // Still forwarded (QEMU writes the device first); the kernel refuses D1 too, so access works.
    expect(forwards(s)[0]).toMatch(/^fwd\(cfg-write 0xcc len=2 val=0x1/);
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.direct-map');
  });

  it('from a non-D0 state only deeper states or D0 are accepted', () => {
    const r = rig('qemu-10.0', { device: withD1D2() });
    bootBar0(r);
    expect(r.guest(cfgW(PMCSR, 2, 2)).rule).toBe('vmm.qemu.pm-unmap-bars');
    expect(r.guest(cfgW(PMCSR, 2, 1)).rule).toBe('vmm.qemu.pm-bad-transition');
    expect(r.guest(cfgW(PMCSR, 2, 3)).rule).toBe('vmm.qemu.pm-transition');
    expect(r.guest(cfgW(PMCSR, 2, 0)).rule).toBe('vmm.qemu.pm-remap-bars');
  });
});

describe('vmm.qemu.pm-transition', () => {
  it('D1 -> D2 (both advertised) changes the state without a remap', () => {
    const r = rig('qemu-10.0', { device: withD1D2() });
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 1));
    const s = r.guest(cfgW(PMCSR, 2, 2));
    expect(s.rule).toBe('vmm.qemu.pm-transition');
    expect(s.effects.some((e) => e.kind === 'guest-map' || e.kind === 'guest-unmap')).toBe(false);
  });
});

describe('vmm.qemu.pre-reset-d0', () => {
  it('10.0 writes PMCSR D0 before VFIO_DEVICE_RESET when the device is not in D0', () => {
    const r = rig('qemu-10.0');
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 3));
    const s = r.host({ kind: 'ioctl', op: 'reset' });
    const e = effects(s);
    expect(e).toContain('vmm(pre-reset: PMCSR D0 [vmm.qemu.pre-reset-d0])');
    expect(e.findIndex((x) => x.startsWith('fwd(cfg-write 0xcc len=2 val=0x0'))).toBeGreaterThanOrEqual(0);
    expect(r.kernel.view.powerState).toBe('D0');
  });

  it('7.2 does not', () => {
    const r = rig('qemu-7.2');
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 3));
    const s = r.host({ kind: 'ioctl', op: 'reset' });
    expect(effects(s).some((x) => x.startsWith('fwd(cfg-write'))).toBe(false);
  });

  it('after the reset QEMU has COMMAND cleared and BARs unplaced', () => {
    const r = rig('qemu-10.0');
    bootBar0(r);
    r.host({ kind: 'ioctl', op: 'reset' });
    expect(r.guest(cfgR(0x10, 4)).outcome).toEqual({ kind: 'ok', value: 0n });
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.unassigned');
  });
});

describe('vmm.qemu.cfg-read / vmm.qemu.cfg-read-failed', () => {
  it('reads go to the kernel; a failed read is -1 to the guest', () => {
    const r = rig('qemu-10.0');
    bootBar0(r);
    const ok = r.guest(cfgR(0x00, 4));
    expect(ok.rule).toBe('vmm.qemu.cfg-read');
    expect(ok.outcome).toEqual({ kind: 'ok', value: 0x10d38086n });
    r.host({ kind: 'close' }); // deferred by the BAR mmaps: the fd is unusable
    const bad = r.guest(cfgR(0x00, 2));
    expect(bad.rule).toBe('vmm.qemu.cfg-read-failed');
    expect(bad.outcome).toEqual({ kind: 'all-ones', len: 2 });
  });
});

describe('BAR mmap failure in QEMU falls back to trapping', () => {
  it('a BAR whose mmap fails is reached by pread (barmap-at-enable@v2, BAR0 busy)', () => {
    const device = memOnlyE1000e();
    device.quirks = { ...device.quirks, resourceBusyBars: [0] };
    const r = rig('qemu-10.0', { device, kernel: 'barmap-at-enable@v2' });
    bootBar0(r);
    const s = r.guest(mmioR(BAR0_GPA));
    expect(forwards(s)[0]).toMatch(/^fwd\(region-read bar0/);
  });
});

describe('vmm.userspace-mapping / vmm.userspace-mapping-sigbus (QEMU MSI-X table page)', () => {
  const BAR3_GPA = 0xfe100000n;
  function boot(v: string, accel: 'kvm' | 'tcg' = 'kvm') {
    const r = rig(v, { accel });
    r.guest(cfgW(0x1c, 4, BAR3_GPA));
    r.guest(cfgW(0x04, 2, 0x0006));
    return r;
  }

  it('the rest of the table page is QEMU\'s own load on its mmap (no memslot can cover it)', () => {
    const r = boot('qemu-10.0');
    const s = r.guest(mmioR(BAR3_GPA + 0x100n));
    expect(s.rule).toBe('vmm.userspace-mapping');
    expect(forwards(s)[0]).toMatch(/^fwd\(mem-read bar3\+0x100 len=4 => ok/);
  });

  it('after the kernel zapped it, that load kills QEMU with SIGBUS even under KVM', () => {
    const r = boot('qemu-7.2', 'kvm');
    r.guest(mmioR(BAR3_GPA + 0x1000n)); // populate
    r.guest(cfgW(PMCSR, 2, 3));
    const s = r.guest(mmioR(BAR3_GPA + 0x100n));
    expect(s.rule).toBe('vmm.userspace-mapping-sigbus');
    expect(s.outcome).toEqual({ kind: 'vmm-exit', how: 'killed-sigbus', status: 135 });
    expect(r.vmm.alive).toBe(false);
  });

  it('the PBA is read from the device like the rest of the BAR (its emulation is disabled)', () => {
    const r = boot('qemu-10.0');
    const s = r.guest(mmioR(BAR3_GPA + 0x2000n));
    expect(s.rule).toBe('vmm.direct-map');
  });

  it('OpenVMM emulates the PBA', () => {
    const r = boot('openvmm-3609');
    const s = r.guest(mmioR(BAR3_GPA + 0x2000n));
    expect(s.rule).toBe('vmm.msix.emulated');
    expect(forwards(s)).toEqual([]);
  });
});

// lab/vmm/FINDINGS.md, scenario d3hot-mem-on-read: real QEMU 7.2 re-adds the BARs when MEM is set
// while in D3hot, and the type1 P2P map of each (zapped) BAR mmap fails -EFAULT, reported and ignored.
describe('QEMU p2p DMA map of direct-mapped BARs (p2pDmaMapBars)', () => {
  const BAR3_GPA = 0xfe100000n;
  it('MEM on maps each placed BAR for DMA at its guest address; BAR3 without its MSI-X table page', () => {
    const r = rig('qemu-10.0');
    r.guest(cfgW(0x10, 4, BAR0_GPA));
    r.guest(cfgW(0x1c, 4, BAR3_GPA));
    const on = r.guest(cfgW(0x04, 2, 0x0006));
    const f = forwards(on).filter((x) => x.startsWith('fwd(map-dma'));
    expect(f).toEqual([
      'fwd(map-dma iova=0xfe000000 size=0x20000 => ok ret=0)',
      'fwd(map-dma iova=0xfe101000 size=0x3000 => ok ret=0)',
    ]);
    const off = r.guest(cfgW(0x04, 2, 0x0004));
    expect(forwards(off).filter((x) => x.startsWith('fwd(unmap-dma'))).toHaveLength(2);
  });

  it('7.2: MEM on while in D3hot maps the BARs again; MAP_DMA of the zapped mmap fails -EFAULT and is ignored', () => {
    const r = rig('qemu-7.2');
    r.guest(cfgW(0x10, 4, BAR0_GPA));
    r.guest(cfgW(0x04, 2, 0x0006));
    r.guest(cfgW(0x04, 2, 0x0004));
    r.guest(cfgW(PMCSR, 2, 3));
    const on = r.guest(cfgW(0x04, 2, 0x0006));
    expect(on.outcome).toEqual({ kind: 'ok' });
    expect(effects(on)).toContain('guest-map(bar0)');
    expect(forwards(on)).toContain('fwd(map-dma iova=0xfe000000 size=0x20000 => -EFAULT)');
    expect(effects(on)).toContain('vmm(bar0 p2p dma map failed: reported, ignored)');
    expect(r.guest(mmioR(BAR0_GPA + 8n)).rule).toBe('vmm.direct-map-stale');
  });

  it('10.0: MEM on while in D3hot maps nothing (mappings need MEM and D0)', () => {
    const r = rig('qemu-10.0');
    r.guest(cfgW(0x10, 4, BAR0_GPA));
    r.guest(cfgW(0x04, 2, 0x0004));
    r.guest(cfgW(PMCSR, 2, 3));
    const on = r.guest(cfgW(0x04, 2, 0x0006));
    expect(effects(on)).not.toContain('guest-map(bar0)');
    expect(forwards(on).some((x) => x.startsWith('fwd(map-dma'))).toBe(false);
    expect(r.guest(mmioR(BAR0_GPA + 8n)).outcome).toEqual({ kind: 'unassigned', value: 0n });
  });

  it('OpenVMM and cloud-hypervisor do not (modeled versions)', () => {
    for (const v of ['openvmm-3609', 'cloud-hypervisor']) {
      const r = rig(v);
      r.guest(cfgW(0x10, 4, BAR0_GPA));
      expect(forwards(r.guest(cfgW(0x04, 2, 0x0006))).some((x) => x.startsWith('fwd(map-dma'))).toBe(false);
    }
  });
});
