import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without type declarations
import { mergeSerialIntoTwin, parseSerial } from '../../lab/vmm/guest-serial.mjs';

const HEADER = 'vfio-trace 1\nsource strace\nvmm qemu 7.2.22 tcg\ndevice 0000:00:03.0 8086:10d3 page-size=4096 iommu-group=2\nbar 0 mem size=0x20000\n';

// Firmware config accesses first, then the guest's; the last guest access killed the VMM.
const TWIN =
  HEADER +
  [
    '0 t=100 tid=7 guest-cfg-read 0x00 len=4 => data=8680d310',
    '1 t=200 tid=7 guest-cfg-write 0x04 len=2 val=0x0103',
    '2 t=300 tid=7 guest-cfg-write 0xcc len=2 val=0x0003',
    '3 t=400 tid=7 guest-cfg-read 0xcc len=2 => data=0300',
    '4 t=500 tid=7 mem-read bar0+0x8 len=1 => signal=SIGBUS code=BUS_ADRERR vmm-exit=signaled status=135 exit-signal=SIGBUS',
  ].join('\n') +
  '\n';

const SERIAL = [
  '# vfio-inner 1',
  '# step mem 1',
  'guest-cfg-write 0x04 len=2 val=0x103 =>',
  'guest-mmio-read 0xc0000008 len=4 => data=83020800',
  '# step pm 3',
  'guest-cfg-write 0xcc len=2 val=0x3 =>',
  'guest-cfg-read 0xcc len=2 => data=0300',
  'guest-mmio-read 0xc0000008 len=4',
].join('\n');

describe('lab/vmm guest-serial', () => {
  it('reads access lines and tells a finished access from the one the VMM died on', () => {
    const ev = parseSerial(SERIAL);
    expect(ev).toHaveLength(5);
    expect(ev[1]).toEqual({ kind: 'guest-mmio-read', args: '0xc0000008 len=4', observed: 'data=83020800' });
    expect(ev[0]).toEqual({ kind: 'guest-cfg-write', args: '0x04 len=2 val=0x103', observed: '' });
    expect(ev[4]).toEqual({ kind: 'guest-mmio-read', args: '0xc0000008 len=4', observed: null });
  });

  it('places direct-mapped MMIO after the config access before it; the fatal one takes the fault and the death', () => {
    const r = mergeSerialIntoTwin(TWIN, SERIAL);
    expect(r.problems).toEqual([]);
    expect(r.cfgChecked).toBe(3);
    expect(r.inserted).toBe(2);
    expect(r.folded).toBe(1);
    const events = r.text.split('\n').filter((l: string) => l.startsWith('t='));
    expect(events).toEqual([
      't=100 tid=7 guest-cfg-read 0x00 len=4 => data=8680d310',
      't=200 tid=7 guest-cfg-write 0x04 len=2 val=0x0103',
      't=200 tid=7 guest-mmio-read 0xc0000008 len=4 => data=83020800',
      't=300 tid=7 guest-cfg-write 0xcc len=2 val=0x0003',
      't=400 tid=7 guest-cfg-read 0xcc len=2 => data=0300',
      't=400 tid=7 guest-mmio-read 0xc0000008 len=4 => vmm-exit=signaled status=135 exit-signal=SIGBUS',
    ]);
  });

  it('keeps a trapped access the importer already has, and adds none twice', () => {
    const twin = HEADER + '0 t=1 tid=7 guest-cfg-write 0x04 len=2 val=0x0103\n1 t=2 tid=7 guest-mmio-read 0xc0000008 len=4 => data=83020800\n';
    const r = mergeSerialIntoTwin(twin, 'guest-cfg-write 0x04 len=2 val=0x103 =>\nguest-mmio-read 0xc0000008 len=4 => data=83020800\n');
    expect(r).toMatchObject({ inserted: 0, present: 1, problems: [] });
  });

  it('folds a failed trapped read QEMU did not log into the guest access, keeping what the guest read', () => {
    const twin = HEADER + '0 t=1 tid=7 guest-cfg-read 0xcc len=2 => data=0300\n1 t=2 tid=7 region-read bar0+0x8 len=4 => errno=EIO\n2 t=3 tid=7 region-read bar0+0x10 len=4 => errno=EIO\n';
    const r = mergeSerialIntoTwin(twin, 'guest-cfg-read 0xcc len=2 => data=0300\nguest-mmio-read 0xc0000008 len=4 => data=ffffffff\n');
    expect(r).toMatchObject({ inserted: 1, folded: 1, problems: [] });
    expect(r.text.split('\n').filter((l: string) => l.startsWith('t='))).toEqual([
      't=1 tid=7 guest-cfg-read 0xcc len=2 => data=0300',
      't=1 tid=7 guest-mmio-read 0xc0000008 len=4 => data=ffffffff',
      't=3 tid=7 region-read bar0+0x10 len=4 => errno=EIO', // another offset: not this access
    ]);
  });

  it('folds a fault into a guest write too (strace does not say load or store)', () => {
    const twin = HEADER + '0 t=1 tid=7 guest-cfg-write 0xcc len=2 val=0x0003\n1 t=2 tid=7 mem-read bar0+0x2800 len=1 => signal=SIGBUS code=BUS_ADRERR vmm-exit=signaled status=135 exit-signal=SIGBUS\n';
    const r = mergeSerialIntoTwin(twin, 'guest-cfg-write 0xcc len=2 val=0x3 =>\nguest-mmio-write 0xc0002800 len=4 val=0x22222220\n');
    expect(r.text.split('\n').filter((l: string) => l.startsWith('t='))).toEqual([
      't=1 tid=7 guest-cfg-write 0xcc len=2 val=0x0003',
      't=1 tid=7 guest-mmio-write 0xc0002800 len=4 val=0x22222220 => vmm-exit=signaled status=135 exit-signal=SIGBUS',
    ]);
  });

  it("replaces the importer's inferred guest access (a fault: 1-byte read) with the guest's exact one, keeping the death", () => {
    const twin = TWIN.replace(/^4 t=500 .*$/m, '4 t=500 tid=7 guest-mmio-read 0xc0002800 len=1 => vmm-exit=signaled status=135 exit-signal=SIGBUS');
    const r = mergeSerialIntoTwin(twin, 'guest-cfg-read 0xcc len=2 => data=0300\nguest-mmio-write 0xc0002800 len=4 val=0x22222220\n');
    expect(r.problems).toEqual([]);
    const events = r.text.split('\n').filter((l: string) => /guest-mmio/.test(l));
    expect(events).toEqual(['t=500 tid=7 guest-mmio-write 0xc0002800 len=4 val=0x22222220 => vmm-exit=signaled status=135 exit-signal=SIGBUS']);
  });
  it('refuses to merge when the config accesses disagree', () => {
    const r = mergeSerialIntoTwin(TWIN, 'guest-cfg-write 0x04 len=2 val=0x101 =>\nguest-cfg-write 0xcc len=2 val=0x3 =>\nguest-cfg-read 0xcc len=2 => data=0300\n');
    expect(r.problems[0]).toMatch(/config access 0/);
    expect(r.inserted).toBe(0);
  });
});
