// The importer: a tracer output directory (or explicit files) -> one Trace plus a report of what
// was read, skipped and not understood. Pure with respect to its inputs (reads files, writes
// nothing); the CLI writes the result only when this returned without error.

import { isSetupEvent } from '../trace/setup-requests.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { emptyDeviceSnapshot, emptyTraits, type Accelerator, type DeviceSnapshot, type DeviceTraits, type EventBody, type Trace, type TraceEvent, type TraceHeader } from '../trace/types.js';
import { detectKind, KIND_NAMES } from './detect.js';
import { readKernelLog, type KernelLog } from './dmesg.js';
import { readVmmLog, type VmmLog } from './libvirt-log.js';
import { fileLines } from './lines.js';
import { deviceFromCapture } from './infer-device.js';
import { pickLspciDevice, readLspci } from './lspci.js';
import { IoctlArgMatcher } from './ioctl-args.js';
import { isKvmEvent, mergeOrder, numberEvents, type MergedOrder } from './merge.js';
import { emptyQemuLogResult, qemuEvents, readQemuLog, type QemuEvent, type QemuLogResult } from './qemu-log.js';
import { DrainedTooEarly, STRACE_CALLS_USED, StraceConverter, type ImportedEvent, type StraceStats } from './strace-events.js';
import { emptyStraceLog, mergedStraceItems, readStraceLog, straceItems, type ClockAnchor, type StraceLog, type StraceWatch } from './strace-log.js';
import type { StraceItem } from './strace-lines.js';
import { alignBySequence } from './align.js';
import { OverlapSpans } from './overlap-spans.js';
import { OverlapStream } from './overlap-stream.js';
import { SpooledMerge } from './spooled-merge.js';
import { timeMerge } from './time-merge.js';
import { WindowExceeded } from './window-sort.js';
import type { VmmExit } from '../trace/types.js';
import { readSnapshot, type Snapshot } from './sysfs.js';
import { vfioDeviceOptions } from './vmm-options.js';

export interface ImportInputs {
  /** A vfio-trace output directory: strace.log, ioctl-args, info + sysfs/, qemu.log (each optional). */
  dir?: string;
  /** Inputs of any kind, told apart by their content (detect.ts): what a bug report attaches. */
  files?: string[];
  strace?: string;
  /** The tracer's ioctl argument capture (ftrace text of its vfio_ioctl event). */
  ioctlArgs?: string;
  /** A snapshot: vfio-trace output dir (info + sysfs/) or a sysfs device directory. */
  sysfs?: string;
  qemuLog?: string;
  /** libvirt's per-domain log or QEMU's stderr: version, command line, `kvm run failed`. */
  vmmLog?: string;
  /** `lspci -vvv -xxxx` output: the device snapshot when there is no sysfs copy. */
  lspci?: string;
  /** dmesg / journalctl -k: the kernel's lines about the device, the kernel release. */
  kernelLog?: string;
  /** Take the header (device snapshot, kernel, VMM) from this one instead of a snapshot. */
  header?: TraceHeader;
  vmm?: string;
  vmmVersion?: string;
  /** The VMM's command line (its device options: x-no-mmap, rombar, ...). */
  vmmCmdline?: string;
  kernelRelease?: string;
  /** The assigned device's host BDF, when the inputs do not say or name several. */
  bdf?: string;
  accel?: Accelerator;
  title?: string;
  guestBdf?: string;
  /** Write a trace without device events instead of refusing (item 8: no silent zero). */
  allowEmpty?: boolean;
  /** How far a log's stamps may go back in the streaming time merge (default MERGE_WINDOW). */
  mergeWindow?: number;
  /** Merge holding the whole input in memory, as before streaming (tests and benches compare). */
  holdWhole?: boolean;
  tracerVersion: string;
}

