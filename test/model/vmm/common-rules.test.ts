// Rules of the shared VMM base (src/model/vmm/base.ts), each tested by its rule id, on the real
// kernel model (linux-6.19 unless a test needs a series version).
import { describe, expect, it } from 'vitest';
import { BAR0_GPA, PMCSR, bootBar0, cfgR, cfgW, effects, forwards, memOnlyE1000e, mmioR, mmioW, rig } from './rig.js';
import { syntheticMmapAddr } from '../../../src/model/vmm/base.js';

const BAR3_GPA = 0xfe100000n; // e1000e BAR3 holds the MSI-X table (+0) and PBA (+0x2000)

describe('vmm.direct-map', () => {
  it('a guest read of a live direct-mapped BAR is a CPU load on the vfio mmap', () => {
    const r = rig('qemu-10.0');
    bootBar0(r);
    const s = r.guest(mmioR(BAR0_GPA + 0x8n));
    expect(s.rule).toBe('vmm.direct-map');
    expect(s.outcome.kind).toBe('ok');
    expect(forwards(s)[0]).toMatch(/^fwd\(mem-read bar0\+0x8 len=4 => ok/);
  });

  it('writes too', () => {
    const r = rig('openvmm-3609');
    bootBar0(r);
    const s = r.guest(mmioW(BAR0_GPA + 0x10n, 0x1n));
    expect(s.rule).toBe('vmm.direct-map');
    expect(forwards(s)[0]).toMatch(/^fwd\(mem-write bar0\+0x10 len=4 val=0x1 => ok/);
  });
});

describe('vmm.direct-map-stale', () => {
  it('KVM: the zapped mapping behind a memslot makes KVM_RUN fail with -EFAULT', () => {
    const r = rig('openvmm-3336', { accel: 'kvm' });
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 3));
    const s = r.guest(mmioW(BAR0_GPA, 0x1n));
    expect(s.rule).toBe('vmm.direct-map-stale');
    expect(s.outcome).toEqual({ kind: 'vmm-exit', how: 'kvm-run-efault', status: 0 });
    expect(r.vmm.alive).toBe(false);
  });

  it('TCG: the vCPU thread takes the SIGBUS and the process is killed (135)', () => {
    const r = rig('qemu-7.2', { accel: 'tcg' });
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 3));
    const s = r.guest(mmioR(BAR0_GPA));
    expect(s.outcome).toEqual({ kind: 'vmm-exit', how: 'killed-sigbus', status: 135 });
  });
});

describe('vmm.dead', () => {
  it('once dead, every guest and host event is the same exit, with no host op issued', () => {
    const r = rig('cloud-hypervisor');
    bootBar0(r);
    r.guest(cfgW(0x04, 2, 0x0004));
    const death = r.guest(mmioR(BAR0_GPA));
    for (const s of [r.guest(cfgR(0x00, 4)), r.guest(mmioR(BAR0_GPA)), r.host({ kind: 'cfg-read', offset: 0, len: 4 })]) {
      expect(s.rule).toBe('vmm.dead');
      expect(s.outcome).toEqual(death.outcome);
      expect(s.effects).toEqual([]);
    }
  });
});

describe('vmm.trapped / vmm.trapped.error-all-ones / vmm.trapped.error-dropped', () => {
  it('vmm.trapped: OpenVMM #3248 proxies a read with pread on the BAR region', () => {
    const r = rig('openvmm-3248');
    bootBar0(r);
    const s = r.guest(mmioR(BAR0_GPA + 4n));
    expect(s.rule).toBe('vmm.trapped');
    expect(s.outcome.kind).toBe('ok');
    expect(forwards(s)[0]).toMatch(/^fwd\(region-read bar0\+0x4 len=4 => ok/);
  });

  it('vmm.trapped.error-all-ones: pread -EIO in D3hot reads as all ones', () => {
    const r = rig('openvmm-3248');
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 3));
    const s = r.guest(mmioR(BAR0_GPA + 4n, 2));
    expect(s.rule).toBe('vmm.trapped.error-all-ones');
    expect(s.outcome).toEqual({ kind: 'all-ones', len: 2 });
  });

  it('vmm.trapped.error-dropped: pwrite -EIO drops the guest write', () => {
    const r = rig('openvmm-3248');
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 3));
    const s = r.guest(mmioW(BAR0_GPA + 4n, 0xabn));
    expect(s.rule).toBe('vmm.trapped.error-dropped');
    expect(s.outcome).toEqual({ kind: 'dropped' });
    expect(forwards(s)[0]).toMatch(/region-write bar0\+0x4 len=4 val=0xab => -EIO/);
  });
});

