// The kernel-model factory: Linux vfio-pci for one device at one modeled version. Routes each host
// event to the file that mirrors the kernel file handling it, wrapping device accesses in the
// runtime-PM resume/idle the kernel performs (6.1+).

import type { DeviceSnapshot, EventMeta, HostEvent, Observed, TraceEvent } from '../../trace/types.js';
import { UserError } from '../../errors.js';
import type { KernelModel, KernelView } from '../interfaces.js';
import { step, type Effect, type PowerState, type Step } from '../outcome.js';
import { KERNEL_VERSIONS, findKernelVersion } from '../versions/kernel.js';
import { cfgRead, cfgWrite, peekConfig } from './config.js';
import { geometry, memoryEnabled, type Kctx } from './context.js';
import { cpuAccess, disableDevice, ioctl, mmapRegion, munmap, openDevice, openRefusal, runtimeIdle, runtimeResume } from './core.js';

/** VFIO_GROUP_GET_DEVICE_FD's ioctl number (_IO(';', 106)). */
const GROUP_GET_DEVICE_FD = 0x3b6a;
import { importerOp } from './dmabuf.js';
import { ioeventfdSignal, regionRw } from './rdwr.js';
import { deviceIrq } from './device-irq.js';
import { mapDma, unmapDma } from './type1.js';
import { setUserMemoryRegion } from './kvm.js';
import { initialHw, initialPmState, initialVfioState, stateOfHw, type HwFunction, type VfioState } from './state.js';
import { checkVfToken } from './sriov.js';
import { resolveTraits } from '../devices/traits.js';
import { observeHardware } from './learn.js';
import { forkMappings, ProcessTable, unknownProcess } from './processes.js';
import { withUserBuf } from './user-buf.js';
import { sysfsOp } from './sysfs.js';
import { lostAccess } from './lost.js';
import { resolveHostConfig, type HostLists } from './host-config.js';
import { deepClone, fingerprint } from '../clone.js';
import { cdevAttach, cdevBind, cdevDetach, cdevFile, cdevOpen, cdevRelease } from './cdev.js';
import { iommufdIoctl, iommufdOpen } from './iommufd.js';
import { GroupSetup } from './group-setup.js';

export interface KernelState {
  hw: HwFunction;
  st: VfioState;
  meta: EventMeta;
  /** Processes, their fds and the device files (power's per-process state). */
  procs: ProcessTable;
  /** Container and group files the trace opened (group-setup.ts). */
  setup: GroupSetup;
}

export class VfioPciKernelModel implements KernelModel {
  readonly versionId: string;
  readonly view: KernelView;
  /** Exposed for tests and diagnostics: the modeled state. */
  readonly k: Kctx;
  /** Processes and the device files they hold (fds, BAR VMAs): decides when the device is released. */
  private procs = new ProcessTable();
  /** Container/group files and their state; empty (implicit set-up) for traces without set-up events. */
  private setup = new GroupSetup();

  /** `host`: the trace header's module parameters and kernel command line (absent = defaults). */
  constructor(device: DeviceSnapshot, versionId: string, host?: HostLists) {
    const v = findKernelVersion(versionId);
    if (v === undefined)
      throw new UserError(`unknown kernel version "${versionId}" (known: ${KERNEL_VERSIONS.map((x) => x.id).join(', ')})`);
    this.versionId = versionId;
    // A function with a VF block is a VF whether or not the quirks line says is_virtfn.
    if (device.sriovVf !== undefined && !device.quirks.isVirtfn) device = { ...device, quirks: { ...device.quirks, isVirtfn: true } };
    this.k = {
      dev: device,
      v: v.switches,
      host: resolveHostConfig(host),
      hw: initialHw(device),
      g: geometry(device, resolveTraits(device)),
      st: { ...initialVfioState(device), ...initialPmState(device, v.switches) },
      meta: { seq: 0n, tsNs: 0n, tid: 0, overlap: 0 },
    };
    const k = this.k;
    this.view = {
      get memoryEnabled(): boolean {
        return k.st.open && memoryEnabled(k);
      },
      get powerState(): PowerState {
        return k.hw.power;
      },
      get isOpen(): boolean {
        return k.st.open;
      },
      peekConfig: (offset: number, len: number): bigint => peekConfig(k, offset, len),
    };
  }