export interface ImportReport {
  strace: { file: string; lines: number; clock: string; otherLines: number; orphanResumes: number; unfinishedAtEnd: number; skippedCalls: number; stats: StraceStats } | null;
  ioctlArgs: { file: string; records: number; paired: number; unpaired: number; lost: number; otherLines: number } | null;
  qemu: { file: string; lines: number; otherLines: number; unknown: Map<string, number>; skipped: Map<string, number>; otherDevice: number; mmapToggles: number } | null;
  vmmLog: VmmLog | null;
  kernelLog: KernelLog | null;
  /** Which file each input was taken as (detected by content or given by flag). */
  inputs: string[];
  /** Where each header field came from when it was not a tracer snapshot. */
  provenance: string[];
  order: 'single' | 'time' | 'sequence';
  /** Whether the events were streamed through the spool or merged holding the whole input (not rendered). */
  merged: 'streamed' | 'whole';
  guestFaults: number;
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

/** `strace -ff -o F` names each task's file F.PID: the pid of a file's lines. */
function pidFromName(path: string): number {
  const m = /\.(\d+)$/.exec(path);
  return m ? Number(m[1]) : 0;
}

interface Sources {
  strace: string[];
  ioctlArgs?: string;
  snapshot?: string;
  qemuLog?: string;
  vmmLog?: string;
  lspci?: string;
  kernelLog?: string;
  used: string[];
}

/** Which input is what: flags first, then the directory's known names, then content detection. */
function gatherSources(inputs: ImportInputs): Sources {
  const src: Sources = { strace: inputs.strace !== undefined ? [inputs.strace] : [], used: [] };
  const set = (slot: Exclude<keyof Sources, 'strace' | 'used'>, path: string, how: string): void => {
    if (src[slot] !== undefined && src[slot] !== path) throw new UserError(`two inputs of one kind (${how}): ${src[slot]} and ${path}; pass one`, { file: path });
    src[slot] = path;
  };
  if (inputs.ioctlArgs !== undefined) src.ioctlArgs = inputs.ioctlArgs;
  if (inputs.sysfs !== undefined) src.snapshot = inputs.sysfs;
  if (inputs.qemuLog !== undefined) src.qemuLog = inputs.qemuLog;
  if (inputs.vmmLog !== undefined) src.vmmLog = inputs.vmmLog;
  if (inputs.lspci !== undefined) src.lspci = inputs.lspci;
  if (inputs.kernelLog !== undefined) src.kernelLog = inputs.kernelLog;
  const dirs = inputs.dir !== undefined ? [inputs.dir] : [];
  for (const f of inputs.files ?? []) {
    const kind = detectKind(f);
    src.used.push(`${f}: ${KIND_NAMES[kind]}`);
    switch (kind) {
      case 'empty':
        break;
      case 'tracer-dir':
        dirs.push(f);
        break;
      case 'sysfs-dir':
        set('snapshot', f, KIND_NAMES[kind]);
        break;
      case 'tracer-info':
        set('snapshot', dirname(f), KIND_NAMES[kind]);
        break;
      case 'strace':
        src.strace.push(f);
        break;
      case 'qemu-trace':
        set('qemuLog', f, KIND_NAMES[kind]);
        break;
      case 'ioctl-args':
        set('ioctlArgs', f, KIND_NAMES[kind]);
        break;
      case 'vmm-log':
        set('vmmLog', f, KIND_NAMES[kind]);
        break;
      case 'lspci':
        set('lspci', f, KIND_NAMES[kind]);
        break;
      case 'kernel-log':
        set('kernelLog', f, KIND_NAMES[kind]);
        break;
    }
  }
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError('not a directory', { file: dir });
    if (src.strace.length === 0 && existsSync(join(dir, 'strace.log'))) src.strace.push(join(dir, 'strace.log'));
    src.ioctlArgs ??= existsSync(join(dir, 'ioctl-args')) ? join(dir, 'ioctl-args') : undefined;
    src.snapshot ??= existsSync(join(dir, 'info')) ? dir : undefined;
    src.qemuLog ??= existsSync(join(dir, 'qemu.log')) ? join(dir, 'qemu.log') : undefined;
  }
  return src;
}

/**
 * An import whose events are made on demand: `events()` numbers them one at a time (the CLI writes
 * each as it comes; nothing holds a second copy of the trace). `kinds` counts them by kind.
 */
export interface ImportedTrace {
  header: TraceHeader;
  events(): Generator<TraceEvent>;
  kinds: Map<string, number>;
}

/** The whole import in memory: a Trace (tests, callers that look at the events). */
export function importTrace(inputs: ImportInputs): { trace: Trace; report: ImportReport } {
  const { imported, report } = importTraceStream(inputs);
  return { trace: { header: imported.header, events: [...imported.events()] }, report };
}

/**
 * How far the stamps of one log may go back in the streaming time merge: an event may come at most
 * this many events after one stamped later (window-sort.ts). Further out, the import is redone
 * holding the whole input, and says so.
 */
export const MERGE_WINDOW = 256;

/** A guess the streaming import made up front turned out wrong: redo it holding the whole input. */
class NotStreamable extends Error {}

/**
 * The import with the merged events spooled to disk and numbered on demand (bounded memory: see
 * docs/importing.md "Memory"); inputs the streaming merge cannot take (stamps further out of order
 * than MERGE_WINDOW, a -ff fork after its child's events were handed on) are merged whole.
 * `kinds` and `report.guestFaults` are complete once `events()` has been read to its end.
 */
export function importTraceStream(inputs: ImportInputs): { imported: ImportedTrace; report: ImportReport } {
  if (inputs.holdWhole) return importWith(inputs, { stream: false });
  try {
    return importWith(inputs, { stream: true });
  } catch (e) {
    if (e instanceof WindowExceeded) return importWith(inputs, { stream: false, note: `the ${e.what}'s stamps go back further than ${e.window} events: merged holding the whole input in memory` });
    if (e instanceof DrainedTooEarly) return importWith(inputs, { stream: false, note: `${e.message}: merged holding the whole input in memory` });
    if (e instanceof NotStreamable) return importWith(inputs, { stream: false });
    throw e;
  }
}

