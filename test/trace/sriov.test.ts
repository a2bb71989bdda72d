// SR-IOV in the format (issue 15): the PF block (DeviceSnapshot.sriov, 19), the VF block
// (DeviceSnapshot.sriov_vf, 18) with its VF BARs, `open vf-token=` (Open.vf_token) and a write of
// sriov_numvfs: the `sysfs` event now; the first form (Packet 52, text `sriov-numvfs num-vfs=N`)
// still reads, as that sysfs write. Text twin, binary, absent defaults, located errors.
import { describe, expect, it } from 'vitest';
import { decodeTrace, encodeTrace } from '../../src/trace/codec.js';
import { parseText } from '../../src/trace/text-parse.js';
import { printText } from '../../src/trace/text-print.js';
import { UserError } from '../../src/errors.js';
import { eventKinds } from '../../src/trace/convert.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const text = (...lines: string[]): string => ['vfio-trace 1', 'device 0000:01:10.0 8086:10ca', ...lines, ''].join('\n');

const VF = [
  'quirks no_command_memory is_virtfn',
  'sriov-vf pf=0000:01:00.0 index=3 total-vfs=8 num-vfs=4 first-vf-offset=0x80 vf-stride=0x2 vf-device=10ca driver=vfio-pci vf-token=2b9e2d50-52a5-4a53-8a8a-3f29b0c1a001 enable-sriov',
  'vf-bar 0 size=0x4000 base=0xfea00000 64 prefetch',
  'vf-bar 3 size=0x4000 64 prefetch',
];

function bad(...lines: string[]): string {
  try {
    parseText(text(...lines), 't.txt');
  } catch (e) {
    if (e instanceof UserError) return e.message;
    throw e;
  }
  return 'no error';
}