describe('vmm.unassigned', () => {
  it('QEMU: a read nobody claims returns 0 (unassigned_mem_read)', () => {
    const r = rig('qemu-7.2');
    const s = r.guest(mmioR(BAR0_GPA, 4)); // BAR0 never programmed
    expect(s.rule).toBe('vmm.unassigned');
    expect(s.outcome).toEqual({ kind: 'unassigned', value: 0n });
  });

  it('OpenVMM: the chipset missing device fills all ones', () => {
    const r = rig('openvmm-3609');
    const s = r.guest(mmioR(BAR0_GPA, 2));
    expect(s.outcome).toEqual({ kind: 'unassigned', value: 0xffffn });
    expect(forwards(s).filter((f) => !f.startsWith('fwd(open') && !f.startsWith('fwd(mmap'))).toEqual([]);
  });

  it('a BAR placed but MEM off is not claimed', () => {
    const r = rig('qemu-10.0');
    r.guest(cfgW(0x10, 4, BAR0_GPA));
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.unassigned');
  });
});

describe('vmm.bar-placement', () => {
  it('moving a live BAR unmaps the old place and maps the new one', () => {
    const r = rig('qemu-10.0');
    bootBar0(r);
    const s = r.guest(cfgW(0x10, 4, 0xfd000000n));
    expect(s.rule).toBe('vmm.bar-placement');
    expect(effects(s)).toEqual(expect.arrayContaining(['guest-unmap(bar0)', 'guest-map(bar0)']));
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.unassigned');
    expect(r.guest(mmioR(0xfd000000n)).rule).toBe('vmm.direct-map');
  });

  it('a sizing write (all ones) takes the BAR out of the guest address space', () => {
    const r = rig('openvmm-3609');
    bootBar0(r);
    const s = r.guest(cfgW(0x10, 4, 0xffffffffn));
    expect(effects(s)).toContain('guest-unmap(bar0)');
    expect(r.guest(cfgR(0x10, 4)).outcome).toEqual({ kind: 'ok', value: 0xfffe0000n });
  });
});

describe('vmm.cfg.bar-emulated / vmm.cfg.width', () => {
  it('BAR registers read back the VMM copy, without a host read', () => {
    const r = rig('qemu-7.2');
    r.guest(cfgW(0x10, 4, 0xffffffffn));
    const s = r.guest(cfgR(0x12, 2));
    expect(s.rule).toBe('vmm.cfg.bar-emulated');
    expect(s.outcome).toEqual({ kind: 'ok', value: 0xfffen });
    expect(forwards(s)).toEqual([]);
  });

  it('an access crossing a dword is not a config cycle', () => {
    const r = rig('openvmm-3751');
    const s = r.guest(cfgW(0x06, 4, 0n));
    expect(s.rule).toBe('vmm.cfg.width');
    expect(s.outcome.kind).toBe('unsupported');
  });
});

