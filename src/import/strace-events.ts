// strace calls -> trace events. Decides what each call on a tracked fd means for the device:
//
//  pread64/pwrite64/preadv/pwritev on the device fd: the file offset encodes the region
//    (index << 40, VFIO_PCI_OFFSET_SHIFT): index 7 -> cfg-read/cfg-write, others -> region-read/
//    region-write (BAR 0-5, ROM 6, VGA 8, device-specific >= 9). Bytes come from the -xx strings.
//  mmap of the device fd -> mmap (region from the offset); munmap of a range that overlaps a device
//    mapping -> munmap. The importer keeps the mappings to place faults.
//  SIGBUS/SIGSEGV whose si_addr lies in a device mapping -> a `mem-read` of 1 byte at that BAR
//    offset, observed signal (si_code, si_addr). strace cannot see whether the faulting instruction
//    was a load or a store, nor its width; the vfio fault handler decides per page on neither, so a
//    1-byte load is the faithful minimum. CPU accesses that did not fault are invisible to strace
//    and are not in the trace.
//  ioctl: the request number is recovered from whatever strace printed and named by the fd kind.
//    VFIO_GROUP_GET_DEVICE_FD on the device's group -> open; openat of /dev/iommu and of the
//    device's /dev/vfio/devices/vfioN, BIND/ATTACH/DETACH on the cdev and the /dev/iommu ioctls
//    whose struct was captured -> iommufd-events.ts; VFIO_DEVICE_RESET -> reset; the read-only
//    device queries (GET_INFO, GET_REGION_INFO, GET_IRQ_INFO, GET_PCI_HOT_RESET_INFO,
//    QUERY_GFX_PLANE) and the container/group set-up calls are counted, not imported (they change no device state,
//    and strace shows only the address of their struct); every other device ioctl (SET_IRQS,
//    FEATURE, IOEVENTFD, HOT_RESET, ...) -> `raw` with empty argument bytes: strace does not decode
//    VFIO structs, so the replay can only report it as unsupported.
//    With the tracer's ioctl-args capture (ioctl-args.ts) each VFIO ioctl gets its struct bytes
//    instead, and decodes (vfio-structs.ts) to what it was: the device queries, set-irqs,
//    hot-reset, ioeventfd, low-power, dma-buf and other features, and the container's MAP_DMA /
//    UNMAP_DMA -> map-dma / unmap-dma. A struct the capture holds only in part stays `raw`, with
//    the bytes it has. KVM_SET_USER_MEMORY_REGION (decoded by strace) -> memslot;
//    KVM_RUN -> kvm-run with the result; a vCPU whose last KVM_RUN failed (not EINTR/EAGAIN) marks
//    the VMM stopped (vmm-exit kvm-run-error).
//  close of the device fd -> close. `+++ killed by SIG +++` of the leader -> vmm-exit on the last event.
//  `-1 ERRNO` -> observed errno; `= ?` (the task died in the call) and calls still in flight when
//  the log ended -> observed blocked.
// Events are ordered by when the call returned; calls in flight at the same time share an overlap id.

import { SysfsFiles } from './sysfs-ops.js';
import { UserError } from '../errors.js';
import type { EventBody, Observed, SignalInfo, UserBuf } from '../trace/types.js';
import { REGION_CONFIG } from '../trace/types.js';
import { FdTable, classifyPath, type Closed, type DeviceSelector, type FdInfo, type Resolved } from './fd-table.js';
import { withFileNames } from './fd-names.js';
import type { IoctlArgMatcher } from './ioctl-args.js';
import type { BarHostMapping } from './qemu-log.js';
import { KVM, isVfioRequest, requestNumber, setupArgByName, vfioName } from './ioctl-names.js';
import { looksLikePciName, sameDevice } from '../trace/setup-requests.js';
import { VFIO_SETUP } from '../trace/types.js';
import type { StraceCall, StraceItem, StraceReturn } from './strace-lines.js';
import type { StraceLog } from './strace-log.js';
import { checked, checkedNumber } from './numbers.js';
import { argBytes, decodeContainerIoctl, decodeDeviceIoctl } from './vfio-structs.js';
import { ATTACH_IOMMUFD_PT, BIND_IOMMUFD, DETACH_IOMMUFD_PT, cdevIoctl, iommufdIoctl, openEvent } from './iommufd-events.js';
import {
  SyntaxProblem,
  parseFdArg,
  parseInteger,
  parseStringArg,
  parseStructFields,
  splitComment,
  splitTopLevel,
  type Piece,
} from './strace-text.js';

/** The NUL-terminated string at the start of captured argument bytes ("" without a capture). */
function cString(bytes: Uint8Array | null): string {
  if (bytes === null) return '';
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString('latin1');
}

/** One event as the strace importer produced it, before merging and numbering. */
export interface ImportedEvent {
  body: EventBody;
  observed?: Observed;
  tid: number;
  /** Clock of the return (or the signal), on the log's scale; null if the log has no stamps. */
  ns: bigint | null;
  /** Lines in flight: [startLine, endLine] of the call (a signal is a point). */
  startLine: number;
  endLine: number;
  source: 'strace' | 'qemu';
  /** 1-based source line, for messages. */
  line: number;
  /**
   * A type1 MAP_DMA of a vaddr inside a device BAR mapping, or the UNMAP_DMA of such a range: what
   * a VMM's DMA listener does when the guest turns memory decode on or off. With the guest's side
   * merged in, the VMM model derives these itself (merge.ts drops strace's copy).
   */
  barDma?: boolean;
  /**
   * A fault inside a device BAR mapping (the body is the host-side `mem-read`): when the guest had
   * that BAR placed (QEMU's pci_update_mappings_add), the merge turns it into the guest access.
   */
  fault?: { bar: number; offset: bigint };
  /** The process (as the trace numbers it: a forked child's pid) when not the traced VMM. */
  pid?: number;
  /**
   * A pread/pwrite of a BAR that failed: QEMU traces vfio_region_read/write only on success and
   * gives the guest all-ones for a failed read, so with the guest side merged in, an unpaired
   * failed BAR access is the guest's trapped access (merge.ts), when the guest had the BAR placed.
   */
  trapped?: { bar: number; offset: bigint; len: number; write: bigint | null };
}

/** The syscalls the converter reads; the strace reader counts the others without keeping them. */
export const STRACE_CALLS_USED: ReadonlySet<string> = new Set(['execve', 'openat', 'open', 'close', 'ioctl', 'pread64', 'pwrite64', 'preadv', 'pwritev', 'mmap', 'munmap', 'read', 'write', 'clone', 'clone3', 'fork', 'vfork', 'dup', 'dup2', 'dup3', 'fcntl', 'fcntl64']);

/** The VMM's command line from its execve (argv joined by spaces), and whether -s cut an argument. */
export interface ExecInfo {
  exe: string;
  cmdline: string;
  truncated: boolean;
}

