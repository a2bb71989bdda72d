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
import { cpuAccess, disableDevice, ioctl, mmapRegion, munmap, openDevice, runtimeIdle, runtimeResume } from './core.js';
import { importerOp } from './dmabuf.js';
import { regionRw } from './rdwr.js';
import { mapDma, unmapDma } from './type1.js';
import { initialHw, initialVfioState } from './state.js';
import { resolveTraits } from '../devices/traits.js';
import { observeHardware } from './learn.js';

export class VfioPciKernelModel implements KernelModel {
  readonly versionId: string;
  readonly view: KernelView;
  /** Exposed for tests and diagnostics: the modeled state. */
  readonly k: Kctx;
  /** Open device files (vfio open_count), including closed fds still held by BAR mappings. */
  private readonly openCount = { n: 0 };
  /** Files the user closed that BAR VMAs keep alive until their last munmap. */
  private heldByMappings = 0;

  constructor(device: DeviceSnapshot, versionId: string) {
    const v = findKernelVersion(versionId);
    if (v === undefined)
      throw new UserError(`unknown kernel version "${versionId}" (known: ${KERNEL_VERSIONS.map((x) => x.id).join(', ')})`);
    this.versionId = versionId;
    this.k = {
      dev: device,
      v: v.switches,
      hw: initialHw(device),
      g: geometry(device, resolveTraits(device)),
      st: initialVfioState(),
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

  host(ev: HostEvent, meta: EventMeta): Step {
    this.k.meta = meta;
    const k = this.k;
    switch (ev.kind) {
      case 'open':
        return openDevice(k, this.openCount);
      case 'close':
        return this.close();
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
        return step({ kind: 'ok', ret: 0n }, 'kvm.memslot.not-vfio');
      case 'kvm-run':
        return step({ kind: 'unsupported', reason: 'KVM_RUN results are decided by the VMM model' }, 'kvm.run.not-kernel-vfio');
      case 'munmap': {
        const s = munmap(k, ev.addr, ev.length);
        if (this.heldByMappings > 0 && k.st.mappings.length === 0 && s.outcome.kind === 'ok') {
          // The last BAR VMA held the closed file(s): they are released now, and close_device runs
          // if no other fd keeps the device open [S: VMAs hold a file reference].
          this.openCount.n -= this.heldByMappings;
          this.heldByMappings = 0;
          if (this.openCount.n === 0)
            return { ...s, rule: 'core.close.disable-after-last-munmap', effects: [...s.effects, ...disableDevice(k)] };
        }
        return s;
      }
      default:
        break;
    }
    // Container and group ioctls do not go through the device fd.
    if (ev.kind === 'ioctl' && ev.op === 'raw' && ev.fdKind !== 'device') return ioctl(k, ev, meta);
    if (!this.fdOpen()) return step({ kind: 'errno', errno: 'EBADF' }, 'core.fd.not-open');
    switch (ev.kind) {
      case 'mmap':
        return mmapRegion(k, ev.region, ev.offset, ev.length, ev.prot, ev.addr);
      case 'cfg-read':
        return this.resumed(() => cfgRead(k, ev.offset, ev.len));
      case 'cfg-write':
        return this.resumed(() => cfgWrite(k, ev.offset, ev.data));
      case 'region-read':
        if (ev.region === 7) return this.resumed(() => cfgRead(k, Number(ev.offset), ev.len));
        return this.resumed(() => regionRw(k, ev.region, ev.offset, ev.len, false));
      case 'region-write':
        if (ev.region === 7) return this.resumed(() => cfgWrite(k, Number(ev.offset), ev.data));
        return this.resumed(() => regionRw(k, ev.region, ev.offset, ev.data.length, true));
      case 'ioctl':
        return this.resumed(() => ioctl(k, ev, meta));
    }
  }

  observe(ev: TraceEvent, observed: Observed, s: Step): string | null {
    return observeHardware(this.k, ev, observed, s);
  }

  private resumed(fn: () => Step): Step {
    const pre: Effect[] = runtimeResume(this.k);
    const s = fn();
    const post = runtimeIdle(this.k);
    if (pre.length === 0 && post.length === 0) return s;
    return { ...s, effects: [...pre, ...s.effects, ...post] };
  }

  /** A user-visible device fd is open (not only files kept alive by mappings). */
  private fdOpen(): boolean {
    return this.k.st.open && this.openCount.n - this.heldByMappings > 0;
  }

  private close(): Step {
    const k = this.k;
    if (!this.fdOpen()) return step({ kind: 'errno', errno: 'EBADF' }, 'core.fd.not-open');
    if (k.st.mappings.length > 0) {
      this.heldByMappings++;
      return step({ kind: 'ok', ret: 0n }, 'core.close.deferred-by-mappings');
    }
    if (this.openCount.n > 1) {
      this.openCount.n--;
      return step({ kind: 'ok', ret: 0n }, 'core.close.not-last');
    }
    this.openCount.n = 0;
    return step({ kind: 'ok', ret: 0n }, 'core.close.disable', disableDevice(k));
  }
}

export function createKernelModel(device: DeviceSnapshot, versionId: string): KernelModel {
  return new VfioPciKernelModel(device, versionId);
}
