// Converts a trace's host-side events into the lab runner's op script (lab/runner/runner.c): one
// line per executable event, "IDX OP ARGS...", where IDX is the event's index in the trace so the
// runner's results map straight back onto events. Guest events and host events the runner cannot
// perform (KVM memslots and runs, DMABUF importer ops other than close) are listed as skipped;
// they keep whatever observation they had.
import type { Trace, TraceEvent, UserBuf } from '../trace/types.js';

export interface OpScript {
  /** The script text the runner reads. */
  text: string;
  /** Event indices that became op lines, in order. */
  ops: number[];
  /** Events the runner does not execute, with the reason. */
  skipped: { index: number; reason: string }[];
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);

function bytesHex(b: Uint8Array): string {
  return b.length === 0 ? '-' : Buffer.from(b).toString('hex');
}

/** ` BAR OFFSET` when the pread/pwrite's user buffer lies in a BAR mapping, else nothing. */
function userBuf(e: UserBuf): string {
  return e.bufBar === undefined ? '' : ` ${e.bufBar} ${hex(e.bufOffset ?? 0n)}`;
}

/**
 * The op line for one event, or a reason it cannot run. An event of a forked process is prefixed
 * `@PID` (the runner hands it to that child); `fork PID` forks, `exit` ends the line's process.
 */
export function opLine(e: TraceEvent): { line: string } | { skip: string } {
  const r = bareOpLine(e);
  if ('line' in r && e.pid !== undefined && e.pid !== 0) return { line: `@${e.pid} ${r.line}` };
  return r;
}