export interface StraceStats {
  /** Calls the importer read but that concern no tracked fd (libc loading files, sockets, ...). */
  untrackedCalls: number;
  /** Calls on tracked fds of kinds or numbers the trace has no event for (other KVM ioctls). */
  ignoredCalls: number;
  /** Device fds of another assigned device (not the snapshot's). */
  otherDeviceCalls: number;
  signalsOutsideMappings: number;
  /** Memslot ioctls whose struct strace did not decode. */
  undecodedMemslots: number;
  /** Container, group and iommufd ioctls: set-up of the IOMMU side, not operations on the device. */
  setupIoctls: number;
  /** Read-only device queries (GET_INFO, GET_REGION_INFO, ...) whose argument strace cannot show. */
  deviceQueries: number;
  /** Device ioctls imported as `raw`: no captured argument, or one too short for its struct. */
  rawDeviceIoctls: number;
  /** GET_DEVICE_FD calls on an fd the log never showed opened (strace attached to a running VMM). */
  attachedGroups: number;
  /** GET_DEVICE_FD calls that failed: imported as the group ioctl they were, not as an open. */
  failedDeviceOpens: number;
  /** Container/group opens, closes and set-up ioctls imported as set-up events. */
  setupEvents: number;
  /** Successful GET_DEVICE_FD calls whose name strace did not show: named after the device they opened. */
  namesFromResult: number;
  /** The device fd when the log never showed it opened (strace attached later), found by a config-region access; -1 none. */
  attachedDeviceFd: number;
  /** Faults placed in a BAR by QEMU's log (the BAR mmaps predate an attached strace). */
  faultsPlacedByQemuLog: number;
  /** pread/pwrite whose user buffer lies in a BAR mapping of the same device (`buf=barN+off`). */
  barBuffers: number;
  /** Of those, pwrites: strace could not show the bytes; none showed them before (zeros stand for them). */
  barBufferWritesWithoutData: number;
  /** Of those, pwrites whose bytes the last pread/pwrite of the same BAR bytes showed. */
  barBufferWritesFromLastAccess: number;
  /** dup/dup2/dup3/fcntl(F_DUPFD*) calls that gave a file another number (fd-table.ts). */
  fdAliases: number;
  /** Closes (or dup2 targets, close-on-exec at execve) of a device, group or container number whose file another number of the process still had: no close for the file. */
  aliasCloses: number;
  /** iommufds opened at the number another live iommufd is named by (an alias kept it open): the replay may confuse the two. */
  fdNameClashes: number;
  /** Container/group files opened at the number another live one is named by: named from 1000000 up (fd-table.ts FRESH_NAMES). */
  fdRenamed: number;
}

/**
 * Device ioctls that only report (argsz-versioned info structs): they change no device state, and
 * without the struct (strace prints only its address) neither their request nor their answer can
 * be compared, so they are counted, not imported.
 */
const DEVICE_QUERIES = new Set([0x3b6b, 0x3b6c, 0x3b6d, 0x3b70, 0x3b72]);
const CDEV_IOCTLS = new Set([BIND_IOMMUFD, ATTACH_IOMMUFD_PT, DETACH_IOMMUFD_PT]);

const OFFSET_SHIFT = 40n;
const OFFSET_MASK = (1n << OFFSET_SHIFT) - 1n;
const U64 = 1n << 64n;

const SIGNO: Record<string, string> = { '7': 'SIGBUS', '11': 'SIGSEGV' };
const SI_CODES: Record<string, Record<number, string>> = {
  SIGBUS: { 1: 'BUS_ADRALN', 2: 'BUS_ADRERR', 3: 'BUS_OBJERR', 4: 'BUS_MCEERR_AR', 5: 'BUS_MCEERR_AO' },
  SIGSEGV: { 1: 'SEGV_MAPERR', 2: 'SEGV_ACCERR', 3: 'SEGV_BNDERR', 4: 'SEGV_PKUERR', 5: 'SEGV_ACCADI', 6: 'SEGV_ADIDERR', 7: 'SEGV_ADIPERR', 8: 'SEGV_MTEAERR', 9: 'SEGV_MTESERR', 10: 'SEGV_CPERR' },
};
const GENERIC_CODES: Record<number, string> = { 0: 'SI_USER', 128: 'SI_KERNEL', [-1]: 'SI_QUEUE', [-6]: 'SI_TKILL' };
const SIGNAL_NUMBERS: Record<string, number> = { SIGBUS: 7, SIGSEGV: 11, SIGKILL: 9, SIGABRT: 6, SIGTERM: 15, SIGINT: 2, SIGILL: 4, SIGFPE: 8, SIGTRAP: 5, SIGSYS: 31 };

interface Mapping {
  addr: bigint;
  length: bigint;
  region: number;
  offset: bigint; // offset within the region of `addr`
  /** The process whose address space holds it, as the trace numbers processes (0 = the VMM). */
  pid: number;
}

const PROT_BITS: Record<string, number> = { PROT_NONE: 0, PROT_READ: 1, PROT_WRITE: 2, PROT_EXEC: 4, PROT_SEM: 8 };

/** A fork belongs before an event that drain() already handed out (see drain). */
export class DrainedTooEarly extends Error {
  constructor(file: string, line: number) {
    super(`${file}:${line}: this fork's child made events stamped before it (strace -ff files disagree)`);
  }
}

export class StraceConverter {
  readonly events: ImportedEvent[] = [];
  readonly stats: StraceStats = {
    untrackedCalls: 0,
    ignoredCalls: 0,
    otherDeviceCalls: 0,
    signalsOutsideMappings: 0,
    undecodedMemslots: 0,
    setupIoctls: 0,
    deviceQueries: 0,
    rawDeviceIoctls: 0,
    attachedGroups: 0,
    failedDeviceOpens: 0,
    setupEvents: 0,
    namesFromResult: 0,
    attachedDeviceFd: -1,
    faultsPlacedByQemuLog: 0,
    barBuffers: 0,
    barBufferWritesWithoutData: 0,
    barBufferWritesFromLastAccess: 0,
    fdAliases: 0,
    aliasCloses: 0,
    fdNameClashes: 0,
    fdRenamed: 0,
  };
  /** The traced VMM's execve, when the log has it. */
  exec: ExecInfo | null = null;

  private readonly fds: FdTable;
  private mappings: Mapping[] = [];
  private readonly lastRunByVcpu = new Map<number, ImportedEvent>();
  /** iova/size of the MAP_DMAs of BAR mappings still mapped (their UNMAP_DMA is one too). */
  private readonly barDmas = new Set<string>();
  /** The newest /dev/iommu fd the log opened: the iommufd of a BIND whose struct was not captured. */
  private iommufdFd = -1;
  /**
   * Task -> its process as the trace numbers it: a child made by fork/vfork/clone without
   * CLONE_VM|CLONE_THREAD is its own pid (events `pid=N`), a thread is its creator's; tasks never
   * seen created are the traced VMM (0). -1 = a child that has exec'd or exited (gone for the device).
   */
  private readonly procOf = new Map<number, number>();

  /** vfork children: they borrow the parent's memory until their execve, which ends nothing of the parent's. */
  private readonly vforked = new Set<number>();