describe('SR-IOV header blocks', () => {
  it('a VF block parses, prints back in canonical order and survives the binary form', () => {
    const t = parseText(text(...VF, 'open vf-token=2B9E2D50-52A5-4A53-8A8A-3F29B0C1A001'), 't.txt');
    const vf = t.header.device.sriovVf!;
    expect(vf.pfBdf).toBe('0000:01:00.0');
    expect(vf.vfIndex).toBe(3);
    expect(vf.pf).toMatchObject({ totalVfs: 8, numVfs: 4, firstVfOffset: 0x80, vfStride: 2, vfDeviceId: 0x10ca, driver: 'vfio-pci', enableSriov: true, vfUsers: 0 });
    expect(vf.pf.vfBars).toEqual([
      { index: 0, size: 0x4000n, is64: true, prefetchable: true, base: 0xfea00000n },
      { index: 3, size: 0x4000n, is64: true, prefetchable: true, base: 0n },
    ]);
    expect(t.events[0]).toMatchObject({ kind: 'open', vfToken: '2b9e2d50-52a5-4a53-8a8a-3f29b0c1a001' });
    const printed = printText(t);
    for (const l of VF.slice(1)) expect(printed).toContain(`\n${l}\n`);
    expect(printed).toContain(' open vf-token=2b9e2d50-52a5-4a53-8a8a-3f29b0c1a001\n');
    const back = decodeTrace(encodeTrace(t), 't.pb');
    expect(back.header.device.sriovVf).toEqual(vf);
    expect(printText(back)).toBe(printed);
  });

  it('a PF block and sriov_numvfs writes round-trip; the old text form reads as the sysfs write; a plain open has no token', () => {
    const t = parseText(text('sriov total-vfs=8 vf-users=2 driver=igb', 'vf-bar 0 size=0x4000', 'open', 'sriov-numvfs num-vfs=2 => ret=0', 'sysfs sriov_numvfs write=0'), 't.txt');
    expect(t.header.device.sriov).toMatchObject({ totalVfs: 8, numVfs: 0, vfUsers: 2, driver: 'igb', vfToken: '', enableSriov: false });
    expect(t.events.map((e) => e.kind)).toEqual(['open', 'sysfs', 'sysfs']);
    expect(t.events[1]).toMatchObject({ kind: 'sysfs', path: 'sriov_numvfs', write: '2' });
    expect('vfToken' in t.events[0]!).toBe(false);
    const printed = printText(t);
    expect(printed).toContain('\nsriov total-vfs=8 num-vfs=0 driver=igb vf-users=2\nvf-bar 0 size=0x4000\n');
    expect(printed).toContain(' sysfs sriov_numvfs write=2 => ret=0\n');
    expect(printed).not.toContain('sriov-numvfs');
    const back = decodeTrace(encodeTrace(t), 't.pb');
    expect(back.header.device.sriov).toEqual(t.header.device.sriov);
    expect(back.events[0]).toEqual(t.events[0]);
    expect(printText(back)).toBe(printed);
  });

  it('Packet 52 (deprecated) decodes into the sysfs write; nothing writes it any more', () => {
    // A real capture written before the sysfs event absorbed it (lab igb sriov-pf on 6.12.117).
    const old = decodeTrace(readFileSync(join(import.meta.dirname, '../fixtures/legacy/sriov-numvfs-packet52.pb')), 'old.pb');
    const writes = old.events.filter((e) => e.kind === 'sysfs');
    expect(writes.map((e) => (e.kind === 'sysfs' ? `${e.path}=${e.write}` : ''))).toEqual(['sriov_numvfs=1', 'sriov_numvfs=2', 'sriov_numvfs=1', 'sriov_numvfs=0', 'sriov_numvfs=1', 'sriov_numvfs=0']);
    expect(writes[0]!.observed).toEqual({ ret: 0n });
    const again = encodeTrace(old);
    expect(Buffer.from(again).includes(Buffer.from([0xa2, 0x03]))).toBe(false); // field 52, length-delimited: gone
    expect(decodeTrace(again, 'new.pb')).toEqual(old);
    expect(eventKinds()).not.toContain('sriov-numvfs');
    expect(eventKinds()).toContain('sysfs');
  });

  it('absent blocks: no line, no field on the wire', () => {
    const t = parseText(text('open'), 't.txt');
    const back = decodeTrace(encodeTrace(t), 't.pb');
    expect(back.header.device.sriov).toBeUndefined();
    expect(back.header.device.sriovVf).toBeUndefined();
    expect(printText(back)).not.toMatch(/sriov|vf-bar/);
  });

  it('bad SR-IOV lines are located errors', () => {
    expect(bad('sriov num-vfs=1')).toMatch(/t\.txt:3:.*missing total-vfs=/);
    expect(bad('sriov total-vfs=2 num-vfs=3')).toMatch(/t\.txt:3:.*num-vfs=3 is more than total-vfs=2/);
    expect(bad('sriov-vf pf=0000:01:00.0 index=8 total-vfs=8')).toMatch(/t\.txt:3:.*index=8 is past total-vfs=8/);
    expect(bad('sriov total-vfs=2 vf-token=not-a-uuid')).toMatch(/t\.txt:3:.*vf-token: expected a UUID/);
    expect(bad('sriov total-vfs=2 vf-device=12345')).toMatch(/t\.txt:3:.*vf-device: expected a device id in hex/);
    expect(bad('vf-bar 0 size=0x4000')).toMatch(/t\.txt:3:.*vf-bar needs an "sriov" or "sriov-vf" line before it/);
    expect(bad('sriov total-vfs=2', 'vf-bar 6 size=0x4000')).toMatch(/t\.txt:4:.*VF BAR number must be 0\.\.5/);
    expect(bad('sriov total-vfs=2', 'vf-bar 0 size=0x4000', 'vf-bar 0 size=0x4000')).toMatch(/t\.txt:5:.*VF BAR 0 given twice/);
    expect(bad('sriov total-vfs=2', 'sriov-vf pf=x index=0 total-vfs=2')).toMatch(/t\.txt:4:.*a PF \(sriov\) or a VF \(sriov-vf\), not both/);
    expect(bad('sriov total-vfs=2', 'sriov total-vfs=2')).toMatch(/t\.txt:4:.*sriov/);
    expect(bad('sriov total-vfs=2 colour=red')).toMatch(/t\.txt:3:.*unknown argument colour=/);
    expect(bad('open vf-token=1234')).toMatch(/t\.txt:3:.*vf-token: expected a UUID/);
    expect(bad('sriov-numvfs')).toMatch(/t\.txt:3:.*missing num-vfs=/);
  });
});
