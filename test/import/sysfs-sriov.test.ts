// The SR-IOV facts of a capture: tracer/vfio-trace copies them from sysfs (a PF's sriov_* files and
// VF BAR windows, a VF's physfn, index and its PF's files) and the importer fills the header's
// sriov / sriov-vf / vf-bar blocks from the copy. The sysfs tree here is built from what the lab's
// real guest showed for QEMU's igb and its VF 0 on 6.12 (traces/lab/6.12/igb/sriov-pf.txt and
// igb-vf/sriov-vf.txt, whose headers init.sh filled from the same sysfs files): the import of the
// tree must give the blocks those lab headers have (the VF token aside: vfio-pci keeps it secret).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSnapshot } from '../../src/import/sysfs.js';
import { vfBarsFromResource } from '../../src/import/sysfs-sriov.js';
import { parseText } from '../../src/trace/text-parse.js';
import type { DeviceSnapshot } from '../../src/trace/types.js';
import { needsTool } from '../helpers/needs-tool.js';
import { repo } from './helpers.js';

const header = (f: string): DeviceSnapshot => parseText(readFileSync(join(repo, f), 'utf8'), f).header.device;
const PF = header('traces/lab/6.12/igb/sriov-pf.txt');
const VF = header('traces/lab/6.12/igb-vf/sriov-vf.txt');
const MEM64_PREF = '0x000000000014220c';
const hex = (n: bigint) => `0x${n.toString(16).padStart(16, '0')}`;

/** ROOT/bus/pci/devices/{PF,VF} as a live sysfs has them for the lab's igb with one VF on vfio-pci. */
function igbTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'sriov-sysfs-'));
  const devs = join(root, 'bus/pci/devices');
  const pf = join(devs, PF.bdf);
  const vf = join(devs, VF.bdf);
  mkdirSync(pf, { recursive: true });
  mkdirSync(vf, { recursive: true });
  mkdirSync(join(root, 'bus/pci/drivers/vfio-pci'), { recursive: true });
  const res = (d: DeviceSnapshot, vfBars: { index: number; size: bigint; base?: bigint }[], total: number): string => {
    const lines = Array.from({ length: 13 }, () => `${hex(0n)} ${hex(0n)} ${hex(0n)}`);
    for (const b of d.bars) lines[b.index] = `${hex(0xfe000000n + BigInt(b.index) * 0x100000n)} ${hex(0xfe000000n + BigInt(b.index) * 0x100000n + b.size - 1n)} ${b.kind === 'io' ? '0x0000000000040101' : '0x0000000000040200'}`;
    for (const b of vfBars) lines[7 + b.index] = `${hex(b.base!)} ${hex(b.base! + b.size * BigInt(total) - 1n)} ${MEM64_PREF}`;
    return lines.join('\n') + '\n';
  };
  const cap = PF.sriov!;
  writeFileSync(join(pf, 'config'), PF.config);
  writeFileSync(join(pf, 'resource'), res(PF, cap.vfBars, cap.totalVfs));
  for (const [f, v] of [['vendor', '0x8086'], ['device', '0x10c9'], ['sriov_totalvfs', String(cap.totalVfs)], ['sriov_numvfs', '1'], ['sriov_offset', String(cap.firstVfOffset)], ['sriov_stride', String(cap.vfStride)], ['sriov_vf_device', cap.vfDeviceId.toString(16)]]) writeFileSync(join(pf, f!), `${v}\n`);
  writeFileSync(join(vf, 'config'), VF.config);
  writeFileSync(join(vf, 'resource'), res(VF, [], 1));
  for (const [f, v] of [['vendor', '0x8086'], ['device', '0x10ca']]) writeFileSync(join(vf, f!), `${v}\n`);
  for (const d of [pf, vf]) symlinkSync('../../../../bus/pci/drivers/vfio-pci', join(d, 'driver'));
  symlinkSync(`../${PF.bdf}`, join(vf, 'physfn'));
  symlinkSync(`../${VF.bdf}`, join(pf, 'virtfn0'));
  const params = join(root, 'module/vfio_pci/parameters');
  mkdirSync(params, { recursive: true });
  writeFileSync(join(params, 'enable_sriov'), 'Y\n');
  return root;
}

describe('SR-IOV facts from sysfs', () => {
  const root = igbTree();
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('vfBarsFromResource: windows of lines 7-12 divided by TotalVFs', () => {
    const z = { start: 0n, end: 0n, flags: 0n };
    const w = { start: 0xfea00000n, end: 0xfea1ffffn, flags: 0x14220cn };
    expect(vfBarsFromResource([z, z, z, z, z, z, z, w, z, z, { ...w, start: 0xfea20000n, end: 0xfea3ffffn }], 8)).toEqual([
      { index: 0, size: 0x4000n, is64: true, prefetchable: true, base: 0xfea00000n },
      { index: 3, size: 0x4000n, is64: true, prefetchable: true, base: 0xfea20000n },
    ]);
  });

  it('a live VF directory: its PF, index and the PF\'s capability through the physfn link', () => {
    const s = readSnapshot(join(root, 'bus/pci/devices', VF.bdf));
    expect(s.device.quirks.isVirtfn).toBe(true);
    expect(s.device.sriovVf).toEqual({ ...VF.sriovVf, pf: { ...VF.sriovVf!.pf, vfToken: '', enableSriov: false } });
  });

  describe.runIf(needsTool('strace'))('tracer/vfio-trace copies them, the importer reads the copy', () => {
    const trace = (bdf: string) => {
      const out = join(root, `out-${bdf}`);
      const t = spawnSync(join(repo, 'tracer/vfio-trace'), ['--bdf', bdf, '--sysfs-root', root, '--no-ioctl-args', '-o', out, '--', 'true'], { encoding: 'utf8' });
      expect(t.status, t.stderr).toBe(0);
      return out;
    };
    it('a VF: sysfs/physfn, virtfn_index and pf/ give the lab header\'s sriov-vf and vf-bar lines', () => {
      const out = trace(VF.bdf);
      expect(readFileSync(join(out, 'sysfs/physfn'), 'utf8').trim()).toBe(PF.bdf);
      expect(readFileSync(join(out, 'sysfs/virtfn_index'), 'utf8').trim()).toBe('0');
      // The lab's PF user set the all-zero token; the tracer cannot see tokens.
      expect(readSnapshot(out).device.sriovVf).toEqual({ ...VF.sriovVf, pf: { ...VF.sriovVf!.pf, vfToken: '' } });
    });
    it('a PF: its sriov_* files and VF BAR windows give the lab header\'s sriov and vf-bar lines', () => {
      const s = readSnapshot(trace(PF.bdf));
      // The lab's PF trace starts before sriov_numvfs is written; this tree has one VF enabled.
      expect(s.device.sriov).toEqual({ ...PF.sriov, numVfs: 1 });
      expect(s.device.sriovVf).toBeUndefined();
    });
  });
});