  private processOf(tid: number): number {
    return this.procOf.get(tid) ?? 0;
  }

  constructor(
    private readonly file: string,
    selector: DeviceSelector,
    /** The tracer's ioctl argument capture, when there is one. */
    private readonly argCapture: IoctlArgMatcher | null = null,
    /** QEMU's own BAR mappings from its log (qemu-log.ts): where faults land when the log has no device mmap. */
    private readonly qemuBarMappings: readonly BarHostMapping[] = [],
  ) {
    this.fds = new FdTable(selector);
    this.sysfs = new SysfsFiles(selector.bdf ?? '');
  }

  convert(log: StraceLog): ImportedEvent[] {
    for (const item of log.items) this.item(item, log.leaderPid);
    return this.finish();
  }

  /** After the last item (streamed through `item`): the vCPUs' last KVM_RUN results. */
  finish(): ImportedEvent[] {
    this.stats.fdNameClashes = this.fds.nameClashes;
    this.stats.fdRenamed = this.fds.renamed;
    for (const ev of this.lastRunByVcpu.values()) {
      const errno = ev.observed?.errno;
      if (errno !== undefined && errno !== 'EINTR' && errno !== 'EAGAIN') {
        ev.observed = { ...ev.observed, vmmExit: { how: 'kvm-run-error', status: 0, signal: '', errno } };
        this.onEdit?.(ev);
      }
    }
    return this.events;
  }

  /**
   * Streaming (importer.ts): takes the events no later call can move or renumber. A fork is put
   * before the first event of its child that started after the clone did, so an event that starts
   * on or before the lowest line a later clone can start on (`forkLowWater`, strace-log.ts
   * StraceWatch) stays where it is. Later changes to taken events (a kill, a vCPU's last failed
   * KVM_RUN) are reported to `onEdit` instead.
   */
  drain(forkLowWater: number): ImportedEvent[] {
    let n = 0;
    while (n < this.events.length && this.events[n]!.startLine <= forkLowWater) n++;
    if (n === 0) return [];
    const out = this.events.splice(0, n);
    for (const e of out) if (e.startLine > (this.drainedLast.get(e.tid) ?? 0)) this.drainedLast.set(e.tid, e.startLine);
    return out;
  }

  /** Per task, the highest start line of its events taken by drain() (a fork must not go before one). */
  private readonly drainedLast = new Map<number, number>();

  /** Called after an event handed out earlier was changed (its `observed`): see drain(). */
  onEdit: ((ev: ImportedEvent) => void) | null = null;
  /** The event last appended: the one a `+++ killed by` line marks. */
  private lastEvent: ImportedEvent | undefined;

  item(item: StraceItem, leader: number): void {
    if (item.type === 'signal') {
      try {
        return this.signal(item);
      } catch (e) {
        if (e instanceof SyntaxProblem) throw new UserError(`signal ${item.signal}: ${e.message}`, { file: this.file, line: item.line, column: e.column + 1 });
        throw e;
      }
    }
    if (item.type === 'exit') {
      // A forked child ends: its mappings and fds go (power's process-exit).
      if (this.processOf(item.pid) === item.pid && item.pid > 0) this.childGone(item.pid, { tid: item.pid, ns: item.ns, line: item.line });
      // The VMM (thread-group leader) died of a signal: the observation belongs to what killed it,
      // the last event before (normally the faulting access the signal line produced).
      if (item.how === 'killed' && (item.pid === leader || leader === 0)) {
        const last = this.lastEvent;
        if (last && !last.observed?.vmmExit) {
          const signo = SIGNAL_NUMBERS[item.signal] ?? (Number(item.signal) || 0);
          if (signo > 127) throw new UserError(`killed by signal ${item.signal}: not a signal number`, { file: this.file, line: item.line });
          last.observed = { ...last.observed, vmmExit: { how: 'signaled', status: 128 + signo, signal: SIGNO[item.signal] ?? item.signal, errno: '' } };
          this.onEdit?.(last);
        }
      }
      return;
    }
    try {
      this.call(item);
    } catch (e) {
      if (item.blocked && e instanceof SyntaxProblem) {
        this.stats.ignoredCalls++; // strace printed only part of the arguments before the call blocked
        return;
      }
      if (e instanceof SyntaxProblem) {
        throw new UserError(`${item.name}: ${e.message}`, { file: this.file, line: item.startLine, column: e.column + 1 });
      }
      throw e;
    }
  }

  private push(call: StraceCall, body: EventBody, observed: Observed | undefined): ImportedEvent {
    const pid = this.processOf(call.pid);
    const ev: ImportedEvent = {
      body,
      tid: call.pid,
      ns: call.endNs ?? call.startNs,
      startLine: call.startLine,
      endLine: call.endLine,
      source: 'strace',
      line: call.startLine,
      ...(observed ? { observed } : {}),
      ...(pid > 0 ? { pid } : {}),
    };
    this.events.push(ev);
    this.lastEvent = ev;
    return ev;
  }

  private args(call: StraceCall, min: number): Piece[] {
    const a = splitTopLevel(call.args, call.argsColumn);
    if (a.length < min && !call.blocked) throw new SyntaxProblem(`expected ${min} arguments, found ${a.length}`, call.argsColumn);
    if (a.length < min) throw new SyntaxProblem('partial arguments', call.argsColumn);
    return a;
  }

  /** Whether a data call (pread/pwrite, mmap) is on the traced device's fd; counts the others. */
  private onTracedDevice(f: FdInfo): boolean {
    if (f.kind !== 'device') {
      this.stats.untrackedCalls++;
      return false;
    }
    if (!f.ours) {
      this.stats.otherDeviceCalls++;
      return false;
    }
    return true;
  }

  /** What an fd argument of `tid`'s call refers to: `fd` as called, `name` as events name its file. */
  private fdOf(p: Piece, tid: number): Resolved {
    const f = parseFdArg(p.text, p.column);
    if (!f) throw new SyntaxProblem(`expected an fd, found "${p.text.slice(0, 40)}"`, p.column);
    return this.fds.resolve(tid, f.fd, f.path);
  }

  /** sysfs files of the device and the PCI bus the process opened (sysfs-ops.ts). */
  private readonly sysfs: SysfsFiles;

  /** read/write on a sysfs file of the device: a `sysfs` event. */
  private sysfsIo(call: StraceCall): void {
    const a = this.args(call, 2);
    const f = parseFdArg(a[0]!.text, a[0]!.column);
    const s = parseStringArg(a[1]!.text, a[1]!.column);
    const r = f === null ? null : this.sysfs.io(call.name === 'write', f.fd, f.path, s === null ? null : s.bytes, observedOf(call.ret));
    if (r === null) this.stats.untrackedCalls++;
    else this.push(call, r.body, r.observed);
  }