  /** A deep copy of the mutable state (the interleaving explorer's snapshot). */
  saveState(): KernelState {
    return deepClone({ hw: this.k.hw, st: this.k.st, meta: this.k.meta, procs: this.procs, setup: this.setup });
  }

  /** Puts a saved state back (copied again, so the saved one can be loaded many times). */
  loadState(s: KernelState): void {
    const c = deepClone(s);
    this.k.hw = c.hw;
    this.k.st = c.st;
    this.k.meta = c.meta;
    this.procs = c.procs;
    this.setup = c.setup;
  }

  /** What tells two states apart (the explorer merges interleavings that reach the same one). */
  stateKey(): string {
    return fingerprint([stateOfHw(this.k.hw), this.k.st, this.procs, this.setup]);
  }

  host(ev: HostEvent, meta: EventMeta): Step {
    // The fault handler's calls are known (and predicted) only where it has huge_fault (6.12+).
    if (this.k.v.hugeFault === 'none') return this.hostStep(ev, meta);
    const log: string[] = [];
    this.k.faultLog = log;
    const s = this.hostStep(ev, meta);
    const known = this.k.faultLog === log;
    delete this.k.faultLog;
    return known ? { ...s, faultLog: log } : s;
  }

  private hostStep(ev: HostEvent, meta: EventMeta): Step {
    this.k.meta = meta;
    const k = this.k;
    const pid = meta.pid ?? 0;
    if (!this.procs.exists(pid)) return unknownProcess(pid);
    switch (ev.kind) {
      case 'open':
        return this.openDevice(pid, ev.vfToken);
      case 'cdev-open':
        if (!k.v.vfioDeviceCdev) return step({ kind: 'errno', errno: 'ENOENT' }, 'cdev.open.no-cdev-enoent');
        return cdevOpen(k, this.procs.open(pid), meta);
      case 'iommufd-open':
        return iommufdOpen(k, meta);
      case 'iommufd':
        return iommufdIoctl(k, ev);
      case 'vfio-open':
        return this.setup.open(k.v, pid, ev.fd, ev.container, ev.group, this.procs.liveFiles());
      case 'vfio-close':
        return this.setup.close(k.v, pid, ev.fd, this.procs.liveFiles());
      case 'close':
        return this.close(pid);
      case 'fork': {
        if (this.procs.exists(ev.child)) return step({ kind: 'unsupported', reason: `fork: pid ${ev.child} is already a process of the trace` }, 'proc.fork.pid-in-use');
        this.procs.fork(pid, ev.child);
        const r = forkMappings(k, pid, ev.child);
        return step({ kind: 'ok' }, r.rule, r.effects);
      }
      case 'process-exit':
        return this.exit(pid);
      case 'dmabuf':
        return importerOp(k, ev.dmabuf, ev.op);
      case 'mem-read':
        return cpuAccess(k, ev.bar, ev.offset, false);
      case 'mem-write':
        return cpuAccess(k, ev.bar, ev.offset, true);
      case 'map-dma':
        return mapDma(k, ev.vaddr, ev.iova, ev.size, ev.flags);
      case 'unmap-dma':
        return unmapDma(k, ev.iova, ev.size, ev.flags);
      case 'memslot':
        return setUserMemoryRegion(k, ev.gpa, ev.size, ev.uaddr);
      case 'eventfd-signal':
        return ioeventfdSignal(k, ev.fd);
      case 'device-irq':
        return deviceIrq(k, ev.index, ev.vector);
      case 'sysfs':
        return sysfsOp(k, ev.path, ev.write);
      case 'kvm-run':
        return step({ kind: 'unsupported', reason: 'KVM_RUN results are decided by the VMM model' }, 'kvm.run.not-kernel-vfio');
      case 'munmap': {
        const s = munmap(k, ev.addr, ev.length);
        if (s.outcome.kind !== 'ok') return s;
        const released = this.release();
        // The last BAR VMA held a closed file: it is released now, and close_device runs if no
        // other file keeps the device open [S: VMAs hold a file reference].
        if (released !== null) return { ...s, rule: 'core.close.disable-after-last-munmap', effects: [...s.effects, ...released] };
        return s;
      }
      default:
        break;
    }
    // A failed VFIO_GROUP_GET_DEVICE_FD is imported as the group ioctl it was (no open): the
    // model says why it fails when it knows (unbound, rebound, denylisted).
    if (ev.kind === 'ioctl' && ev.op === 'raw' && ev.fdKind === 'group' && ev.request === GROUP_GET_DEVICE_FD) {
      const refused = this.procs.liveFiles() === 0 ? openRefusal(k) : null;
      if (refused !== null) return refused;
    }
    // Container and group ioctls do not go through the device fd.
    if (ev.kind === 'ioctl') {
      if (ev.op === 'raw' && ev.fdKind !== 'device') return ioctl(k, ev, meta);
      if (ev.op === 'container-op') return this.setup.containerOp(pid, ev.fd, ev.request, ev.arg);
      if (ev.op === 'group-op') return this.setup.groupOp(pid, ev.fd, ev.request, ev.containerFd, this.procs.liveFiles());
      if (ev.op === 'get-device-fd') {
        const r = this.setup.getDeviceFd(k.v, pid, ev.fd, ev.name, k.dev.bdf, k.dev.iommuGroup);
        if (!r.open) return r.step;
        const s = this.openDevice(pid, vfTokenOfName(ev.name));
        if (s.outcome.kind === 'ok') this.setup.openedThrough(pid, ev.fd);
        return s;
      }
    }
    const file = this.procs.newestFile(pid);
    const cdev = cdevFile(k, file);
    if (cdev !== undefined) {
      // A cdev file: BIND opens the device; nothing else works before it (access_granted) [S vfio_main.c].
      if (ev.kind === 'ioctl' && ev.op === 'bind-iommufd')
        return cdevBind(k, cdev, ev, () => this.resumedOpen());
      if (!cdev.bound) return step({ kind: 'errno', errno: 'EINVAL' }, 'cdev.access.before-bind-einval');
      if (ev.kind === 'ioctl' && ev.op === 'attach-iommufd-pt') return this.resumed(() => cdevAttach(k, cdev, ev.ptId, ev.flags, ev.argsz));
      if (ev.kind === 'ioctl' && ev.op === 'detach-iommufd-pt') return this.resumed(() => cdevDetach(k, cdev, ev.flags, ev.argsz));
    }
    if (!k.st.open || file === undefined) return step({ kind: 'errno', errno: 'EBADF' }, 'core.fd.not-open');
    // A function that did not come back from D3cold answers nothing (lost.ts).
    const lost = lostAccess(k, ev);
    if (lost !== null) return lost;
    switch (ev.kind) {
      case 'mmap':
        return mmapRegion(k, ev.region, ev.offset, ev.length, ev.prot, ev.addr, file);
      case 'cfg-read':
        return this.resumed(() => withUserBuf(k, ev, ev.len, 7, () => cfgRead(k, ev.offset, ev.len)));
      case 'cfg-write':
        return this.resumed(() => withUserBuf(k, ev, ev.data.length, 7, () => cfgWrite(k, ev.offset, ev.data)));
      case 'region-read':
        if (ev.region === 7) return this.resumed(() => withUserBuf(k, ev, ev.len, 7, () => cfgRead(k, Number(ev.offset), ev.len)));
        return this.resumed(() => withUserBuf(k, ev, ev.len, ev.region, () => regionRw(k, ev.region, ev.offset, ev.len, false)));
      case 'region-write':
        if (ev.region === 7) return this.resumed(() => withUserBuf(k, ev, ev.data.length, 7, () => cfgWrite(k, Number(ev.offset), ev.data)));
        return this.resumed(() => withUserBuf(k, ev, ev.data.length, ev.region, () => regionRw(k, ev.region, ev.offset, ev.data.length, true)));
      case 'ioctl':
        return this.resumed(() => ioctl(k, ev, meta));
    }
  }

