// QEMU's x-msix-relocation on a device whose MSI-X table sits in its register BAR (QEMU's nvme as
// the lab's 6.1 run saw it: BAR0 16K 64-bit, table 65 vectors at 0x2000, PBA at 0x3000). Without
// the option QEMU lays its table emulation over BAR0 and serves the rest of the table's page from
// its own mmap; with x-msix-relocation=bar2 the table and PBA go to a new 4K BAR2 and all of BAR0
// is the device's. The kernel model is the real one (linux-6.1, the nested lab's outer kernel).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseText } from '../../../src/trace/text-parse.js';
import { relocateMsix, relocationTarget } from '../../../src/model/vmm/qemu-msix-relocation.js';
import { cfgR, cfgW, forwards, mmioR, mmioW, rig, show } from './rig.js';

const file = join(import.meta.dirname, '../../../traces/lab/6.1/nvme/msix-layout.txt');
const nvme = parseText(readFileSync(file, 'utf8'), file).header.device;
const BAR0 = 0xc0000000n;
const BAR2 = 0xc0010000n;
const RELO = ['rombar=0', 'x-msix-relocation=bar2'];

function booted(options: string[] = []) {
  const r = rig('qemu-7.2', { accel: 'tcg', kernel: 'linux-6.1', device: nvme, options });
  r.guest(cfgW(0x10, 4, BAR0));
  r.guest(cfgW(0x18, 4, BAR2));
  r.guest(cfgW(0x04, 2, 0x0006));
  return r;
}

describe('qemu-msix-relocation: layout', () => {
  it('a free BAR becomes a 64-bit prefetchable BAR of the structures rounded up to a power-of-two of pages, table at 0', () => {
    const r = relocateMsix(RELO, { capOffset: 0x40, vectorCount: 65, tableBar: 0, tableRange: [0x2000, 0x2410], pbaBar: 0, pbaRange: [0x3000, 0x3010] }, nvme.bars, 4096, '1b36:0010');
    expect(r.kind).toBe('moved');
    if (r.kind !== 'moved') return;
    expect(r.msix).toMatchObject({ tableBar: 2, tableRange: [0, 0x410], pbaBar: 2, pbaRange: [0x410, 0x420] });
    expect(r.bars.find((b) => b.index === 2)).toEqual({ index: 2, size: 0x1000n, kind: 'mem', is64: true, prefetchable: true });
    expect(r.bars.find((b) => b.index === 0)?.size).toBe(0x4000n);
  });
  it('an implemented BAR is doubled and gets the table at its middle', () => {
    const r = relocateMsix(['x-msix-relocation=bar0'], { capOffset: 0x40, vectorCount: 65, tableBar: 0, tableRange: [0x2000, 0x2410], pbaBar: 0, pbaRange: [0x3000, 0x3010] }, nvme.bars, 4096, '1b36:0010');
    expect(r.kind === 'moved' && r.msix.tableRange[0]).toBe(0x4000);
    expect(r.kind === 'moved' && r.bars.find((b) => b.index === 0)?.size).toBe(0x8000n);
  });
  it('the option: barN, auto, off; the last one wins', () => {
    expect(relocationTarget(['x-msix-relocation=bar2'])).toBe(2);
    expect(relocationTarget(['x-msix-relocation=auto'])).toBe('auto');
    expect(relocationTarget(['x-msix-relocation=bar2', 'x-msix-relocation=off'])).toBe(null);
    expect(relocationTarget(['x-no-mmap=on'])).toBe(null);
  });
});

describe('vmm.qemu.msix-relocation-refused', () => {
  for (const [opt, why] of [
    ['x-msix-relocation=auto', /No automatic MSI-X relocation available for device 1b36:0010/],
    ['x-msix-relocation=bar1', /consumed by 64-bit BAR 0/],
  ] as const) {
    it(`${opt}: realize fails, QEMU exits 1`, () => {
      const r = rig('qemu-7.2', { accel: 'tcg', kernel: 'linux-6.1', device: nvme, options: [opt] });
      const s = r.guest(cfgR(0x00, 4));
      expect(s.rule, show(s)).toBe('vmm.qemu.msix-relocation-refused');
      expect(s.outcome).toMatchObject({ kind: 'vmm-exit', status: 1 });
      expect(show(s)).toMatch(why);
    });
  }
});

describe('vmm.qemu.msix-relocated-cap', () => {
  it('the guest reads the moved table and PBA registers; without the option the device\'s', () => {
    const r = booted(RELO);
    expect(r.guest(cfgR(0x44, 4))).toMatchObject({ rule: 'vmm.qemu.msix-relocated-cap', outcome: { kind: 'ok', value: 0x2n } });
    expect(r.guest(cfgR(0x48, 4)).outcome).toMatchObject({ value: 0x412n });
    expect(r.guest(cfgR(0x40, 4)).rule).toBe('vmm.qemu.cfg-read');
    const plain = booted();
    expect(plain.guest(cfgR(0x44, 4)).outcome).toMatchObject({ value: 0x2000n });
  });
});

describe('nvme BAR0 with and without x-msix-relocation', () => {
  it('without: the table is emulated, the rest of its page is QEMU\'s own load, the PBA the device\'s', () => {
    const r = booted();
    expect(r.guest(mmioR(BAR0 + 0x200cn))).toMatchObject({ rule: 'vmm.msix.emulated', outcome: { value: 1n } });
    expect(r.guest(mmioR(BAR0 + 0x2800n)).rule).toBe('vmm.userspace-mapping');
    expect(r.guest(mmioR(BAR0 + 0x3000n)).rule).toBe('vmm.direct-map');
    // Nothing is at BAR2.
    expect(r.guest(mmioR(BAR2)).rule).toBe('vmm.unassigned');
  });
  it('with: BAR0 is mapped whole (the table included), BAR2 holds the emulated table, its PBA reads unassigned', () => {
    const r = booted(RELO);
    const t = r.guest(mmioR(BAR0 + 0x2000n));
    expect(t.rule, show(t)).toBe('vmm.direct-map');
    expect(forwards(t).join(' ')).toMatch(/mem-read bar0\+0x2000/);
    expect(r.guest(mmioR(BAR0 + 0x2800n)).rule).toBe('vmm.direct-map');
    expect(r.guest(mmioR(BAR2 + 0xcn))).toMatchObject({ rule: 'vmm.msix.emulated', outcome: { value: 1n } });
    r.guest(mmioW(BAR2, 0xfee01000n));
    expect(r.guest(mmioR(BAR2)).outcome).toMatchObject({ value: 0xfee01000n });
    expect(r.guest(mmioR(BAR2 + 0x410n))).toMatchObject({ rule: 'vmm.unassigned', outcome: { kind: 'unassigned', value: 0n } });
    // QEMU mmaps only the device's BAR0 (16K): no mmap of a BAR2 the device does not have.
    expect(r.kernel.view.isOpen).toBe(true);
  });
  it('BAR sizing shows the made-up BAR2 as 4K 64-bit prefetchable', () => {
    const r = rig('qemu-7.2', { accel: 'tcg', kernel: 'linux-6.1', device: nvme, options: RELO });
    r.guest(cfgW(0x18, 4, 0xffffffff));
    expect(r.guest(cfgR(0x18, 4)).outcome).toMatchObject({ value: 0xfffff00cn });
  });
});