  private call(call: StraceCall): void {
    switch (call.name) {
      case 'read':
      case 'write':
        return this.sysfsIo(call);
      case 'execve':
        return this.execve(call);
      case 'clone':
      case 'clone3':
      case 'fork':
      case 'vfork':
        return this.clone(call);
      case 'openat':
      case 'open':
        return this.open(call);
      case 'close':
        return this.close(call);
      case 'dup':
      case 'dup2':
      case 'dup3':
      case 'fcntl':
      case 'fcntl64':
        return this.dupCall(call);
      case 'ioctl':
        return this.ioctl(call);
      case 'pread64':
      case 'pwrite64':
      case 'preadv':
      case 'pwritev':
        return this.rw(call);
      case 'mmap':
        return this.mmap(call);
      case 'munmap':
        return this.munmap(call);
      default:
        this.stats.untrackedCalls++;
    }
  }

  private open(call: StraceCall): void {
    const a = this.args(call, 2);
    const pathPiece = call.name === 'openat' ? a[1]! : a[0]!;
    const s = parseStringArg(pathPiece.text, pathPiece.column);
    if (!s) throw new SyntaxProblem('expected a path string', pathPiece.column);
    const path = Buffer.from(s.bytes).toString('latin1');
    if (call.ret.kind === 'value' && this.sysfs.opened(Number(call.ret.value), path)) return;
    const info = classifyPath(path, this.fds.selector);
    let name = -1;
    if (call.ret.kind === 'value') {
      // Every opened file is kept (a later dup of it is the same file); without -y nothing else
      // would tell a later use that this number is no longer the old file.
      const flags = (call.name === 'openat' ? a[2] : a[1])?.text ?? '';
      name = this.fds.created(call.pid, Number(call.ret.value), info, call.ret.path, /\bO_CLOEXEC\b/.test(flags)).name;
      if (info.kind === 'iommufd') this.iommufdFd = Number(call.ret.value);
      const ev = openEvent(info.path ?? '', info.kind, info.ours);
      if (ev !== null) this.push(call, ev, observedOf(call.ret));
    }
    if (info.kind === 'container' || info.kind === 'group') {
      // Set-up is part of the trace (group-setup.ts models it): the open, or why it failed.
      // `fd` is the trace's name for the file: the number returned, unless an alias keeps another
      // set-up file of that name alive (fd-table.ts FRESH_NAMES).
      const fd = name;
      this.stats.setupEvents++;
      this.push(call, { kind: 'vfio-open', fd, container: info.kind === 'container', group: Math.max(0, info.group) }, observedOf(call.ret));
    }
    if (info.kind === 'other') this.stats.untrackedCalls++;
  }

  /**
   * fork/vfork/clone returning the new task's id in the parent: a thread (CLONE_VM or
   * CLONE_THREAD in the flags; vfork shares the parent's memory too, but its child only runs until
   * its execve) joins its creator's process; any other child is a new process, a `fork` event.
   * strace -f often prints the child's first calls before the parent's clone returns: those are
   * moved after the fork event and given the child's pid.
   */
  private clone(call: StraceCall): void {
    if (call.ret.kind !== 'value' || call.ret.value <= 0n) {
      this.stats.untrackedCalls++;
      return;
    }
    const child = checkedNumber(call.ret.value, 'u32', 'child pid', call.argsColumn);
    const parent = this.processOf(call.pid);
    // A thread shares its creator's fd table (CLONE_FILES); fork, vfork and the rest copy it.
    this.fds.cloned(call.pid, child, (call.name === 'clone' || call.name === 'clone3') && /\bCLONE_FILES\b/.test(call.args));
    const shares = call.name === 'vfork' || /\bCLONE_(VM|THREAD)\b/.test(call.args);
    if (shares || parent < 0) {
      this.procOf.set(child, parent);
      if (call.name === 'vfork' || /\bCLONE_VFORK\b/.test(call.args)) this.vforked.add(child);
      return;
    }
    this.procOf.set(child, child);
    // The child's address space is a copy of the parent's: its device mappings too.
    for (const m of this.mappings.filter((x) => x.pid === parent)) this.mappings.push({ ...m, pid: child });
    const fork: ImportedEvent = {
      body: { kind: 'fork', child },
      tid: call.pid,
      ns: call.startNs,
      startLine: call.startLine,
      endLine: call.startLine,
      source: 'strace',
      line: call.startLine,
      ...(parent > 0 ? { pid: parent } : {}),
    };
    // An event of the child already taken by drain() would be where the fork goes: a caller that
    // drains without knowing where later clones start (strace -ff: every file numbers its own
    // lines) has to redo the import holding the whole input.
    if ((this.drainedLast.get(child) ?? 0) > call.startLine) throw new DrainedTooEarly(this.file, call.startLine);
    const early = this.events.findIndex((e) => e.tid === child && e.startLine > call.startLine);
    for (const e of early < 0 ? [] : this.events.slice(early)) if (e.tid === child) e.pid = child;
    if (early < 0) {
      this.events.push(fork);
      this.lastEvent = fork;
    } else this.events.splice(early, 0, fork);
  }

  /** A forked child exited or exec'd: for the device it is gone (exec drops its mappings and the CLOEXEC vfio fds). */
  private childGone(pid: number, at: { tid: number; ns: bigint | null; line: number }): void {
    this.procOf.set(pid, -1);
    this.fds.exited(at.tid);
    this.mappings = this.mappings.filter((m) => m.pid !== pid);
    for (const [tid, p] of this.procOf) if (p === pid) this.procOf.set(tid, -1);
    const exit: ImportedEvent = { body: { kind: 'process-exit' }, tid: at.tid, ns: at.ns, startLine: at.line, endLine: at.line, source: 'strace', line: at.line, pid };
    this.events.push(exit);
    this.lastEvent = exit;
  }

  private execve(call: StraceCall): void {
    const proc = this.processOf(call.pid);
    // The close-on-exec numbers go with a successful execve (in a vfork child: its copy of the table).
    const dropped = call.ret.kind === 'value' ? this.fds.exec(call.pid) : [];
    if (this.vforked.delete(call.pid)) {
      this.stats.untrackedCalls++;
      return;
    }
    if (proc > 0 && call.ret.kind === 'value') {
      if (!this.fds.open(call.pid).some(([, f]) => isFollowed(f.info))) {
        this.childGone(proc, { tid: call.pid, ns: call.endNs ?? call.startNs, line: call.startLine });
        return;
      }
      // The new program keeps a device, group or container number (not close-on-exec: dup2'd
      // for it, as a launcher passes fds on): the process goes on for the device without its
      // old address space (its BAR mappings go) and its close-on-exec numbers.
      for (const c of dropped) this.implicitClose(call, c);
      const at = { ...call, endLine: call.startLine };
      for (const m of this.mappings.filter((x) => x.pid === proc)) this.push(at, { kind: 'munmap', addr: m.addr, length: m.length }, undefined);
      this.mappings = this.mappings.filter((x) => x.pid !== proc);
      this.stats.untrackedCalls++;
      return;
    }
    if (this.exec !== null || call.ret.kind !== 'value') {
      this.stats.untrackedCalls++;
      return;
    }
    const a = this.args(call, 2);
    const exe = parseStringArg(a[0]!.text, a[0]!.column);
    const argv = a[1]!.text.trim();
    if (!exe || !argv.startsWith('[') || !argv.endsWith(']')) {
      this.stats.untrackedCalls++;
      return;
    }
    const words: string[] = [];
    let truncated = false;
    for (const p of splitTopLevel(argv.slice(1, -1), a[1]!.column + 1)) {
      if (p.text === '...') {
        truncated = true;
        continue;
      }
      const w = parseStringArg(p.text, p.column);
      if (!w) continue;
      truncated ||= w.truncated;
      words.push(Buffer.from(w.bytes).toString('latin1'));
    }
    this.exec = { exe: Buffer.from(exe.bytes).toString('latin1'), cmdline: words.join(' '), truncated };
  }

