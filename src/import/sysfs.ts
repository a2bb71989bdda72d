// The device snapshot the tracer records before the VMM runs, read back into a DeviceSnapshot.
//
// Layout written by tracer/vfio-trace (docs/capture.md):
//   DIR/info                 key=value lines: bdf, kernel_release, page_size, start_epoch_ns,
//                            utc_offset (+HHMM), tracer_version, vmm_pid, vmm_exe, vmm_cmdline
//   DIR/sysfs/config         binary copy of /sys/bus/pci/devices/BDF/config (256 or 4096 bytes)
//   DIR/sysfs/resource       copy of `resource` (start end flags per line: BAR0-5, ROM, ...)
//   DIR/sysfs/power_state, reset_method, vendor, device, class   copies of those files
//   DIR/sysfs/driver         driver name (basename of the `driver` link)
//   DIR/sysfs/iommu_group    group number (basename of the `iommu_group` link)
//   DIR/sysfs/is_virtfn      "1" when the device has a `physfn` link (an SR-IOV VF)
//   DIR/sysfs/vfio_dev       the cdev name (`vfio0`) from `vfio-dev/`, when present
//   DIR/sysfs/sriov_totalvfs, sriov_numvfs, sriov_offset, sriov_stride, sriov_vf_device   a PF's
//                            SR-IOV capability (its `resource` lines 7-12 are the VF BAR windows)
//   DIR/sysfs/physfn, virtfn_index, pf/{sriov_*,resource,driver}   a VF: its PF's BDF, its index,
//                            the PF's capability (sysfs-sriov.ts fills the sriov / sriov-vf blocks)
//   DIR/sysfs/d3cold_allowed, power_control, power_runtime_status   runtime-PM files (power/ -> power_)
//   DIR/module-params        `module.param=value` lines from /sys/module/{vfio_pci,...}/parameters/
//   info kernel_cmdline      /proc/cmdline

import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';
import type { BarInfo, DeviceSnapshot } from '../trace/types.js';
import { sriovFromSysfs } from './sysfs-sriov.js';

export interface SnapshotInfo {
  bdf: string;
  kernelRelease: string;
  pageSize: number;
  startEpochNs: bigint | null;
  utcOffsetSec: number;
  tracerVersion: string;
  vmmPid: number;
  vmmExe: string;
  vmmCmdline: string;
  /** The VMM's version as the tracer read it (`--version`: "7.2.22"), '' when not recorded. */
  vmmVersion: string;
  /** The tracer's ioctl argument capture: `eprobe`, `kprobe`, or `off (why)`; '' when not recorded. */
  ioctlArgs: string;
  /** /proc/cmdline split into words; [] when not recorded. */
  kernelCmdline: string[];
  /** `module.param=value` from DIR/module-params, sorted; [] when not recorded. */
  moduleParams: string[];
}

export interface Snapshot {
  info: SnapshotInfo;
  device: DeviceSnapshot;
  driver: string;
  powerState: string;
  cdev: string | null;
}

const IORESOURCE_IO = 0x100n;
const IORESOURCE_MEM = 0x200n;
const IORESOURCE_PREFETCH = 0x2000n;
const IORESOURCE_MEM_64 = 0x100000n;

/** A file's text, or the basename of a symlink's target (a live sysfs `driver`, `iommu_group`). */
function readText(dir: string, name: string): string | null {
  const p = join(dir, name);
  let st;
  try {
    st = lstatSync(p);
  } catch {
    return null;
  }
  if (st.isSymbolicLink()) return basename(readlinkSync(p));
  return readFileSync(p, 'utf8').trim();
}

/** `key=value` lines; values keep everything after the first '='. */
export function parseInfo(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new UserError(`expected key=value, found "${line.slice(0, 60)}"`, { file, line: i + 1, column: 1 });
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1));
  });
  return out;
}

/** DIR/module-params: one `module.param=value` a line (values may be empty), sorted. */
function readModuleParams(file: string): string[] {
  if (!existsSync(file)) return [];
  const out: string[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_]+=/.test(line)) throw new UserError(`expected module.param=value, found "${line.slice(0, 60)}"`, { file, line: i + 1, column: 1 });
    out.push(line);
  });
  return out.sort();
}

function firstEntry(dir: string): string | null {
  try {
    return readdirSync(dir)[0] ?? null;
  } catch {
    return null;
  }
}

/** sysfs `resource`: one `0xSTART 0xEND 0xFLAGS` line per resource; lines 0-5 BARs, 6 ROM. */
export function parseResource(text: string, file: string): { bars: BarInfo[]; romSize: bigint } {
  const bars: BarInfo[] = [];
  let romSize = 0n;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  lines.forEach((line, i) => {
    const m = /^\s*(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s*$/.exec(line);
    if (!m) throw new UserError(`expected "0xSTART 0xEND 0xFLAGS", found "${line.slice(0, 60)}"`, { file, line: i + 1, column: 1 });
    if (i > 6) return; // bridge windows and SR-IOV BARs: not the device's own BARs
    const start = BigInt(m[1]!);
    const end = BigInt(m[2]!);
    const flags = BigInt(m[3]!);
    const size = end > start || (end === start && flags !== 0n && end !== 0n) ? end - start + 1n : 0n;
    if (i === 6) {
      romSize = size;
      return;
    }
    if (size === 0n || (flags & (IORESOURCE_IO | IORESOURCE_MEM)) === 0n) return;
    bars.push({
      index: i,
      size,
      kind: (flags & IORESOURCE_IO) !== 0n ? 'io' : 'mem',
      is64: (flags & IORESOURCE_MEM_64) !== 0n,
      prefetchable: (flags & IORESOURCE_PREFETCH) !== 0n,
    });
  });
  return { bars, romSize };
}

function hexNumber(text: string | null, file: string): number {
  if (text === null) return 0;
  if (!/^0x[0-9a-fA-F]+$/.test(text)) throw new UserError(`expected a 0x number, found "${text.slice(0, 40)}"`, { file, line: 1, column: 1 });
  return Number(text);
}

function utcOffsetSeconds(text: string, file: string): number {
  if (text === '') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text.trim());
  if (!m) throw new UserError(`utc_offset must look like +0100, found "${text}"`, { file });
  const s = Number(m[2]) * 3600 + Number(m[3]) * 60;
  return m[1] === '-' ? -s : s;
}