  /**
   * The device's open through the group (VFIO_GROUP_GET_DEVICE_FD): the VF-token check first
   * (sriov.ts), then the enable; a new device file in `pid`.
   */
  private openDevice(pid: number, vfToken: string | undefined): Step {
    const token = checkVfToken(this.k, vfToken);
    if (token.fail !== undefined) return token.fail;
    const s = openDevice(this.k, { n: this.openedFiles() });
    if (s.outcome.kind === 'ok') this.procs.open(pid);
    // The token check is the step's rule when it decided something and the open only enabled.
    return token.rule !== undefined && s.outcome.kind === 'ok' ? { ...s, rule: token.rule } : s;
  }

  observe(ev: TraceEvent, observed: Observed, s: Step): string | null {
    const l = observeHardware(this.k, ev, observed, s);
    this.lastCorrected = l.corrected ?? null;
    return l.note;
  }

  private lastCorrected: Step | null = null;

  corrected(): Step | null {
    return this.lastCorrected;
  }

  private resumed(fn: () => Step): Step {
    const pre: Effect[] = runtimeResume(this.k);
    const s = fn();
    const post = runtimeIdle(this.k);
    if (pre.length === 0 && post.length === 0) return s;
    return { ...s, effects: [...pre, ...s.effects, ...post] };
  }