/** The strace input's items in log order: one log, or `strace -ff` files merged on their stamps. */
function straceItemStream(paths: string[], anchor: ClockAnchor | null, log: StraceLog, watch?: StraceWatch): Generator<StraceItem> {
  if (paths.length === 1) return straceItems(fileLines(paths[0]!, 'strace log'), paths[0]!, { anchor, keep: STRACE_CALLS_USED, ...(watch ? { watch } : {}) }, log);
  const files = paths.map((p) => ({ src: fileLines(p, 'strace log'), file: p, opts: { anchor, keep: STRACE_CALLS_USED, defaultPid: pidFromName(p) } }));
  return mergedStraceItems(files, log);
}

function importWith(inputs: ImportInputs, mode: { stream: boolean; note?: string }): { imported: ImportedTrace; report: ImportReport } {
  const notes: string[] = [];
  const provenance: string[] = [];
  const src = gatherSources(inputs);
  const stracePaths = src.strace;
  const argsPath = src.ioctlArgs;
  const qemuPath = src.qemuLog;
  if (stracePaths.length === 0 && qemuPath === undefined)
    throw new UserError(
      `nothing to import: no strace log and no QEMU log${inputs.dir !== undefined ? ` in ${inputs.dir}` : ''}` +
        (src.used.length ? ` (found ${src.used.join('; ')})` : ''),
    );

  const snap: Snapshot | null = src.snapshot !== undefined ? readSnapshot(src.snapshot) : null;
  let device = inputs.header?.device ?? snap?.device ?? emptyDeviceSnapshot();
  let driver = snap?.driver ?? '';
  if (!snap && !inputs.header && src.lspci !== undefined) {
    const l = pickLspciDevice(readLspci(readInput(src.lspci, 'lspci output'), src.lspci), inputs.bdf ?? '', src.lspci);
    device = l.device;
    driver = l.driver;
    provenance.push(`device snapshot from ${src.lspci} (lspci): ${l.inferred.join(', ')}; page size 4096 assumed`);
  }
  // Without sysfs or lspci, the QEMU log's set-up lines (and the config reads) stand in: read it first.
  const inferFromQemu = !snap && !inputs.header && src.lspci === undefined;
  const streaming = mode.stream;
  let qemu: QemuLogResult | null = null;
  // Streaming: whether the QEMU log has a guest event (not only host-op fallbacks), from its first read.
  const qemuGuest = { seen: false };
  if (inferFromQemu && qemuPath !== undefined) {
    qemu = readQemuLogFirst(qemuPath, { bdf: inputs.bdf ?? '', guestBdf: inputs.guestBdf ?? '' }, streaming, qemuGuest);
    if (qemu.setup.bdf !== '') device = { ...device, bdf: qemu.setup.bdf, iommuGroup: qemu.setup.iommuGroup };
  }
  if (driver !== '' && driver !== 'vfio-pci') notes.push(`the snapshot's device was bound to ${driver}, not vfio-pci`);
  if (inputs.bdf !== undefined && device.bdf === '') device = { ...device, bdf: inputs.bdf };

  if (argsPath !== undefined && stracePaths.length === 0) throw new UserError('an ioctl argument capture needs the strace log it belongs to (--strace)', { file: argsPath });
  // The capture is read in step with the strace calls it belongs to; what it says about itself
  // (a cut last record, records the kernel dropped) is known once it has been read to its end.
  const matcher = argsPath !== undefined ? IoctlArgMatcher.reading(fileLines(argsPath, 'ioctl argument capture'), argsPath) : null;
  const argNotesAt = notes.length;
  if (stracePaths.length > 0 && argsPath === undefined && snap?.info.ioctlArgs.startsWith('off'))
    notes.push(`the tracer captured no ioctl arguments (${snap.info.ioctlArgs}): SET_IRQS, FEATURE, HOT_RESET... import as raw`);

  let straceLog: StraceLog | null = null;
  let converter: StraceConverter | null = null;
  let straceEvents: ReturnType<StraceConverter['convert']> = [];
  const stracePath = stracePaths.length === 1 ? stracePaths[0]! : stracePaths.length > 1 ? `${commonPrefix(stracePaths)}* (${stracePaths.length} files)` : undefined;
  const qemuOpts = { bdf: inferFromQemu ? (inputs.bdf ?? '') : device.bdf, guestBdf: inputs.guestBdf ?? '' };
  // The QEMU log before strace: its BAR mappings place the faults of a strace attached after QEMU's
  // mmaps. Streaming, this first read keeps no events: they are read again beside strace.
  if (qemuPath !== undefined && qemu === null) qemu = readQemuLogFirst(qemuPath, qemuOpts, streaming, qemuGuest);
  const vmmLog = src.vmmLog !== undefined ? readVmmLog(fileLines(src.vmmLog, 'libvirt/QEMU log')) : null;
  // strace -t/-tt stamps are times of day: the tracer's info dates them, else the libvirt/QEMU
  // log's first dated line (libvirt's header, or QEMU's stderr with -msg timestamp=on), whose
  // UTC offset is taken for strace's local time (both logs come from the same host).
  const vmmDate = vmmLog?.date ?? null;
  const anchor: ClockAnchor | null =
    snap?.info.startEpochNs != null
      ? { startEpochNs: snap.info.startEpochNs, utcOffsetSec: snap.info.utcOffsetSec }
      : vmmDate !== null
        ? { startEpochNs: vmmDate.epochNs, utcOffsetSec: vmmDate.utcOffsetSec }
        : null;
  if (stracePaths.length > 0) converter = new StraceConverter(stracePath!, { iommuGroup: device.iommuGroup, cdev: snap?.cdev ?? null, bdf: device.bdf }, matcher, qemu?.barHostMappings ?? []);
  let merged: MergedOrder | null = null;
  let spooled: SpooledMerge | null = null;
  let droppedForwards = 0;
  let order: MergedOrder['order'] = 'single';
  if (streaming) {
    const r = streamMerge(stracePaths, converter, anchor, qemuPath ?? null, qemu, qemuGuest.seen, qemuOpts, inputs.mergeWindow ?? MERGE_WINDOW);
    straceLog = r.straceLog;
    spooled = r.spooled;
    droppedForwards = r.droppedForwards;
    order = r.order;
  } else {
    if (stracePaths.length > 0) {
      const conv = converter!;
      // Each call converted as it is read (-ff: the per-task files merged on their stamps).
      const log = emptyStraceLog();
      for (const it of straceItemStream(stracePaths, anchor, log)) conv.item(it, log.leaderPid);
      straceLog = log;
      straceEvents = conv.finish();
    }
    merged = mergeOrder(straceEvents, straceLog?.absolute ?? false, qemu?.events ?? [], qemu?.absolute ?? false, { strace: stracePath ?? '', qemu: qemuPath ?? '' }, qemu?.lastBars ?? null);
    droppedForwards = merged.droppedForwards;
    order = merged.order;
  }
  if (mode.note !== undefined) notes.push(mode.note);
  if (matcher) {
    const t = matcher.finish();
    const argNotes: string[] = [];
    if (t.cutLastLine) argNotes.push(`the ioctl argument capture ends inside a record (cut short); that record was dropped`);
    if (t.lost > 0) argNotes.push(`the kernel dropped ${t.lost} ioctl argument records (trace buffer full); the ioctls they belonged to import as raw`);
    notes.splice(argNotesAt, 0, ...argNotes);
  }
  if (snap?.info.startEpochNs == null && vmmLog?.date && straceLog?.clock === 'tod' && straceLog.absolute) {
    const d = vmmLog.date;
    const off = `${d.utcOffsetSec < 0 ? '-' : '+'}${String(Math.floor(Math.abs(d.utcOffsetSec) / 3600)).padStart(2, '0')}${String(Math.floor((Math.abs(d.utcOffsetSec) % 3600) / 60)).padStart(2, '0')}`;
    provenance.push(`date of the strace time-of-day stamps from ${vmmLog.file}:${d.line} (${new Date(Number(d.epochNs / 1_000_000n) + d.utcOffsetSec * 1000).toISOString().slice(0, 10)}, UTC${off})`);
  }
  if (inferFromQemu) {
    const d = qemu ? deviceFromCapture(qemu.setup, merged ? numberEvents(merged) : spooled!.events(qemu.lastBars, null)) : null;
    if (d) {
      device = d.device;
      provenance.push(`device snapshot from ${qemuPath} and the config reads: ${d.inferred.join('; ')}`);
    } else notes.push('no device snapshot: the header carries no config space or BARs (attach lspci -vvv -xxxx -s BDF, pass --sysfs, or import a vfio-trace directory)');
  }
  if (order === 'sequence')
    notes.push('the strace and QEMU logs share no clock (no date for strace -tt, or QEMU without -msg timestamp=on): interleaved by aligning the accesses both show');

  const kernelLog = src.kernelLog !== undefined ? readKernelLog(fileLines(src.kernelLog, 'kernel log'), device.bdf) : null;
  let lastExit: VmmExit | null = null;
  if (vmmLog?.kvmRunFailed) {
    // QEMU stops the VM when KVM_RUN fails (`kvm run failed Bad address` + a register dump).
    lastExit = { how: 'kvm-run-error', status: 0, signal: '', errno: vmmLog.kvmRunFailed.errno };
    const last = merged?.ordered[merged.ordered.length - 1];
    if (last && !last.observed?.vmmExit) last.observed = { ...last.observed, vmmExit: lastExit };
    notes.push(`${vmmLog.file}:${vmmLog.kvmRunFailed.line}: KVM_RUN failed with ${vmmLog.kvmRunFailed.errno}: the VMM stopped (observed on the last event)`);
  }
  for (const m of vmmLog?.messages.slice(0, 8) ?? []) notes.push(`VMM said: ${m}`);
  for (const m of kernelLog?.deviceLines.slice(0, 12) ?? []) notes.push(`kernel said: ${m}`);

  // The VMM and its options: flags, the tracer's info, libvirt's log, strace's execve, in that order.
  const exec = converter?.exec ?? null;
  const cmdline = inputs.vmmCmdline ?? (snap?.info.vmmCmdline || vmmLog?.cmdline || (exec && !exec.truncated ? exec.cmdline : ''));
  if (!inputs.vmmCmdline && !snap?.info.vmmCmdline) {
    if (vmmLog?.cmdline) provenance.push(`VMM command line from ${vmmLog.file}`);
    else if (exec && !exec.truncated) provenance.push(`VMM command line from the execve in ${stracePath}`);
    else if (exec?.truncated)
      notes.push(`the execve in ${stracePath} has arguments cut by strace -s: device options (x-no-mmap, rombar) unknown; attach the libvirt log or pass --vmm-cmdline`);
  }
  const exe = snap?.info.vmmExe || exec?.exe || (vmmLog?.cmdline.split(' ')[0] ?? '');
  const name = inputs.vmm ?? (vmmName(exe) || (qemu ? 'qemu' : ''));
  const version = inputs.vmmVersion ?? (snap?.info.vmmVersion || vmmLog?.qemuVersion || '');
  if (inputs.vmmVersion === undefined && !snap?.info.vmmVersion && version !== '') provenance.push(`VMM version ${version} from ${vmmLog!.file}`);
  const kernelRelease = inputs.kernelRelease ?? (snap?.info.kernelRelease || vmmLog?.kernelRelease || kernelLog?.kernelRelease || '');
  if (inputs.kernelRelease === undefined && !snap?.info.kernelRelease && kernelRelease !== '')
    provenance.push(`kernel release ${kernelRelease} from ${vmmLog?.kernelRelease ? vmmLog.file : kernelLog!.file}`);
  if (!inputs.header && name !== '' && version === '')
    notes.push(`no ${name} version in the capture: replay cannot choose a ${name} model (pass --vmm-version, or attach the libvirt log)`);
  if (!inputs.header && kernelRelease === '') notes.push('no kernel release in the capture: pass --kernel-release (uname -r of the host), or attach dmesg or the libvirt log');

  const sawKvm = merged ? merged.ordered.some(isKvmEvent) : spooled!.sawKvm;
  const accel: Accelerator =
    inputs.accel ?? (sawKvm || /accel=kvm|-enable-kvm|-accel\s+kvm/.test(cmdline) ? 'kvm' : /accel=tcg|-accel\s+tcg/.test(cmdline) ? 'tcg' : 'unknown');
  const source = stracePaths.length > 0 ? 'strace' : 'qemu-log';
  const header: TraceHeader = inputs.header
    ? { ...inputs.header, source, tracerVersion: inputs.header.tracerVersion || inputs.tracerVersion }
    : {
        formatVersion: 1,
        source,
        kernelRelease,
        vmm: { name, version, accel, options: vfioDeviceOptions(cmdline, device.bdf) },
        tracerVersion: snap?.info.tracerVersion || inputs.tracerVersion,
        device,
        title: inputs.title ?? '',
        ...(snap !== null && snap.info.moduleParams.length > 0 ? { moduleParams: snap.info.moduleParams } : {}),
        ...(snap !== null && snap.info.kernelCmdline.length > 0 ? { kernelCmdline: snap.info.kernelCmdline } : {}),
      };
  if (inputs.header) {
    if (inputs.vmm !== undefined) header.vmm = { ...header.vmm, name: inputs.vmm };
    if (inputs.vmmVersion !== undefined) header.vmm = { ...header.vmm, version: inputs.vmmVersion };
    if (inputs.accel !== undefined) header.vmm = { ...header.vmm, accel: inputs.accel };
    if (inputs.title !== undefined) header.title = inputs.title;
  }
  if (kernelLog !== null && kernelLog.pmRefuses.length > 0) {
    header.device = { ...header.device, traits: withRefusals(header.device.traits, kernelLog.pmRefuses) };
    provenance.push(`device refuses ${kernelLog.pmRefuses.join(', ')} (device-traits pm-refuses) from ${kernelLog.file}`);
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
            skippedCalls: straceLog.skippedCalls,
            stats: converter.stats,
          }
        : null,
    ioctlArgs:
      matcher && argsPath !== undefined
        ? { file: argsPath, records: matcher.tally.records, paired: matcher.paired, unpaired: matcher.unpaired, lost: matcher.tally.lost, otherLines: matcher.tally.otherLines }
        : null,
    qemu:
      qemu && qemuPath !== undefined
        ? { file: qemuPath, lines: qemu.lines, otherLines: qemu.otherLines, unknown: qemu.unknown, skipped: qemu.skipped, otherDevice: qemu.otherDevice, mmapToggles: qemu.mmapToggles }
        : null,
    vmmLog,
    kernelLog,
    inputs: src.used,
    provenance,
    order,
    merged: streaming ? 'streamed' : 'whole',
    guestFaults: merged?.guestFaults ?? 0,
    droppedForwards,
    notes,
  };
  const kinds = new Map<string, number>();
  if (merged) {
    for (const e of merged.ordered) kinds.set(e.body.kind, (kinds.get(e.body.kind) ?? 0) + 1);
    if (!inputs.allowEmpty) refuseEmpty(merged.ordered.some(isDeviceEvent), report, device, snap);
    const m = merged;
    return { imported: { header, kinds, events: () => numberEvents(m) }, report };
  }
  const sp = spooled!;
  if (!inputs.allowEmpty && !sp.sawDeviceEvent) {
    sp.close();
    refuseEmpty(false, report, device, snap);
  }
  const lastBars = qemu?.lastBars ?? null;
  let read = false;
  return {
    imported: {
      header,
      kinds,
      // One read: the spool goes when it is done (or given up).
      *events() {
        if (read) throw new Error('importTraceStream: events() read twice');
        read = true;
        try {
          yield* sp.events(lastBars, lastExit, (guestFaults, k) => {
            report.guestFaults = guestFaults;
            for (const [kind, n] of k) kinds.set(kind, n);
          });
        } finally {
          sp.close();
        }
      },
    },
    report,
  };
}

