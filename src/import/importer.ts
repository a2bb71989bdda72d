// The importer: a tracer output directory (or explicit files) -> one Trace plus a report of what
// was read, skipped and not understood. Pure with respect to its inputs (reads files, writes
// nothing); the CLI writes the result only when this returned without error.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';
import { emptyDeviceSnapshot, type Accelerator, type DeviceSnapshot, type Trace, type TraceHeader } from '../trace/types.js';
import { IoctlArgMatcher, parseIoctlArgs } from './ioctl-args.js';
import { mergeEvents } from './merge.js';
import { readQemuLog, type QemuLogResult } from './qemu-log.js';
import { StraceConverter, type StraceStats } from './strace-events.js';
import { readStraceLog, type StraceLog } from './strace-log.js';
import { readSnapshot, type Snapshot } from './sysfs.js';
import { vfioDeviceOptions } from './vmm-options.js';

export interface ImportInputs {
  /** A vfio-trace output directory: strace.log, ioctl-args, info + sysfs/, qemu.log (each optional). */
  dir?: string;
  strace?: string;
  /** The tracer's ioctl argument capture (ftrace text of its vfio_ioctl event). */
  ioctlArgs?: string;
  /** A snapshot: vfio-trace output dir (info + sysfs/) or a sysfs device directory. */
  sysfs?: string;
  qemuLog?: string;
  /** Take the header (device snapshot, kernel, VMM) from this one instead of a snapshot. */
  header?: TraceHeader;
  vmm?: string;
  vmmVersion?: string;
  accel?: Accelerator;
  title?: string;
  guestBdf?: string;
  tracerVersion: string;
}

export interface ImportReport {
  strace: { file: string; lines: number; clock: string; otherLines: number; orphanResumes: number; unfinishedAtEnd: number; stats: StraceStats } | null;
  ioctlArgs: { file: string; records: number; paired: number; unpaired: number; lost: number; otherLines: number } | null;
  qemu: { file: string; lines: number; otherLines: number; unknown: Map<string, number>; skipped: Map<string, number>; otherDevice: number; mmapToggles: number } | null;
  droppedForwards: number;
  notes: string[];
}


function readInput(path: string, what: string): string {
  if (!existsSync(path)) throw new UserError(`${what} not found`, { file: path });
  if (statSync(path).isDirectory()) throw new UserError(`${what} is a directory, expected a file`, { file: path });
  return readFileSync(path, 'latin1');
}

function vmmName(exe: string): string {
  const b = basename(exe);
  if (b === '') return '';
  if (b.startsWith('qemu')) return 'qemu';
  if (/openvmm/i.test(b)) return 'openvmm';
  if (/cloud-hypervisor/.test(b)) return 'cloud-hypervisor';
  return b;
}