/**
 * Read a snapshot: a tracer output directory (DIR/info + DIR/sysfs/), or a bare sysfs device
 * directory (a copy of /sys/bus/pci/devices/BDF, or that directory itself; no info file).
 */
export function readSnapshot(dir: string): Snapshot {
  const infoFile = join(dir, 'info');
  const bare = !existsSync(infoFile);
  if (bare && !existsSync(join(dir, 'config')))
    throw new UserError(`no snapshot in ${dir}: expected an info file (vfio-trace output) or a sysfs device directory with a config file`);
  const kv = bare ? new Map<string, string>([['bdf', basename(dir)]]) : parseInfo(readFileSync(infoFile, 'utf8'), infoFile);
  const sys = bare ? dir : join(dir, 'sysfs');
  const cfgFile = join(sys, 'config');
  const config = existsSync(cfgFile) ? new Uint8Array(readFileSync(cfgFile)) : new Uint8Array(0);
  const resourceFile = join(sys, 'resource');
  const { bars, romSize } = existsSync(resourceFile) ? parseResource(readFileSync(resourceFile, 'utf8'), resourceFile) : { bars: [], romSize: 0n };
  // Vendor/device from the files when present, else from the config bytes.
  const vendorId = readText(sys, 'vendor') !== null ? hexNumber(readText(sys, 'vendor'), join(sys, 'vendor')) : config.length >= 2 ? config[0]! | (config[1]! << 8) : 0;
  const deviceId = readText(sys, 'device') !== null ? hexNumber(readText(sys, 'device'), join(sys, 'device')) : config.length >= 4 ? config[2]! | (config[3]! << 8) : 0;
  const classCode = readText(sys, 'class') !== null ? hexNumber(readText(sys, 'class'), join(sys, 'class')) : 0;
  const groupText = readText(sys, 'iommu_group');
  const iommuGroup = groupText !== null && /^\d+$/.test(groupText) ? Number(groupText) : -1;
  const isVirtfn = readText(sys, 'is_virtfn') === '1' || existsSync(join(sys, 'physfn'));
  const resetText = readText(sys, 'reset_method') ?? '';
  const pageSizeText = kv.get('page_size') ?? '4096';
  if (!/^\d+$/.test(pageSizeText)) throw new UserError(`page_size must be a number, found "${pageSizeText}"`, { file: infoFile });
  const startText = kv.get('start_epoch_ns') ?? '';
  if (startText !== '' && !/^\d+$/.test(startText)) throw new UserError(`start_epoch_ns must be a number, found "${startText}"`, { file: infoFile });
  const info: SnapshotInfo = {
    bdf: kv.get('bdf') ?? '',
    kernelRelease: kv.get('kernel_release') ?? '',
    pageSize: Number(pageSizeText),
    startEpochNs: startText === '' ? null : BigInt(startText),
    utcOffsetSec: utcOffsetSeconds(kv.get('utc_offset') ?? '', infoFile),
    tracerVersion: kv.get('tracer_version') ?? '',
    vmmPid: Number(kv.get('vmm_pid') ?? 0) || 0,
    vmmExe: kv.get('vmm_exe') ?? '',
    vmmCmdline: kv.get('vmm_cmdline') ?? '',
    // `QEMU emulator version 7.2.22 (Debian ...)`, `cloud-hypervisor v45.0`: the version number.
    vmmVersion: /(\d+\.\d+(?:\.\d+)?)/.exec(kv.get('vmm_version') ?? '')?.[1] ?? '',
    ioctlArgs: kv.get('ioctl_args') ?? '',
    kernelCmdline: (kv.get('kernel_cmdline') ?? '').split(/\s+/).filter((w) => w !== ''),
    moduleParams: readModuleParams(join(dir, 'module-params')),
  };
  const device: DeviceSnapshot = {
    bdf: info.bdf,
    vendorId,
    deviceId,
    config,
    bars,
    romSize,
    quirks: {
      nonMappableBars: false, // not visible in sysfs
      // VFs have no COMMAND.MEM in hardware; vfio-pci sets no_command_memory for them.
      noCommandMemory: isVirtfn,
      isVirtfn,
      resourceBusyBars: [],
      iomapFailBars: [],
    },
    resetMethods: resetText === '' ? [] : resetText.split(/\s+/),
    pageSize: info.pageSize,
    // Class 0x0300xx (VGA-compatible display): vfio-pci exposes region 8 when built with VGA support.
    vga: classCode >> 8 === 0x0300,
    iommuGroup,
    ...sriovFromSysfs(sys, config, readText(sys, 'driver') ?? '', info.moduleParams),
  };
  return { info, device, driver: readText(sys, 'driver') ?? '', powerState: readText(sys, 'power_state') ?? '', cdev: readText(sys, 'vfio_dev') ?? firstEntry(join(sys, 'vfio-dev')) };
}