  private close(call: StraceCall): void {
    const a = this.args(call, 1);
    const f = this.fdOf(a[0]!, call.pid);
    // A failed close closed nothing: the event keeps its errno. A successful one of a number
    // whose file another number of the process still refers to closes no file (fd-table.ts).
    const closed = call.ret.kind === 'error' ? null : this.fds.close(call.pid, f.fd);
    if (closed !== null && !closed.lastInProcess) {
      if (isFollowed(f)) this.stats.aliasCloses++;
      else this.stats.untrackedCalls++;
    } else if (f.kind === 'device' && f.ours) this.push(call, { kind: 'close' }, observedOf(call.ret));
    else if (f.kind === 'container' || f.kind === 'group') {
      this.stats.setupEvents++;
      this.push(call, { kind: 'vfio-close', fd: f.name }, observedOf(call.ret));
    } else if (f.kind === 'other') this.stats.untrackedCalls++;
    if (call.ret.kind !== 'error') this.sysfs.closed(f.fd);
  }

  /**
   * A number stopped referring to its file without a close call of its own (dup2/dup3 onto an
   * open number, close-on-exec at execve): for the process's last number of a device, group or
   * container file that is its close, with nothing observed (the call's result is not the close's).
   */
  private implicitClose(call: StraceCall, closed: Closed | null): void {
    if (closed === null) return;
    const { info, name } = closed.file;
    if (!isFollowed(info)) return;
    if (!closed.lastInProcess) {
      this.stats.aliasCloses++;
      return;
    }
    const at = { ...call, endLine: call.startLine };
    if (info.kind === 'device') this.push(at, { kind: 'close' }, undefined);
    else {
      this.stats.setupEvents++;
      this.push(at, { kind: 'vfio-close', fd: name }, undefined);
    }
  }

  /**
   * dup(old) / dup2(old, new) / dup3(old, new, flags) / fcntl(old, F_DUPFD[_CLOEXEC], min)
   * returning a number: it refers to old's file from now on; fcntl(fd, F_SETFD, FD_CLOEXEC|0) sets
   * the close-on-exec flag. No event of their own: the later uses name the file (fd-table.ts).
   */
  private dupCall(call: StraceCall): void {
    const a = this.args(call, call.name === 'dup' ? 1 : 2);
    const from = parseFdArg(a[0]!.text, a[0]!.column);
    if (from === null) throw new SyntaxProblem(`expected an fd, found "${a[0]!.text.slice(0, 40)}"`, a[0]!.column);
    const ret = call.ret;
    if (call.name === 'fcntl' || call.name === 'fcntl64') {
      const cmd = splitComment(a[1]!.text).value;
      if (cmd === 'F_SETFD' && ret.kind === 'value') {
        const arg = a[2] ? splitComment(a[2].text).value : '0';
        this.fds.setCloexec(call.pid, from.fd, arg === 'FD_CLOEXEC' || (parseInteger(arg) ?? 0n) % 2n === 1n);
        return;
      }
      if (cmd !== 'F_DUPFD' && cmd !== 'F_DUPFD_CLOEXEC') {
        this.stats.untrackedCalls++;
        return;
      }
    }
    if (ret.kind !== 'value' || ret.value < 0n) {
      this.stats.untrackedCalls++; // a failed dup made no number
      return;
    }
    const to = checkedNumber(ret.value, 'u32', 'new fd', call.argsColumn);
    const cloexec = call.name === 'dup3' ? /\bO_CLOEXEC\b/.test(a[2]?.text ?? '') : splitComment(a[1]?.text ?? '').value === 'F_DUPFD_CLOEXEC';
    const closed = this.fds.dup(call.pid, from.fd, from.path, to, cloexec);
    if (this.fds.resolve(call.pid, to, ret.path).kind !== 'other') this.stats.fdAliases++;
    else this.stats.untrackedCalls++;
    this.implicitClose(call, closed);
  }