export function importTrace(inputs: ImportInputs): { trace: Trace; report: ImportReport } {
  const notes: string[] = [];
  let stracePath = inputs.strace;
  let argsPath = inputs.ioctlArgs;
  let snapshotDir = inputs.sysfs;
  let qemuPath = inputs.qemuLog;
  if (inputs.dir !== undefined) {
    if (!existsSync(inputs.dir) || !statSync(inputs.dir).isDirectory()) throw new UserError('not a directory', { file: inputs.dir });
    stracePath ??= existsSync(join(inputs.dir, 'strace.log')) ? join(inputs.dir, 'strace.log') : undefined;
    argsPath ??= existsSync(join(inputs.dir, 'ioctl-args')) ? join(inputs.dir, 'ioctl-args') : undefined;
    snapshotDir ??= existsSync(join(inputs.dir, 'info')) ? inputs.dir : undefined;
    qemuPath ??= existsSync(join(inputs.dir, 'qemu.log')) ? join(inputs.dir, 'qemu.log') : undefined;
  }
  if (stracePath === undefined && qemuPath === undefined)
    throw new UserError(`nothing to import: no strace log and no QEMU log${inputs.dir !== undefined ? ` in ${inputs.dir}` : ''}`);

  const snap: Snapshot | null = snapshotDir !== undefined ? readSnapshot(snapshotDir) : null;
  const device = inputs.header?.device ?? snap?.device ?? emptyDeviceSnapshot();
  if (!snap && !inputs.header) notes.push('no device snapshot: the header carries no config space or BARs (pass --sysfs or import a vfio-trace directory)');
  if (snap && snap.driver !== '' && snap.driver !== 'vfio-pci') notes.push(`the snapshot's device was bound to ${snap.driver}, not vfio-pci`);

  if (argsPath !== undefined && stracePath === undefined) throw new UserError('an ioctl argument capture needs the strace log it belongs to (--strace)', { file: argsPath });
  const matcher = argsPath !== undefined ? new IoctlArgMatcher(parseIoctlArgs(readInput(argsPath, 'ioctl argument capture'), argsPath)) : null;
  if (matcher?.log.cutLastLine) notes.push(`the ioctl argument capture ends inside a record (cut short); that record was dropped`);
  if (matcher && matcher.log.lost > 0)
    notes.push(`the kernel dropped ${matcher.log.lost} ioctl argument records (trace buffer full); the ioctls they belonged to import as raw`);
  if (stracePath !== undefined && argsPath === undefined && snap?.info.ioctlArgs.startsWith('off'))
    notes.push(`the tracer captured no ioctl arguments (${snap.info.ioctlArgs}): SET_IRQS, FEATURE, HOT_RESET... import as raw`);

  let straceLog: StraceLog | null = null;
  let converter: StraceConverter | null = null;
  let straceEvents: ReturnType<StraceConverter['convert']> = [];
  if (stracePath !== undefined) {
    const anchor = snap?.info.startEpochNs != null ? { startEpochNs: snap.info.startEpochNs, utcOffsetSec: snap.info.utcOffsetSec } : null;
    straceLog = readStraceLog(readInput(stracePath, 'strace log'), stracePath, anchor);
    converter = new StraceConverter(stracePath, { iommuGroup: device.iommuGroup, cdev: snap?.cdev ?? null }, matcher);
    straceEvents = converter.convert(straceLog);
    if (straceEvents.length === 0) notes.push('the strace log holds no call on the device, its group or container, or KVM (was the right process traced?)');
  }
  let qemu: QemuLogResult | null = null;
  if (qemuPath !== undefined) {
    qemu = readQemuLog(readInput(qemuPath, 'QEMU log'), qemuPath, { bdf: device.bdf, guestBdf: inputs.guestBdf ?? '' });
  }
  const merged = mergeEvents(straceEvents, straceLog?.absolute ?? false, qemu?.events ?? [], qemu?.absolute ?? false, {
    strace: stracePath ?? '',
    qemu: qemuPath ?? '',
  });

  const sawKvm = merged.events.some((e) => e.kind === 'kvm-run' || e.kind === 'memslot');
  const cmdline = snap?.info.vmmCmdline ?? '';
  const accel: Accelerator =
    inputs.accel ?? (sawKvm || /accel=kvm|-enable-kvm|-accel\s+kvm/.test(cmdline) ? 'kvm' : /accel=tcg|-accel\s+tcg/.test(cmdline) ? 'tcg' : 'unknown');
  const header: TraceHeader = inputs.header
    ? { ...inputs.header, source: stracePath !== undefined ? 'strace' : 'qemu-log', tracerVersion: inputs.header.tracerVersion || inputs.tracerVersion }
    : {
        formatVersion: 1,
        source: stracePath !== undefined ? 'strace' : 'qemu-log',
        kernelRelease: snap?.info.kernelRelease ?? '',
        vmm: { name: inputs.vmm ?? vmmName(snap?.info.vmmExe ?? ''), version: inputs.vmmVersion ?? '', accel, options: vfioDeviceOptions(cmdline, device.bdf) },
        tracerVersion: snap?.info.tracerVersion || inputs.tracerVersion,
        device,
        title: inputs.title ?? '',
      };
  if (inputs.header) {
    if (inputs.vmm !== undefined) header.vmm = { ...header.vmm, name: inputs.vmm };
    if (inputs.vmmVersion !== undefined) header.vmm = { ...header.vmm, version: inputs.vmmVersion };
    if (inputs.accel !== undefined) header.vmm = { ...header.vmm, accel: inputs.accel };
    if (inputs.title !== undefined) header.title = inputs.title;
  }
  const report: ImportReport = {
    strace:
      straceLog && converter && stracePath !== undefined
        ? {
            file: stracePath,
            lines: straceLog.lines,
            clock: straceLog.clock,
            otherLines: straceLog.otherLines,
            orphanResumes: straceLog.orphanResumes,
            unfinishedAtEnd: straceLog.unfinishedAtEnd,
            stats: converter.stats,
          }
        : null,
    ioctlArgs:
      matcher && argsPath !== undefined
        ? { file: argsPath, records: matcher.log.records.length, paired: matcher.paired, unpaired: matcher.unpaired, lost: matcher.log.lost, otherLines: matcher.log.otherLines }
        : null,
    qemu:
      qemu && qemuPath !== undefined
        ? { file: qemuPath, lines: qemu.lines, otherLines: qemu.otherLines, unknown: qemu.unknown, skipped: qemu.skipped, otherDevice: qemu.otherDevice, mmapToggles: qemu.mmapToggles }
        : null,
    droppedForwards: merged.droppedForwards,
    notes,
  };
  return { trace: { header, events: merged.events }, report };
}

