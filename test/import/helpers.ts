// Shared by the import tests: where the committed captures are, a fake sysfs tree for the tracer
// and the importer, and the fake VMM compiled from test/fixtures/import/src/fake-vmm.c.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeEvent, describeObserved } from '../../src/trace/text-print.js';
import type { Trace } from '../../src/trace/types.js';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
export const fixtures = join(repo, 'test/fixtures/import');
export const straceDir = join(fixtures, 'strace');

/** e1000e-like config space (256 bytes) with the capabilities the lab device has. */
export function fakeConfig(): Uint8Array {
  const c = new Uint8Array(256);
  c.set([0x86, 0x80, 0xd3, 0x10, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x02], 0);
  c.set([0x00, 0x00, 0xfc, 0xfe], 0x10);
  c[0x34] = 0xc8;
  c.set([0x01, 0x00, 0x22, 0xc8, 0x00, 0x00], 0xc8); // PM capability
  return c;
}

/**
 * A sysfs tree as the kernel lays it out for one device bound to vfio-pci: ROOT/bus/pci/devices/BDF
 * with config, resource, power_state, reset_method, vendor, device, class, and the driver and
 * iommu_group symlinks.
 */
export function makeFakeSysfs(opts: { bdf?: string; driver?: string; group?: number } = {}): string {
  const bdf = opts.bdf ?? '0000:01:00.0';
  const root = mkdtempSync(join(tmpdir(), 'vfio-sysfs-'));
  const dev = join(root, 'bus/pci/devices', bdf);
  mkdirSync(dev, { recursive: true });
  const driver = opts.driver ?? 'vfio-pci';
  mkdirSync(join(root, 'bus/pci/drivers', driver), { recursive: true });
  mkdirSync(join(root, 'kernel/iommu_groups', String(opts.group ?? 5)), { recursive: true });
  writeFileSync(join(dev, 'config'), fakeConfig());
  const res = [
    '0x00000000fe000000 0x00000000fe01ffff 0x0000000000040200',
    '0x00000000fe020000 0x00000000fe03ffff 0x0000000000040200',
    '0x000000000000e000 0x000000000000e01f 0x0000000000040101',
    '0x00000000fe040000 0x00000000fe043fff 0x0000000000040200',
    '0x0000000000000000 0x0000000000000000 0x0000000000000000',
    '0x0000000000000000 0x0000000000000000 0x0000000000000000',
    '0x00000000fe080000 0x00000000fe0bffff 0x0000000000046200',
  ];
  writeFileSync(join(dev, 'resource'), res.join('\n') + '\n');
  writeFileSync(join(dev, 'power_state'), 'D0\n');
  writeFileSync(join(dev, 'reset_method'), 'pm bus\n');
  writeFileSync(join(dev, 'vendor'), '0x8086\n');
  writeFileSync(join(dev, 'device'), '0x10d3\n');
  writeFileSync(join(dev, 'class'), '0x020000\n');
  writeFileSync(join(dev, 'd3cold_allowed'), '1\n');
  mkdirSync(join(dev, 'power'));
  writeFileSync(join(dev, 'power/control'), 'auto\n');
  writeFileSync(join(dev, 'power/runtime_status'), 'suspended\n');
  const params = join(root, 'module/vfio_pci/parameters');
  mkdirSync(params, { recursive: true });
  for (const [p, v] of [['disable_idle_d3', 'Y'], ['nointxmask', 'N'], ['disable_vga', 'N']]) writeFileSync(join(params, p), `${v}\n`);
  symlinkSync(`../../../../bus/pci/drivers/${driver}`, join(dev, 'driver'));
  symlinkSync(`../../../../kernel/iommu_groups/${opts.group ?? 5}`, join(dev, 'iommu_group'));
  return root;
}

let built: string | null = null;
/** fake-vmm compiled once per test process (gcc); null when gcc is missing. */
export function fakeVmm(): string | null {
  if (built !== null) return built;
  const out = join(mkdtempSync(join(tmpdir(), 'fake-vmm-')), 'fake-vmm');
  const r = spawnSync('gcc', ['-O1', '-pthread', '-o', out, join(fixtures, 'src/fake-vmm.c')], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(out)) return null;
  built = out;
  return out;
}

/** Event lines without seq/time and with host virtual addresses (which differ per run) masked. */
export function eventLines(t: Trace): string[] {
  return t.events.map((e) => {
    const obs = e.observed ? ` => ${describeObserved(e.observed)}` : '';
    return `${e.overlap ? 'race ' : ''}${describeEvent(e)}${obs}`.replace(/0x7[ef][0-9a-f]{10}/g, 'ADDR').replace(/\bret=1[34]\d{13}\b/g, 'ret=ADDR').trimEnd();
  });
}

/** u64 words as little-endian bytes (how the tracer's ioctl-args words sit in memory). */
export function leWords(...words: bigint[]): Uint8Array {
  const b = new Uint8Array(words.length * 8);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setBigUint64(i * 8, w, true));
  return b;
}

/** The 16 words (128 bytes) the tracer records for an ioctl: the given ones, the rest zero. */
export function capturedWords(...first: bigint[]): Uint8Array {
  return leWords(...first, ...Array<bigint>(16 - first.length).fill(0n));
}