  private ioctl(call: StraceCall): void {
    const a = this.args(call, 2);
    let f = this.fdOf(a[0]!, call.pid);
    const req0 = requestNumber(a[1]!.text);
    if (f.kind === 'other' && f.path === null && req0 === 0x3b6a) {
      // strace attached to a running VMM (or a log without the group's openat): only a VFIO group
      // answers GET_DEVICE_FD, so this fd is one, of a group number the log does not say.
      this.stats.attachedGroups++;
      f = this.fds.created(call.pid, f.fd, { kind: 'group', vcpu: -1, group: -1, ours: false }, null);
    }
    if (f.kind === 'other') {
      this.stats.untrackedCalls++;
      return;
    }
    if (f.kind === 'device' && !f.ours) {
      this.stats.otherDeviceCalls++;
      return;
    }
    const req = requestNumber(a[1]!.text);
    if (req === null) {
      this.stats.ignoredCalls++;
      return;
    }
    const ret = call.ret;
    if (isVfioRequest(req)) {
      if (f.kind === 'group' && req === VFIO_SETUP.GROUP_GET_DEVICE_FD) {
        const sel = this.fds.selector;
        // strace prints the name as a pointer; the tracer's argument capture has its bytes.
        const name = a[2] ? parseStringArg(a[2].text, a[2].column) : null;
        let devName = name ? Buffer.from(name.bytes).toString('latin1') : cString(this.capturedArg(call, a, f.fd, req));
        // A name that is another PCI device is another device; any other name fails on this group.
        const ours = (sel.iommuGroup < 0 || f.group < 0 || f.group === sel.iommuGroup) && (!looksLikePciName(devName) || sameDevice(devName, sel.bdf ?? ''));
        // Without the name (strace prints the pointer), a call that returned a device fd on the
        // device's group named the device: its fd is the one the device's accesses use. A failed
        // call keeps no name: the kernel found no such device, or refused before looking, and the
        // model answers only what does not depend on the name (group-setup.ts name-unknown).
        if (devName === '' && ours && ret.kind === 'value' && sel.bdf) {
          devName = sel.bdf;
          this.stats.namesFromResult++;
        }
        // The kernel makes the device fd close-on-exec (get_unused_fd_flags(O_CLOEXEC)), as KVM's below.
        if (ret.kind === 'value') this.fds.created(call.pid, Number(ret.value), { kind: 'device', vcpu: -1, group: -1, ours }, ret.path, true);
        if (ret.kind === 'value') this.sawDevice = true;
        if (!ours) {
          this.stats.otherDeviceCalls++;
          return;
        }
        // Success is the device's open; a failure (EINVAL before the container has an IOMMU,
        // ENODEV, ...) opened nothing, and the model says which (group-setup.ts).
        if (ret.kind === 'error') this.stats.failedDeviceOpens++;
        this.push(call, { kind: 'ioctl', op: 'get-device-fd', fd: f.name, name: devName }, observedOf(ret));
        return;
      }
      if (f.kind === 'container' && (req === VFIO_SETUP.GET_API_VERSION || req === VFIO_SETUP.CHECK_EXTENSION || req === VFIO_SETUP.SET_IOMMU)) {
        const n = a[2] ? parseInteger(a[2].text) ?? setupArgByName(a[2].text) : 0n;
        const arg = n === null ? null : checkedNumber(n, 'u32', 'ioctl argument', a[2]?.column ?? call.argsColumn);
        if (arg === null) {
          this.stats.ignoredCalls++;
          return;
        }
        this.stats.setupEvents++;
        this.push(call, { kind: 'ioctl', op: 'container-op', fd: f.name, request: req, arg }, observedOf(ret));
        return;
      }
      if (f.kind === 'group' && (req === VFIO_SETUP.GROUP_GET_STATUS || req === VFIO_SETUP.GROUP_SET_CONTAINER || req === VFIO_SETUP.GROUP_UNSET_CONTAINER)) {
        // SET_CONTAINER passes a pointer to the container fd, which strace does not follow: the
        // container is the one this process opened last (a VMM has one per address space).
        const containerFd = req === VFIO_SETUP.GROUP_SET_CONTAINER ? this.setContainerArg(a[2], call.pid) : 0;
        this.stats.setupEvents++;
        this.push(call, { kind: 'ioctl', op: 'group-op', fd: f.name, request: req, containerFd }, observedOf(ret));
        return;
      }
      if ((f.kind === 'device' && CDEV_IOCTLS.has(req)) || f.kind === 'iommufd') {
        // The cdev and /dev/iommu calls (iommufd-events.ts); BIND is where the kernel opens the device.
        const captured = this.capturedArg(call, a, f.fd, req);
        const body = f.kind === 'device' ? cdevIoctl(req, captured, this.iommufdFd) : captured && iommufdIoctl(req, captured);
        if (body) {
          this.push(call, this.named(call, body), observedOf(ret));
          return;
        }
        if (f.kind === 'iommufd') {
          this.stats.setupIoctls++;
          return;
        }
      }
      if (f.kind === 'device' && req === 0x3b6f) {
        this.push(call, { kind: 'ioctl', op: 'reset' }, observedOf(ret));
        return;
      }
      const captured = f.kind === 'device' || f.kind === 'container' ? this.capturedArg(call, a, f.fd, req) : null;
      if (f.kind === 'container' && captured) {
        const body = decodeContainerIoctl(req, captured);
        if (body) {
          const ev = this.push(call, body, observedOf(ret));
          if (body.kind === 'map-dma' && this.mappingAt(body.vaddr, this.processOf(call.pid))) {
            ev.barDma = true;
            this.barDmas.add(`${body.iova}/${body.size}`);
          } else if (body.kind === 'unmap-dma' && this.barDmas.delete(`${body.iova}/${body.size}`)) ev.barDma = true;
          return;
        }
      }
      if (f.kind === 'device') {
        const body = captured ? decodeDeviceIoctl(req, captured) : null;
        if (body) {
          this.push(call, this.named(call, body), observedOf(ret));
          return;
        }
        if (!DEVICE_QUERIES.has(req) || captured) {
          this.stats.rawDeviceIoctls++;
          const arg = captured ? argBytes(captured) : new Uint8Array(0);
          this.push(call, { kind: 'ioctl', op: 'raw', fdKind: f.kind, request: req, name: vfioName(req, f.kind), arg }, observedOf(ret));
          return;
        }
        this.stats.deviceQueries++;
        return;
      }
      this.stats.setupIoctls++;
      return;
    }
    if (f.kind === 'kvm' && req === KVM.CREATE_VM) {
      if (ret.kind === 'value') this.fds.created(call.pid, Number(ret.value), { kind: 'kvm-vm', vcpu: -1, group: -1, ours: false }, ret.path, true);
      return;
    }
    if (f.kind === 'kvm-vm' && req === KVM.CREATE_VCPU) {
      const id = a[2] ? parseInteger(a[2].text) : null;
      const vcpu = id === null ? -1 : checkedNumber(id, 'u32', 'vCPU id', a[2]!.column);
      if (ret.kind === 'value') this.fds.created(call.pid, Number(ret.value), { kind: 'kvm-vcpu', vcpu, group: -1, ours: false }, ret.path, true);
      return;
    }
    if (f.kind === 'kvm-vm' && (req === KVM.SET_USER_MEMORY_REGION || req === KVM.SET_USER_MEMORY_REGION2)) {
      const s = a[2] ? parseStructFields(a[2].text, a[2].column) : null;
      const col = a[2]?.column ?? 0;
      const num = (k: string, range: 'u32' | 'u64'): bigint | null => {
        const v = s?.get(k);
        const n = v === undefined ? null : parseInteger(v);
        return n === null ? null : checked(n, range, k, col);
      };
      const slot = num('slot', 'u32');
      const flags = num('flags', 'u32') ?? 0n;
      const gpa = num('guest_phys_addr', 'u64');
      const size = num('memory_size', 'u64');
      const uaddr = num('userspace_addr', 'u64');
      if (slot === null || gpa === null || size === null || uaddr === null) {
        this.stats.undecodedMemslots++;
        return;
      }
      this.push(call, { kind: 'memslot', slot: Number(slot), flags: Number(flags), gpa, size, uaddr }, observedOf(ret));
      return;
    }
    if (f.kind === 'kvm-vcpu' && req === KVM.RUN) {
      const ev = this.push(call, { kind: 'kvm-run', vcpu: Math.max(0, f.vcpu) }, observedOf(ret));
      this.lastRunByVcpu.set(f.vcpu, ev);
      return;
    }
    this.stats.ignoredCalls++;
  }

  /** The body with the fd numbers its struct passed named as the trace names their files (fd-names.ts). */
  private named(call: StraceCall, body: EventBody): EventBody {
    return withFileNames(body, (fd) => this.fds.nameOf(call.pid, fd));
  }

  /** The container fd of a SET_CONTAINER: `[5]` when strace printed it, else the newest open container. */
  private setContainerArg(p: Piece | undefined, tid: number): number {
    const m = p ? /^\[(\d+)\]$/.exec(p.text.trim()) : null;
    if (m) return this.fds.nameOf(tid, Number(m[1]));
    return this.fds.newestContainer() ?? -1;
  }

  /** The captured argument bytes of this ioctl (same thread, fd, request and address), if any. */
  private capturedArg(call: StraceCall, a: Piece[], fd: number, req: number): Uint8Array | null {
    if (!this.argCapture) return null;
    const addr = a[2] ? parseInteger(a[2].text) : null;
    const rec = this.argCapture.take(call.pid, fd, req, addr === null ? null : BigInt.asUintN(64, addr));
    return rec ? rec.bytes : null;
  }