/**
 * The QEMU log read ahead of strace: whole, or (streaming) for everything but its events, noting
 * whether it has a guest event (mergeOrder drops the BAR mappings' DMA calls then).
 */
function readQemuLogFirst(path: string, opts: { bdf: string; guestBdf: string }, streaming: boolean, guest: { seen: boolean }): QemuLogResult {
  if (!streaming) return readQemuLog(fileLines(path, 'QEMU log'), path, opts);
  const res = emptyQemuLogResult();
  for (const e of qemuEvents(fileLines(path, 'QEMU log'), path, opts, res)) if (!e.fallback) guest.seen = true;
  return res;
}

/** KVM and the container/group set-up are not the device (a set-up of another group shows them too). */
function isDeviceEvent(e: { body: EventBody }): boolean {
  return !isKvmEvent(e) && !isSetupEvent(e.body);
}

/**
 * The streaming merge (pass one): strace converted as it is read (one log, or -ff files merged on
 * their stamps), the QEMU log read beside it, the two merged on their stamps (time-merge.ts), by
 * aligning the accesses both show when they share no clock (align.ts), or taken alone; every event
 * spooled in trace order (spooled-merge.ts) with its overlap id (overlap-stream.ts; -ff:
 * overlap-spans.ts). Throws NotStreamable when an input turns out to need the whole-input merge,
 * WindowExceeded when its stamps are too far out of order, DrainedTooEarly when a -ff fork comes
 * after its child's events were handed on.
 */