function bareOpLine(e: TraceEvent): { line: string } | { skip: string } {
  switch (e.kind) {
    case 'open':
      return { line: e.vfToken === undefined ? 'open' : `open ${e.vfToken}` };
    case 'close':
      return { line: 'close' };
    case 'cfg-read':
      return { line: `cfg-read ${hex(e.offset)} ${e.len}${userBuf(e)}` };
    case 'cfg-write':
      return { line: `cfg-write ${hex(e.offset)} ${bytesHex(e.data)}${userBuf(e)}` };
    case 'region-read':
      return { line: `region-read ${e.region} ${hex(e.offset)} ${e.len}${userBuf(e)}` };
    case 'region-write':
      return { line: `region-write ${e.region} ${hex(e.offset)} ${bytesHex(e.data)}${userBuf(e)}` };
    case 'mmap':
      return { line: `mmap ${e.region} ${hex(e.offset)} ${hex(e.length)} ${hex(e.prot)} ${hex(e.addr)}` };
    case 'munmap':
      return { line: `munmap ${hex(e.addr)} ${hex(e.length)}` };
    case 'mem-read':
      return { line: `mem-read ${e.bar} ${hex(e.offset)} ${e.len}` };
    case 'mem-write':
      return { line: `mem-write ${e.bar} ${hex(e.offset)} ${e.len} ${hex(e.value)}` };
    case 'dmabuf':
      // The runner has no in-guest importer (no iommufd, no P2P peer): only the exporter-side
      // fd close is a real operation. DMABUF numbers count exports in trace order from 0.
      return e.op === 'close' ? { line: `dmabuf-close ${e.dmabuf}` } : { skip: `dmabuf importer op ${e.op} needs an importer` };
    case 'ioctl':
      switch (e.op) {
        case 'get-info':
          return { line: `get-info ${e.argsz}` };
        case 'get-region-info':
          return { line: `get-region-info ${e.index} ${e.argsz}` };
        case 'get-irq-info':
          return { line: `get-irq-info ${e.index} ${e.argsz}` };
        case 'set-irqs':
          // The runner hands its own eventfds; an fd -1 (deconfigure a trigger) it cannot pass yet.
          if (e.fds.some((fd) => fd < 0)) return { skip: 'set-irqs with fd -1: the runner passes its own eventfds' };
          return { line: `set-irqs ${hex(e.flags)} ${e.index} ${e.start} ${e.count} ${e.argsz}` };
        case 'reset':
          return { line: 'reset' };
        case 'get-hot-reset-info':
          return { line: `get-hot-reset-info ${e.argsz}` };
        case 'hot-reset':
          return { line: `hot-reset ${hex(e.flags)} ${e.groupFds.length}${e.groupFds.map((f) => ' ' + f).join('')}` };
        case 'ioeventfd':
          return { line: `ioeventfd ${hex(e.flags)} ${hex(e.offset)} ${hex(e.data)} ${e.fd}` };
        case 'feature':
          // The feature id field is authoritative for the low 16 bits of the flags word.
          return { line: `feature ${hex(((e.flags & 0xffff0000) | (e.feature & 0xffff)) >>> 0)} ${bytesHex(e.payload)}` };
        case 'low-power':
          return { line: `low-power ${hex(e.flags)} ${e.wakeupFd}` };
        case 'dma-buf':
          return {
            line:
              `dma-buf ${hex(e.flags)} ${e.regionIndex} ${hex(e.openFlags)} ${hex(e.dmaBufFlags)} ${e.ranges.length}` +
              e.ranges.map((r) => ` ${hex(r.offset)}:${hex(r.length)}`).join(''),
          };
        case 'raw':
          return { skip: `raw ioctl ${e.name || hex(e.request)} is not executed by the runner` };
        case 'bind-iommufd':
          return { line: `bind-iommufd ${e.iommufd} ${hex(e.flags)} ${e.argsz}` };
        case 'attach-iommufd-pt':
          return { line: `attach-pt ${e.ptId} ${hex(e.flags)} ${e.argsz}` };
        case 'detach-iommufd-pt':
          return { line: `detach-pt ${hex(e.flags)} ${e.argsz}` };
        // Set-up ops name the trace's fds; the runner maps them to its own (runner.c setup ops).
        case 'container-op':
          return { line: `container-op ${e.fd} ${hex(e.request)} ${e.arg}` };
        case 'group-op':
          return { line: `group-op ${e.fd} ${hex(e.request)} ${e.containerFd}` };
        case 'get-device-fd':
          return { line: `get-device-fd ${e.fd} ${e.name.split(' ')[0]}` };
      }
      return { skip: 'unknown ioctl' };
    case 'map-dma':
      return { line: `map-dma ${hex(e.vaddr)} ${hex(e.iova)} ${hex(e.size)} ${hex(e.flags)}` };
    case 'unmap-dma':
      return { line: `unmap-dma ${hex(e.iova)} ${hex(e.size)} ${hex(e.flags)}` };
    case 'memslot':
    case 'kvm-run':
      return { skip: `${e.kind}: no KVM in the lab (TCG guest)` };
    case 'vfio-open':
      return { line: e.container ? `vfio-open container ${e.fd}` : `vfio-open group ${e.group} ${e.fd}` };
    case 'vfio-close':
      return { line: `vfio-close ${e.fd}` };
    case 'fork':
      return { line: `fork ${e.child}` };
    case 'process-exit':
      return { line: 'exit' };
    case 'eventfd-signal':
      return { skip: 'eventfd-signal: the runner registers no ioeventfd writer' };
    case 'device-irq':
      return { skip: 'device-irq: the runner does not make the device raise interrupts yet' };
    case 'sysfs':
      // The runner opens the file (relative to the device's directory unless it starts with /)
      // and reads it or writes the value plus a newline, as `echo` does.
      if (/\s/.test(e.path) || (e.write !== undefined && /[\s]/.test(e.write))) return { skip: 'sysfs: the runner takes no blanks in a file name or value' };
      return { line: e.write === undefined ? `sysfs-read ${e.path}` : `sysfs-write ${e.path} ${e.write === '' ? '-' : e.write}` };
    case 'cdev-open':
      return { line: 'cdev-open' };
    case 'iommufd-open':
      return { line: 'iommufd-open' };
    case 'iommufd':
      switch (e.op) {
        case 'ioas-alloc':
          return { line: `ioas-alloc ${hex(e.flags)}` };
        case 'ioas-map':
          return { line: `ioas-map ${e.ioasId} ${hex(e.flags)} ${hex(e.userVa)} ${hex(e.length)} ${hex(e.iova)}` };
        case 'ioas-map-file':
          return { line: `ioas-map-file ${e.ioasId} ${hex(e.flags)} ${e.fd} ${hex(e.start)} ${hex(e.length)} ${hex(e.iova)}` };
        case 'ioas-unmap':
          return { line: `ioas-unmap ${e.ioasId} ${hex(e.iova)} ${hex(e.length)}` };
        case 'ioas-iova-ranges':
          return { line: `ioas-iova-ranges ${e.ioasId} ${e.numIovas}` };
        case 'hwpt-alloc':
          return { line: `hwpt-alloc ${hex(e.flags)} ${e.devId} ${e.ptId}` };
        case 'destroy':
          return { line: `iommufd-destroy ${e.id}` };
      }
      return { skip: 'unknown iommufd op' };
    case 'guest-cfg-read':
    case 'guest-cfg-write':
    case 'guest-mmio-read':
    case 'guest-mmio-write':
      return { skip: 'guest event (the runner plays the host side only)' };
  }
}

export function toOpScript(trace: Trace): OpScript {
  const lines: string[] = [];
  const ops: number[] = [];
  const skipped: { index: number; reason: string }[] = [];
  trace.events.forEach((e, i) => {
    const r = opLine(e);
    if ('line' in r) {
      lines.push(`${i} ${r.line}`);
      ops.push(i);
    } else {
      skipped.push({ index: i, reason: r.skip });
    }
  });
  return { text: lines.join('\n') + '\n', ops, skipped };
}
