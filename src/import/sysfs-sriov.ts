// The SR-IOV blocks of a device snapshot from sysfs facts: a PF's capability (sriov_totalvfs,
// sriov_numvfs, sriov_offset, sriov_stride, sriov_vf_device, the VF BAR windows in `resource`
// lines 7-12), or a VF's PF and index. Used by the importer (the tracer's sysfs/ copy, sysfs.ts)
// and by the lab (init.sh's console lines, src/lab/snapshot.ts).
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';
import type { DeviceSnapshot, SriovCap, VfBar } from '../trace/types.js';

const IORESOURCE_MEM = 0x200n;
const IORESOURCE_PREFETCH = 0x2000n;
const IORESOURCE_MEM_64 = 0x100000n;
const PCI_EXT_CAP_ID_SRIOV = 0x10;
/** drivers/pci/pci.h: resource PCI_IOV_RESOURCES = 7 is VF BAR 0. */
const IOV_RESOURCES = 7;

export interface ResourceLine {
  start: bigint;
  end: bigint;
  flags: bigint;
}

/**
 * The VF BARs of a PF from its `resource` lines (all of them; lines 7-12 are the SR-IOV windows):
 * sysfs shows each window as the VF BAR times TotalVFs, a VF's BAR is one slice of it.
 */
export function vfBarsFromResource(lines: readonly ResourceLine[], totalVfs: number): VfBar[] {
  const out: VfBar[] = [];
  lines.slice(IOV_RESOURCES, IOV_RESOURCES + 6).forEach((r, i) => {
    if ((r.start === 0n && r.end === 0n) || (r.flags & IORESOURCE_MEM) === 0n) return;
    const size = (r.end - r.start + 1n) / BigInt(Math.max(totalVfs, 1));
    out.push({ index: i, size, is64: (r.flags & IORESOURCE_MEM_64) !== 0n, prefetchable: (r.flags & IORESOURCE_PREFETCH) !== 0n, base: r.start });
  });
  return out;
}

/** Offset of the SR-IOV extended capability in a PF's config space, 0 when not there (or not read). */
export function sriovCapOffset(config: Uint8Array): number {
  const u32 = (at: number): number => ((config[at] ?? 0) | ((config[at + 1] ?? 0) << 8) | ((config[at + 2] ?? 0) << 16) | ((config[at + 3] ?? 0) << 24)) >>> 0;
  for (let at = 0x100, n = 0; at >= 0x100 && at + 4 <= config.length && n < 64; n++) {
    const h = u32(at);
    if ((h & 0xffff) === PCI_EXT_CAP_ID_SRIOV) return at;
    at = (h >>> 20) & 0xffc;
  }
  return 0;
}

function resourceLines(text: string, file: string): ResourceLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const m = /^\s*(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s*$/.exec(line);
      if (!m) throw new UserError(`expected "0xSTART 0xEND 0xFLAGS", found "${line.slice(0, 60)}"`, { file, line: i + 1, column: 1 });
      return { start: BigInt(m[1]!), end: BigInt(m[2]!), flags: BigInt(m[3]!) };
    });
}

/** A file's text, or the basename of a symlink's target (a live sysfs tree: physfn, driver). */
function text(dir: string, name: string): string | null {
  const p = join(dir, name);
  if (!existsSync(p)) return null;
  return lstatSync(p).isSymbolicLink() ? basename(readlinkSync(p)) : readFileSync(p, 'utf8').trim();
}

/** The N of the PF's virtfnN link that resolves to the VF's own directory (a live tree). */
function virtfnIndex(pfDir: string, vfDir: string): number {
  const me = realpathSync(vfDir);
  for (const e of readdirSync(pfDir)) {
    const m = /^virtfn(\d+)$/.exec(e);
    if (m && realpathSync(join(pfDir, e)) === me) return Number(m[1]);
  }
  return 0;
}

/** A decimal sysfs number (sriov_totalvfs ...), or a hex one without 0x (sriov_vf_device prints `10ca`). */
function num(dir: string, name: string, radix: 10 | 16 = 10): number {
  const t = text(dir, name);
  if (t === null) return 0;
  const ok = radix === 16 ? /^(0x)?[0-9a-fA-F]+$/.test(t) : /^\d+$/.test(t);
  if (!ok) throw new UserError(`expected a ${radix === 16 ? 'hex' : 'decimal'} number, found "${t.slice(0, 40)}"`, { file: join(dir, name), line: 1, column: 1 });
  return parseInt(t.replace(/^0x/i, ''), radix);
}

/** The capability of the PF whose sysfs files (sriov_*, resource, driver) are in `dir`. */
function capOf(dir: string, config: Uint8Array, driver: string, enableSriov: boolean): SriovCap {
  const totalVfs = num(dir, 'sriov_totalvfs');
  const res = join(dir, 'resource');
  return {
    capOffset: sriovCapOffset(config),
    totalVfs,
    numVfs: num(dir, 'sriov_numvfs'),
    firstVfOffset: num(dir, 'sriov_offset'),
    vfStride: num(dir, 'sriov_stride'),
    vfDeviceId: num(dir, 'sriov_vf_device', 16),
    vfBars: existsSync(res) ? vfBarsFromResource(resourceLines(readFileSync(res, 'utf8'), res), totalVfs) : [],
    driver,
    // vfio-pci's token is not in sysfs: "" = the random one (a trace that opens with a token sets it).
    vfToken: '',
    vfUsers: 0,
    enableSriov,
  };
}

/**
 * The SR-IOV blocks from the tracer's sysfs/ copy: a PF (sriov_totalvfs there) gets `sriov`, a VF
 * (physfn there, the PF's files under pf/) gets `sriovVf` with its PF's capability. `driver` is the
 * device's own driver; vfio-pci's enable_sriov comes from the module parameters.
 */
export function sriovFromSysfs(sys: string, config: Uint8Array, driver: string, moduleParams: readonly string[]): Pick<DeviceSnapshot, 'sriov' | 'sriovVf'> {
  const enableSriov = moduleParams.includes('vfio_pci.enable_sriov=Y');
  const pfBdf = text(sys, 'physfn');
  if (pfBdf !== null) {
    // The tracer's copy keeps the PF's files under pf/; in a live (or copied) sysfs directory
    // physfn is the link to the PF's own directory.
    const copied = existsSync(join(sys, 'pf'));
    const pf = copied ? join(sys, 'pf') : join(sys, 'physfn');
    // The VF's config has no SR-IOV capability, and the PF's config is not copied: offset unknown (0).
    const cap = capOf(pf, new Uint8Array(0), text(pf, 'driver') ?? '', enableSriov);
    const vfIndex = copied || text(sys, 'virtfn_index') !== null ? num(sys, 'virtfn_index') : virtfnIndex(pf, sys);
    return { sriovVf: { pfBdf, vfIndex, pf: cap } };
  }
  if (text(sys, 'sriov_totalvfs') === null) return {};
  return { sriov: capOf(sys, config, driver, enableSriov) };
}