function streamMerge(
  stracePaths: string[],
  converter: StraceConverter | null,
  anchor: ClockAnchor | null,
  qemuPath: string | null,
  qemu: QemuLogResult | null,
  qemuGuest: boolean,
  qemuOpts: { bdf: string; guestBdf: string },
  window: number,
): { straceLog: StraceLog | null; spooled: SpooledMerge; droppedForwards: number; order: MergedOrder['order'] } {
  const haveStrace = stracePaths.length > 0;
  const ff = stracePaths.length > 1;
  const straceLog = haveStrace ? emptyStraceLog() : null;
  const watch: StraceWatch = { lowWater: 0, forkLowWater: 0 };
  let straceCount = 0;
  let qemuCount = 0;
  const both = haveStrace && qemuPath !== null;
  let straceAbsolute: boolean | null = null;
  if (both) {
    // strace's clock is known from its first stamped line: peek at it.
    const peek = emptyStraceLog();
    const it = straceItemStream(stracePaths, anchor, peek);
    try {
      it.next();
    } finally {
      it.return(undefined);
    }
    straceAbsolute = peek.absolute;
  }
  // Both logs stamped: a time merge; no shared clock: sequence alignment; one log: its own order.
  const order: MergedOrder['order'] = !both ? 'single' : straceAbsolute && qemu!.absolute ? 'time' : 'sequence';
  // -ff: each file numbers its own lines, so no line says where later calls start.
  const spans = ff ? new OverlapSpans() : null;
  const spooled = new SpooledMerge(order, spans);
  try {
    const overlaps = new OverlapStream(spooled.overlap);
    const conv = converter;
    if (conv) conv.onEdit = spooled.edited;
    const took = (e: ImportedEvent): void => {
      if (spans) spans.add(e.startLine, e.endLine);
      else overlaps.add(e);
      straceCount++;
    };
    function* straceEvents(): Generator<ImportedEvent> {
      if (!haveStrace || !conv || !straceLog) return;
      for (const it of straceItemStream(stracePaths, anchor, straceLog, ff ? undefined : watch)) {
        conv.item(it, straceLog.leaderPid);
        // -ff: no line bounds where a later clone starts; the converter says if a fork comes too late.
        for (const e of conv.drain(ff ? Infinity : watch.forkLowWater)) {
          took(e);
          yield e;
        }
        if (!ff) overlaps.advance(watch.lowWater);
      }
      conv.finish();
      for (const e of conv.drain(Infinity)) {
        took(e);
        yield e;
      }
      if (!ff) overlaps.finish();
    }
    function* qemuStream(): Generator<QemuEvent> {
      if (qemuPath === null) return;
      for (const e of qemuEvents(fileLines(qemuPath, 'QEMU log'), qemuPath, { ...qemuOpts, onEdit: spooled.edited }, emptyQemuLogResult())) {
        qemuCount++;
        yield e;
      }
    }
    const stats = { droppedForwards: 0, reordered: false };
    if (order === 'sequence') {
      // mergeOrder's sequence branch: the aligned pairs' duplicates and, once the QEMU log showed a
      // guest event, the BAR mappings' DMA calls leave the trace, but the fault translation still
      // steps over them (spooled as dropped).
      const dropped = new Set<ImportedEvent>();
      const pairs = { pairs: 0 };
      let barDma = 0;
      for (const e of alignBySequence(straceEvents(), qemuStream(), dropped, pairs)) {
        if (dropped.delete(e)) spooled.addDropped(e);
        else if (qemuGuest && e.barDma) {
          spooled.addDropped(e);
          barDma++;
        } else spooled.add(e);
      }
      stats.droppedForwards = pairs.pairs + barDma;
    } else {
      const events = both ? timeMerge(straceEvents(), qemuStream(), window, stats) : haveStrace ? straceEvents() : qemuStream();
      for (const e of events) spooled.add(e);
    }
    if (both) {
      if (straceLog!.absolute !== straceAbsolute) throw new NotStreamable('strace clock guessed wrong');
      // mergeOrder merges on time only when both logs are stamped and both made events; else each
      // alone keeps its own order, which the time merge kept too unless it had to sort.
      if (order === 'time' && (straceCount === 0 || qemuCount === 0) && stats.reordered) throw new NotStreamable('one log alone, out of order');
    }
    // ('single' and 'time' count the same stamps; a sequence merge of one log alone is that log.)
    const single = !both || straceCount === 0 || qemuCount === 0;
    const final = single ? 'single' : order;
    spooled.settle(final);
    return { straceLog, spooled, droppedForwards: stats.droppedForwards, order: final };
  } catch (e) {
    spooled.close();
    throw e;
  }
}

