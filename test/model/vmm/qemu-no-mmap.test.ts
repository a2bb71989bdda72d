// QEMU with `-device vfio-pci,...,x-no-mmap=on` (header.vmm.options): no BAR is mmapped, every
// guest BAR access is a pread/pwrite on the device fd. The nested lab (lab/vmm/FINDINGS.md) saw
// QEMU 7.2 survive D3hot that way: the read gave all-ones, the write was dropped. The kernel model
// is the real one (linux-6.1, the lab's kernel), so the -EIO comes from the modeled vfio-pci.
import { describe, expect, it } from 'vitest';
import { qemuNoMmap } from '../../../src/model/vmm/qemu.js';
import { BAR0_GPA, PMCSR, bootBar0, cfgW, forwards, mmioR, mmioW, rig, show } from './rig.js';

const NO_MMAP = ['rombar=0', 'x-no-mmap=on'];

describe('vmm.qemu.no-mmap-trapped', () => {
  for (const accel of ['tcg', 'kvm'] as const) {
    it(`qemu-7.2 ${accel}: D0 accesses are region-read/region-write, no mmap, no map-dma`, () => {
      const r = rig('qemu-7.2', { accel, kernel: 'linux-6.1', options: NO_MMAP });
      const first = r.guest(cfgW(0x10, 4, BAR0_GPA));
      const on = r.guest(cfgW(0x04, 2, 0x0006));
      const all = [...forwards(first), ...forwards(on)].join(' ');
      expect(all).not.toMatch(/mmap|map-dma/);
      expect(first.effects.map((e) => e.kind)).toContain('vmm-state');
      expect(on.effects.map((e) => e.kind)).not.toContain('guest-map');
      const rd = r.guest(mmioR(BAR0_GPA + 8n));
      expect(rd.rule, show(rd)).toBe('vmm.qemu.no-mmap-trapped');
      expect(rd.outcome.kind).toBe('ok');
      expect(forwards(rd).join(' ')).toMatch(/^fwd\(region-read bar0\+0x8 len=4/);
      const wr = r.guest(mmioW(BAR0_GPA + 0x2800n, 0x11111110n));
      expect(wr.rule, show(wr)).toBe('vmm.qemu.no-mmap-trapped');
      expect(forwards(wr).join(' ')).toMatch(/^fwd\(region-write bar0\+0x2800 len=4/);
    });
  }

  it('qemu-7.2 tcg in D3hot: the read is all-ones and the write dropped, QEMU alive (mmapped: SIGBUS)', () => {
    const r = rig('qemu-7.2', { accel: 'tcg', kernel: 'linux-6.1', options: NO_MMAP });
    bootBar0(r);
    r.guest(cfgW(PMCSR, 2, 0x0003));
    const rd = r.guest(mmioR(BAR0_GPA + 8n));
    expect(rd.outcome, show(rd)).toEqual({ kind: 'all-ones', len: 4 });
    expect(rd.rule).toBe('vmm.trapped.error-all-ones');
    expect(forwards(rd).join(' ')).toMatch(/region-read bar0\+0x8 len=4 => -EIO/);
    const wr = r.guest(mmioW(BAR0_GPA + 0x2800n, 0x22222220n));
    expect(wr.outcome, show(wr)).toEqual({ kind: 'dropped' });
    expect(wr.rule).toBe('vmm.trapped.error-dropped');
    expect(r.vmm.alive).toBe(true);

    // The same guest without the option: the BAR is mmapped, the stale mapping kills QEMU.
    const m = rig('qemu-7.2', { accel: 'tcg', kernel: 'linux-6.1' });
    bootBar0(m);
    m.guest(cfgW(PMCSR, 2, 0x0003));
    const dead = m.guest(mmioR(BAR0_GPA + 8n));
    expect(dead.rule, show(dead)).toBe('vmm.direct-map-stale');
    expect(m.vmm.alive).toBe(false);
  });

  it('x-no-mmap=off, or options another VMM would take, leave the BARs mapped', () => {
    for (const options of [['x-no-mmap=off'], ['x-no-mmap=on', 'x-no-mmap=off'], ['rombar=0'], []]) {
      const r = rig('qemu-7.2', { accel: 'tcg', kernel: 'linux-6.1', options });
      bootBar0(r);
      expect(r.guest(mmioR(BAR0_GPA + 8n)).rule, options.join(',')).toBe('vmm.direct-map');
    }
  });

  it('reads QEMU bool spellings: on/yes/true/y, a bare x-no-mmap; the last one wins', () => {
    for (const v of ['on', 'yes', 'true', 'y', 'ON']) expect(qemuNoMmap([`x-no-mmap=${v}`]), v).toBe(true);
    expect(qemuNoMmap(['x-no-mmap'])).toBe(true);
    for (const v of ['off', 'no', 'false', 'n']) expect(qemuNoMmap([`x-no-mmap=${v}`]), v).toBe(false);
    expect(qemuNoMmap(['x-no-mmap=off', 'x-no-mmap=on'])).toBe(true);
    expect(qemuNoMmap(['x-no-mmapx=on', 'no-mmap=on'])).toBe(false);
  });
});