  private rw(call: StraceCall): void {
    const vector = call.name === 'preadv' || call.name === 'pwritev';
    const write = call.name === 'pwrite64' || call.name === 'pwritev';
    const a = this.args(call, 4);
    const offArg = a[3]!;
    let off = parseInteger(offArg.text);
    if (off === null) throw new SyntaxProblem(`expected a file offset, found "${offArg.text}"`, offArg.column);
    checked(off, 'off_t', 'file offset', offArg.column);
    if (off < 0n) off += U64; // strace prints the loff_t signed
    if (!this.onTracedDevice(this.attachedDevice(call, this.fdOf(a[0]!, call.pid), off))) return;
    let len: number;
    let bytes: Uint8Array | null;
    let cut = false;
    let buf: UserBuf = {};
    if (vector) {
      const v = readIovecs(a[1]!);
      len = v.len;
      bytes = v.bytes;
      cut = v.truncated;
    } else {
      const count = parseInteger(a[2]!.text);
      if (count === null) throw new SyntaxProblem(`expected a byte count, found "${a[2]!.text}"`, a[2]!.column);
      len = checkedNumber(count, 'u32', 'byte count', a[2]!.column);
      const s = parseStringArg(a[1]!.text, a[1]!.column);
      bytes = s ? s.bytes : null;
      cut = s?.truncated ?? false;
      if (s === null) buf = this.barBuffer(call, a[1]!);
    }
    const region = Number(off >> OFFSET_SHIFT);
    const within = off & OFFSET_MASK;
    const obs = observedOf(call.ret);
    if (write && buf.bufBar !== undefined && bytes === null) {
      // strace cannot read a buffer that is a BAR mapping (it prints the pointer): the bytes the
      // kernel copied from the device are not in the capture. The last pread/pwrite of exactly
      // those BAR bytes showed them (a guess for a register that changes by itself, counted as
      // such); with none, zeros stand for them, counted too.
      const seen = this.barBytes.get(`${buf.bufBar}/${buf.bufOffset}/${len}`);
      if (seen) this.stats.barBufferWritesFromLastAccess++;
      else this.stats.barBufferWritesWithoutData++;
      bytes = seen ?? new Uint8Array(len);
    }
    if (write) {
      if (bytes === null || cut || bytes.length < len) {
        throw new SyntaxProblem(
          `${call.name} data is ${bytes === null ? 'not shown' : 'cut short'} (${bytes?.length ?? 0} of ${len} bytes): capture with strace -xx -s 4096`,
          a[1]!.column,
        );
      }
      const data = bytes.slice(0, len);
      if (region <= 5 && call.ret.kind === 'value') this.barBytes.set(`${region}/${within}/${len}`, data);
      if (region === REGION_CONFIG) this.push(call, { kind: 'cfg-write', offset: Number(within), data, ...buf }, obs);
      else {
        const ev = this.push(call, { kind: 'region-write', region, offset: within, data, ...buf }, obs);
        if (region <= 5 && call.ret.kind === 'error' && len <= 8) ev.trapped = { bar: region, offset: within, len, write: data.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n) };
      }
    } else {
      if (call.ret.kind === 'value' && call.ret.value > 0n && bytes !== null) obs.data = bytes.slice(0, Number(call.ret.value));
      if (region <= 5 && obs.data !== undefined && obs.data.length === len) this.barBytes.set(`${region}/${within}/${len}`, obs.data);
      if (region === REGION_CONFIG) this.push(call, { kind: 'cfg-read', offset: Number(within), len, ...buf }, obs);
      else {
        const ev = this.push(call, { kind: 'region-read', region, offset: within, len, ...buf }, obs);
        if (region <= 5 && call.ret.kind === 'error' && len <= 8) ev.trapped = { bar: region, offset: within, len, write: null };
      }
    }
  }

  /**
   * strace attached to a running VMM (no GET_DEVICE_FD, no -y): an fd the log never showed opened,
   * read or written at an offset in VFIO's config region (index 7 << 40: no ordinary file is that
   * large), is taken as the device fd, once, when no device fd is known. The report names it.
   */
  private attachedDevice(call: StraceCall, f: Resolved, off: bigint): Resolved {
    if (f.kind !== 'other' || f.path !== null || this.fds.wasShown(f.fd) || this.stats.attachedDeviceFd >= 0 || this.sawDevice) return f;
    if (off >> OFFSET_SHIFT !== BigInt(REGION_CONFIG) || (off & OFFSET_MASK) >= 4096n) return f;
    this.stats.attachedDeviceFd = f.fd;
    // The device was opened before the capture: an `open` with nothing observed stands for it (the
    // replay models the open, compares nothing), so what follows runs on an open device.
    this.push({ ...call, endLine: call.startLine }, { kind: 'open' }, undefined);
    return this.fds.created(call.pid, f.fd, { kind: 'device', vcpu: -1, group: -1, ours: true }, null);
  }

  /** The log showed a device fd made (GET_DEVICE_FD, a cdev open) or mapped: nothing is inferred then. */
  private sawDevice = false;

  /**
   * A pread/pwrite buffer strace printed as a pointer (it could not read it: a BAR mapping is
   * VM_IO|VM_PFNMAP) that lies in a device mapping of the caller's process: `buf=barN+off`.
   */
  private barBuffer(call: StraceCall, p: Piece): UserBuf {
    const n = parseInteger(p.text);
    if (n === null) return {};
    const addr = BigInt.asUintN(64, n);
    const m = this.mappingAt(addr, this.processOf(call.pid));
    if (m === undefined || m.region > 5) return {};
    this.stats.barBuffers++;
    return { bufBar: m.region, bufOffset: m.offset + (addr - m.addr) };
  }

  /** BAR bytes the log last showed read or written, by `bar/offset/len` (BAR-buffer pwrites). */
  private readonly barBytes = new Map<string, Uint8Array>();

  private mmap(call: StraceCall): void {
    const a = this.args(call, 6);
    if (!this.onTracedDevice(this.fdOf(a[4]!, call.pid))) return;
    const length = parseInteger(a[1]!.text);
    const off = parseInteger(a[5]!.text);
    if (length === null) throw new SyntaxProblem(`expected a length, found "${a[1]!.text}"`, a[1]!.column);
    if (off === null) throw new SyntaxProblem(`expected an offset, found "${a[5]!.text}"`, a[5]!.column);
    checked(length, 'u64', 'mapping length', a[1]!.column);
    const uoff = BigInt.asUintN(64, checked(off, 'off_t', 'file offset', a[5]!.column));
    const prot = parseProt(a[2]!);
    const region = Number(uoff >> OFFSET_SHIFT);
    const offset = uoff & OFFSET_MASK;
    // The mapping's address: the result, or for a failed call the address the caller asked for.
    const hint = checked(parseInteger(a[0]!.text) ?? 0n, 'u64', 'address', a[0]!.column);
    const addr = call.ret.kind === 'value' ? checked(call.ret.value, 'u64', 'mapped address', a[0]!.column) : hint;
    if (call.ret.kind === 'value') this.mappings.push({ addr, length, region, offset, pid: this.processOf(call.pid) });
    this.sawDevice = true;
    this.push(call, { kind: 'mmap', region, offset, length, prot, addr }, observedOf(call.ret));
  }

  private munmap(call: StraceCall): void {
    const a = this.args(call, 2);
    const addr = parseInteger(a[0]!.text);
    const length = parseInteger(a[1]!.text);
    if (addr === null || length === null) throw new SyntaxProblem('expected an address and a length', a[0]!.column);
    checked(addr, 'u64', 'address', a[0]!.column);
    checked(length, 'u64', 'length', a[1]!.column);
    const end = addr + length;
    const pid = this.processOf(call.pid);
    const hit = this.mappings.some((m) => m.pid === pid && m.addr < end && addr < m.addr + m.length);
    if (!hit) {
      this.stats.untrackedCalls++;
      return;
    }
    if (call.ret.kind === 'value') {
      // Keep what is left of each mapping outside [addr, end).
      const left: Mapping[] = [];
      for (const m of this.mappings) {
        const mEnd = m.addr + m.length;
        if (m.pid !== pid || mEnd <= addr || end <= m.addr) {
          left.push(m);
          continue;
        }
        if (m.addr < addr) left.push({ ...m, length: addr - m.addr });
        if (end < mEnd) left.push({ ...m, addr: end, length: mEnd - end, offset: m.offset + (end - m.addr) });
      }
      this.mappings = left;
    }
    this.push(call, { kind: 'munmap', addr, length }, observedOf(call.ret));
  }

  /**
   * With no device mmap in the log (strace attached after QEMU mapped the BARs), QEMU's own log
   * says where its BAR mappings are (the newest one holding the address).
   */
  private qemuMappingAt(addr: bigint): Mapping | undefined {
    if (this.sawDevice) return undefined;
    for (let i = this.qemuBarMappings.length - 1; i >= 0; i--) {
      const q = this.qemuBarMappings[i]!;
      if (addr >= q.vaddr && addr < q.vaddr + q.length) {
        this.stats.faultsPlacedByQemuLog++;
        return { addr: q.vaddr, length: q.length, region: q.bar, offset: q.offset, pid: 0 };
      }
    }
    return undefined;
  }

  /** The device mapping holding this address, if any. */
  private mappingAt(addr: bigint, pid: number): Mapping | undefined {
    return this.mappings.find((mp) => mp.pid === pid && addr >= mp.addr && addr < mp.addr + mp.length);
  }

  private signal(item: Extract<StraceItem, { type: 'signal' }>): void {
    const fields = parseStructFields(item.info) ?? new Map<string, string>();
    const sigName = SIGNO[item.signal] ?? item.signal;
    const signo = fields.get('si_signo');
    const name = signo ? (SIGNO[splitComment(signo).value] ?? splitComment(signo).value) : sigName;
    if (name !== 'SIGBUS' && name !== 'SIGSEGV') return;
    const addrText = fields.get('si_addr');
    const addrNum = addrText === undefined ? null : parseInteger(addrText);
    const addr = addrNum === null ? null : checked(addrNum, 'u64', 'si_addr');
    const m = addr === null ? undefined : (this.mappingAt(addr, this.processOf(item.pid)) ?? this.qemuMappingAt(addr));
    if (!m || addr === null) {
      this.stats.signalsOutsideMappings++;
      return;
    }
    const signal: SignalInfo = { signal: name, code: siCode(name, fields.get('si_code') ?? ''), addr };
    const offset = m.offset + (addr - m.addr);
    const proc = this.processOf(item.pid);
    const ev: ImportedEvent = {
      body: { kind: 'mem-read', bar: m.region, offset, len: 1 },
      fault: { bar: m.region, offset },
      observed: { signal },
      tid: item.pid,
      ns: item.ns,
      startLine: item.line,
      endLine: item.line,
      source: 'strace',
      line: item.line,
      ...(proc > 0 ? { pid: proc } : {}),
    };
    this.events.push(ev);
    this.lastEvent = ev;
  }
}