/** Item 8, no silent zero: an import without any device event says what it looked for and found. */
function refuseEmpty(hasDeviceEvent: boolean, report: ImportReport, device: DeviceSnapshot, snap: Snapshot | null): void {
  if (hasDeviceEvent) return;
  const looked: string[] = [];
  const found: string[] = [];
  const s = report.strace;
  if (s) {
    looked.push(
      device.iommuGroup >= 0
        ? `VFIO_GROUP_GET_DEVICE_FD on /dev/vfio/${device.iommuGroup} (IOMMU group of ${device.bdf || 'the snapshot device'})` + (snap?.cdev ? ` or ${snap.cdev}` : '')
        : 'VFIO_GROUP_GET_DEVICE_FD on any group, a vfio cdev, or -y annotated device fds',
    );
    found.push(
      `${s.file}: ${s.lines} lines, ${s.stats.otherDeviceCalls} calls on other devices, ${s.stats.setupEvents} container/group set-up calls, ${s.stats.setupIoctls} other container/group/iommufd ioctls, ${s.stats.untrackedCalls + s.skippedCalls} other calls`,
    );
  }
  const q = report.qemu;
  if (q) {
    looked.push(`vfio_*/pci_* events of ${device.bdf || 'the first vfio-pci device'}`);
    found.push(`${q.file}: ${q.lines} lines, ${q.otherDevice} of other devices, ${[...q.unknown.values()].reduce((a, b) => a + b, 0)} unknown events`);
  }
  throw new UserError(
    `no device events: looked for ${looked.join('; ')}; found ${found.join('; ')}. ` +
      'Check the BDF/IOMMU group of the snapshot against the capture (--bdf, --sysfs), or pass --allow-empty to write the trace anyway',
  );
}