/** The report as the CLI prints it: a few lines, unknown things named with counts. */
export function renderReport(trace: Trace, report: ImportReport): string {
  const lines: string[] = [];
  const byKind = new Map<string, number>();
  for (const e of trace.events) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
  lines.push(`${trace.events.length} events: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  if (report.strace) {
    const s = report.strace;
    lines.push(
      `strace ${s.file}: ${s.lines} lines (clock ${s.clock}); not about the device ${s.stats.untrackedCalls}, ignored ${s.stats.ignoredCalls}` +
        (s.stats.setupIoctls ? `, container/group/iommufd set-up ioctls ${s.stats.setupIoctls}` : '') +
        (s.stats.deviceQueries ? `, device info queries ${s.stats.deviceQueries}` : '') +
        (s.stats.rawDeviceIoctls ? `, device ioctls without their struct (raw) ${s.stats.rawDeviceIoctls}` : '') +
        (s.stats.otherDeviceCalls ? `, other devices ${s.stats.otherDeviceCalls}` : '') +
        (s.stats.signalsOutsideMappings ? `, signals outside device mappings ${s.stats.signalsOutsideMappings}` : '') +
        (s.stats.undecodedMemslots ? `, memslot ioctls without a decoded struct ${s.stats.undecodedMemslots}` : '') +
        (s.otherLines ? `, other lines ${s.otherLines}` : '') +
        (s.orphanResumes ? `, resumed calls without their start ${s.orphanResumes}` : '') +
        (s.unfinishedAtEnd ? `, calls still in flight at the end ${s.unfinishedAtEnd}` : ''),
    );
  }
  if (report.ioctlArgs) {
    const a = report.ioctlArgs;
    lines.push(
      `ioctl arguments ${a.file}: ${a.records} records, ${a.paired} paired with strace calls` +
        (a.unpaired ? `, VFIO calls without a record ${a.unpaired}` : '') +
        (a.lost ? `, dropped by the kernel ${a.lost}` : '') +
        (a.otherLines ? `, other lines ${a.otherLines}` : ''),
    );
  }
  if (report.qemu) {
    const q = report.qemu;
    const skipped = [...q.skipped.values()].reduce((a, b) => a + b, 0);
    lines.push(
      `QEMU log ${q.file}: ${q.lines} lines; known but not imported ${skipped}` +
        (q.mmapToggles ? `, mmap toggles ${q.mmapToggles}` : '') +
        (q.otherDevice ? `, other devices ${q.otherDevice}` : '') +
        (q.otherLines ? `, non-trace lines ${q.otherLines}` : ''),
    );
    if (q.unknown.size > 0)
      lines.push(`unknown QEMU events (${[...q.unknown.values()].reduce((a, b) => a + b, 0)}): ${[...q.unknown].map(([n, c]) => `${n} x${c}`).join(', ')}`);
  }
  if (report.droppedForwards) lines.push(`host calls that were the VMM serving a logged guest access (merged): ${report.droppedForwards}`);
  for (const n of report.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