/** A file the trace has events for: the traced device, a VFIO group or container. */
function isFollowed(f: FdInfo): boolean {
  return (f.kind === 'device' && f.ours) || f.kind === 'group' || f.kind === 'container';
}

function siCode(signal: string, text: string): string {
  const { value, comment } = splitComment(text);
  if (/^[A-Z_]+$/.test(value)) return value;
  if (/^[A-Z_]+$/.test(comment)) return comment;
  const n = parseInteger(value);
  if (n === null) return value;
  return SI_CODES[signal]?.[Number(n)] ?? GENERIC_CODES[Number(n)] ?? value;
}

function parseProt(p: Piece): number {
  const { value } = splitComment(p.text);
  const n = parseInteger(value);
  if (n !== null) return checkedNumber(n, 'u32', 'mmap protection', p.column);
  let prot = 0;
  for (const flag of value.split('|')) {
    const bit = PROT_BITS[flag.trim()];
    if (bit === undefined) throw new SyntaxProblem(`unknown mmap protection "${flag}"`, p.column);
    prot |= bit;
  }
  return prot;
}

/** `[{iov_base="..", iov_len=4}, ...]` -> total length and the bytes shown. */
function readIovecs(p: Piece): { len: number; bytes: Uint8Array | null; truncated: boolean } {
  const t = p.text.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) {
    // Failed calls print the iovec address instead of the array.
    if (parseInteger(t) !== null) return { len: 0, bytes: null, truncated: false };
    throw new SyntaxProblem('expected an iovec array', p.column);
  }
  let len = 0;
  const chunks: Uint8Array[] = [];
  let shown = true;
  let truncated = false;
  for (const el of splitTopLevel(t.slice(1, -1), p.column + 1)) {
    if (el.text === '...') {
      truncated = true;
      continue;
    }
    const f = parseStructFields(el.text, el.column);
    const l = f?.get('iov_len');
    const n = l === undefined ? null : parseInteger(l);
    if (n === null) throw new SyntaxProblem('expected iov_len in an iovec', el.column);
    len += checkedNumber(n, 'u32', 'iov_len', el.column);
    if (len > 0xffff_ffff) throw new SyntaxProblem(`iovec lengths add up to ${len}, out of range (an unsigned 32-bit value)`, el.column);
    const base = f!.get('iov_base');
    const s = base === undefined ? null : parseStringArg(base, el.column);
    if (s) {
      chunks.push(s.bytes);
      truncated ||= s.truncated;
    } else shown = false;
  }
  return { len, bytes: shown ? new Uint8Array(Buffer.concat(chunks)) : null, truncated };
}

/** The observed outcome a syscall return carries. */
export function observedOf(ret: StraceReturn): Observed {
  switch (ret.kind) {
    case 'value':
      return { ret: ret.value };
    case 'error':
      return { errno: ret.errno };
    case 'unknown':
      return { blocked: true };
  }
}