function commonPrefix(paths: string[]): string {
  let p = paths[0] ?? '';
  for (const x of paths) while (!x.startsWith(p)) p = p.slice(0, -1);
  return p;
}

/** The report as the CLI prints it: a few lines, unknown things named with counts. */
export function renderReport(trace: Trace | ImportedTrace, report: ImportReport): string {
  const lines: string[] = [];
  let byKind: Map<string, number>;
  if ('kinds' in trace) byKind = trace.kinds;
  else {
    byKind = new Map<string, number>();
    for (const e of trace.events) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
  }
  const total = [...byKind.values()].reduce((a, b) => a + b, 0);
  lines.push(`${total} events: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  if (report.inputs.length) lines.push(`inputs: ${report.inputs.join('; ')}`);
  for (const p of report.provenance) lines.push(`inferred: ${p}`);
  if (report.strace) {
    const s = report.strace;
    lines.push(
      `strace ${s.file}: ${s.lines} lines (clock ${s.clock}); not about the device ${s.stats.untrackedCalls + s.skippedCalls}, ignored ${s.stats.ignoredCalls}` +
        (s.stats.attachedGroups ? `, GET_DEVICE_FD on a group fd opened before the capture ${s.stats.attachedGroups}` : '') +
        (s.stats.failedDeviceOpens ? `, failed GET_DEVICE_FD (no open) ${s.stats.failedDeviceOpens}` : '') +
        (s.stats.namesFromResult ? `, GET_DEVICE_FD names not shown, taken from the device fd they returned ${s.stats.namesFromResult}` : '') +
        (s.stats.attachedDeviceFd >= 0 ? `, device fd opened before the capture (a config-region access on it) ${s.stats.attachedDeviceFd}` : '') +
        (s.stats.faultsPlacedByQemuLog ? `, faults placed by the QEMU log's BAR mappings ${s.stats.faultsPlacedByQemuLog}` : '') +
        (s.stats.barBuffers ? `, pread/pwrite buffers in a BAR mapping (buf=) ${s.stats.barBuffers}` : '') +
        (s.stats.barBufferWritesFromLastAccess ? `, of them pwrites whose bytes strace could not read, taken from the last access that showed those BAR bytes ${s.stats.barBufferWritesFromLastAccess}` : '') +
        (s.stats.barBufferWritesWithoutData ? `, of them pwrites whose bytes strace could not read, unknown (zeros) ${s.stats.barBufferWritesWithoutData}` : '') +
        (s.stats.fdAliases ? `, dup/dup2/dup3/F_DUPFD of a VFIO, iommufd or KVM fd (events name its file by its first number) ${s.stats.fdAliases}` : '') +
        (s.stats.aliasCloses ? `, closes of one of several numbers of a file (no close) ${s.stats.aliasCloses}` : '') +
        (s.stats.fdRenamed ? `, container/group files opened at the number an alias-kept one is named by (named from 1000000 up) ${s.stats.fdRenamed}` : '') +
        (s.stats.fdNameClashes ? `, WARNING iommufds opened at the number an alias-kept one is named by (the replay may confuse them) ${s.stats.fdNameClashes}` : '') +
        (s.stats.setupEvents ? `, container/group set-up calls (as set-up events) ${s.stats.setupEvents}` : '') +
        (s.stats.setupIoctls ? `, other container/group/iommufd ioctls ${s.stats.setupIoctls}` : '') +
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
  if (report.vmmLog) {
    const v = report.vmmLog;
    lines.push(
      `VMM log ${v.file}: ${v.lines} lines` +
        (v.qemuVersion ? `; qemu version ${v.qemuVersion}` : '') +
        (v.cmdline ? '; command line' : '') +
        (v.kvmRunFailed ? `; kvm run failed (${v.kvmRunFailed.errno})` : '') +
        (v.registerDumpLines ? `; register dump ${v.registerDumpLines}` : '') +
        (v.shutdownReason ? `; shutdown reason ${v.shutdownReason}` : '') +
        (v.messages.length ? `; device messages ${v.messages.length}` : '') +
        (v.otherLines ? `; other lines ${v.otherLines}` : ''),
    );
  }
  if (report.kernelLog) {
    const k = report.kernelLog;
    lines.push(
      `kernel log ${k.file}: ${k.lines} lines; about the device ${k.deviceLines.length}, other vfio ${k.vfioLines}, other ${k.otherLines}` +
        (k.kernelRelease ? `, kernel release ${k.kernelRelease}` : '') +
        (k.markerLines ? `, journalctl markers ${k.markerLines}` : '') +
        (k.unknownLines ? `, not understood (no dmesg/journal prefix) ${k.unknownLines}` : ''),
    );
  }
  if (report.guestFaults) lines.push(`faults in BAR mappings the guest had (the guest access that faulted): ${report.guestFaults}`);
  if (report.droppedForwards) lines.push(`host calls that were the VMM serving a logged guest access (merged): ${report.droppedForwards}`);
  for (const n of report.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

/** `traits` with `states` added to pm-refuses (the kernel log's refusals), source dmesg when unset. */
function withRefusals(traits: DeviceTraits | undefined, states: readonly string[]): DeviceTraits {
  const t = traits ?? emptyTraits();
  const pmRefuses = [...t.pmRefuses, ...states.filter((s) => !t.pmRefuses.includes(s))];
  return { ...t, pmRefuses, dStates: t.dStates.filter((s) => !pmRefuses.includes(s)), source: t.source || 'dmesg' };
}