describe('vmm.msix.emulated', () => {
  it('the MSI-X table is emulated: vector control reads masked, no device access', () => {
    for (const v of ['qemu-10.0', 'openvmm-3609', 'cloud-hypervisor']) {
      const r = rig(v);
      r.guest(cfgW(0x1c, 4, BAR3_GPA));
      r.guest(cfgW(0x04, 2, 0x0006));
      const ctl = r.guest(mmioR(BAR3_GPA + 0xcn));
      expect(ctl.rule, v).toBe('vmm.msix.emulated');
      expect(ctl.outcome).toEqual({ kind: 'ok', value: 1n });
      expect(forwards(ctl)).toEqual([]);
      r.guest(mmioW(BAR3_GPA + 0x0n, 0xfee00000n));
      expect(r.guest(mmioR(BAR3_GPA)).outcome).toEqual({ kind: 'ok', value: 0xfee00000n });
    }
  });

  it('the rest of the table page is trapped (pread), even when the BAR is direct-mapped', () => {
    const r = rig('openvmm-3609');
    r.guest(cfgW(0x1c, 4, BAR3_GPA));
    r.guest(cfgW(0x04, 2, 0x0006));
    const s = r.guest(mmioR(BAR3_GPA + 0x100n));
    expect(s.rule).toBe('vmm.trapped');
    expect(forwards(s)[0]).toMatch(/^fwd\(region-read bar3\+0x100/);
    expect(r.guest(mmioR(BAR3_GPA + 0x1000n)).rule).toBe('vmm.direct-map');
  });
});

describe('vmm.memslot', () => {
  it('a KVM memslot the VMM created over its BAR mmap maps the BAR into the guest; size 0 removes it', () => {
    const r = rig('qemu-7.2');
    r.host({ kind: 'open' });
    const addr = 0x7f12_0000_0000n;
    expect(r.host({ kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr }).outcome.kind).toBe('ok');
    r.guest(cfgW(0x04, 2, 0x0006));
    const add = r.host({ kind: 'memslot', slot: 3, flags: 0, gpa: BAR0_GPA, size: 0x20000n, uaddr: addr });
    expect(add.rule).toBe('vmm.memslot');
    expect(effects(add)).toEqual(['guest-map(bar0)']);
    const read = r.guest(mmioR(BAR0_GPA + 4n));
    expect(read.rule).toBe('vmm.direct-map');
    // The model did not mmap BAR0 again: the VMM's own mapping was used.
    expect(forwards(read).some((f) => f.startsWith('fwd(mmap bar0'))).toBe(false);
    const del = r.host({ kind: 'memslot', slot: 3, flags: 0, gpa: BAR0_GPA, size: 0n, uaddr: 0n });
    expect(effects(del)).toEqual(['guest-unmap(bar0)']);
    expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.unassigned');
  });
});

describe('vmm.realize-failed', () => {
  it('the VMM exits when opening the device fails (barmap-at-enable@v1 with BAR0 busy)', () => {
    const device = memOnlyE1000e();
    device.quirks = { ...device.quirks, resourceBusyBars: [0] };
    const r = rig('qemu-10.0', { device, kernel: 'barmap-at-enable@v1' });
    const s = r.guest(cfgW(0x04, 2, 0x0006));
    expect(s.rule).toBe('vmm.realize-failed');
    expect(s.outcome).toEqual({ kind: 'vmm-exit', how: 'exit', status: 1 });
    expect(r.vmm.alive).toBe(false);
  });
});

describe('start-up', () => {
  it('direct-mapping VMMs open the device and mmap every memory BAR once, before the first guest access', () => {
    const r = rig('openvmm-3336');
    const first = forwards(r.guest(cfgR(0x00, 4)));
    expect(first.slice(0, 4).map((f) => f.replace(/ =>.*/, ''))).toEqual([
      'fwd(open',
      'fwd(mmap bar0 len=0x20000',
      'fwd(mmap bar1 len=0x20000',
      'fwd(mmap bar3 len=0x4000',
    ]);
    expect(forwards(r.guest(cfgR(0x00, 4))).some((f) => f.startsWith('fwd(mmap'))).toBe(false);
    expect(syntheticMmapAddr(1)).not.toBe(syntheticMmapAddr(0));
  });

  it('a trapping VMM opens the device but maps nothing', () => {
    const r = rig('openvmm-3248');
    expect(forwards(r.guest(cfgR(0x00, 4))).some((f) => f.startsWith('fwd(mmap'))).toBe(false);
  });
});

describe('vmm.kvm-run.needs-guest-events / vmm.kvm-run.stale-memslot', () => {
  it('a host-side KVM_RUN cannot be predicted without the guest access, but a stale memslot is named', () => {
    const r = rig('openvmm-3336');
    bootBar0(r);
    const a = r.host({ kind: 'kvm-run', vcpu: 0 });
    expect(a.rule).toBe('vmm.kvm-run.needs-guest-events');
    expect(a.outcome.kind).toBe('unsupported');
    r.guest(cfgW(PMCSR, 2, 3));
    const b = r.host({ kind: 'kvm-run', vcpu: 0 });
    expect(b.rule).toBe('vmm.kvm-run.stale-memslot');
    expect(b.outcome).toMatchObject({ kind: 'unsupported', reason: expect.stringContaining('bar0 would fail -EFAULT') });
  });

  it('after #3609 unmapped the BAR, nothing is stale', () => {
    const r = rig('openvmm-3609');
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 3));
    expect(r.host({ kind: 'kvm-run', vcpu: 0 }).rule).toBe('vmm.kvm-run.needs-guest-events');
  });
});