  /** Live files that opened the device (a cdev file only once bound): vfio's open_count. */
  private openedFiles(): number {
    const unbound = this.k.st.iommufd.cdevFiles.filter((f) => !f.bound && this.procs.alive(f.file)).length;
    return this.procs.liveFiles() - unbound;
  }

  /** The device open a BIND performs, counted like a group open (the binding file is not counted yet). */
  private resumedOpen(): Step {
    return openDevice(this.k, { n: this.openedFiles() });
  }

  /** Release files nothing references; the device's effects when that was the last one, else null. */
  private release(): Effect[] | null {
    const n = this.procs.releaseUnreferenced(this.k);
    // A released cdev file unbinds first (vfio_df_unbind_iommufd) [S device_cdev.c].
    for (const f of [...this.k.st.iommufd.cdevFiles]) if (!this.procs.alive(f.file)) cdevRelease(this.k, f.file);
    if (n === 0 || this.openedFiles() > 0 || !this.k.st.open) return null;
    return disableDevice(this.k);
  }

  private close(pid: number): Step {
    const k = this.k;
    const file = this.procs.closeNewest(pid);
    const cdev = cdevFile(k, file);
    if (file !== undefined && cdev !== undefined && !cdev.bound) {
      this.procs.releaseUnreferenced(k);
      cdevRelease(k, file);
      return step({ kind: 'ok', ret: 0n }, 'cdev.close.unbound');
    }
    if (file === undefined || !k.st.open) return step({ kind: 'errno', errno: 'EBADF' }, 'core.fd.not-open');
    const ref = this.procs.referenced(k, file);
    if (ref.byVma) return step({ kind: 'ok', ret: 0n }, 'core.close.deferred-by-mappings');
    // A forked child still has the fd: the file (and the device) stays open [S: fput].
    if (ref.byFd) return step({ kind: 'ok', ret: 0n }, 'proc.close.file-held-by-other-process');
    const released = this.release();
    if (released === null) return step({ kind: 'ok', ret: 0n }, 'core.close.not-last');
    // disable_idle_d3: the released device stays in D0 [S vfio_pci_disable / core_disable].
    return step({ kind: 'ok', ret: 0n }, k.host.disableIdleD3 ? 'core.close.disable-no-idle-d3' : 'core.close.disable', released);
  }

  /** exit_mmap then exit_files: every VMA of the process goes, then its fds. */
  private exit(pid: number): Step {
    const k = this.k;
    const had = k.st.mappings.some((m) => m.pid === pid);
    k.st.mappings = k.st.mappings.filter((m) => m.pid !== pid);
    this.procs.exit(pid);
    const released = this.release();
    if (released !== null) return step({ kind: 'ok' }, 'proc.exit.releases-device', released);
    return step({ kind: 'ok' }, had ? 'proc.exit.unmaps' : 'proc.exit');
  }
}

export function createKernelModel(device: DeviceSnapshot, versionId: string, host?: HostLists): KernelModel {
  return new VfioPciKernelModel(device, versionId, host);
}

/** The VF token a GET_DEVICE_FD name string carries ("BDF vf_token=UUID", vfio_pci_core_match). */
function vfTokenOfName(name: string): string | undefined {
  return /\bvf_token=([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/.exec(name)?.[1]?.toLowerCase();
}
