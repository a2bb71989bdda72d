// What every VMM model does, whatever the VMM: start up (open the device, mmap the BARs it
// direct-maps), keep the guest's view of the BARs (placement from guest config writes, live or not,
// direct-mapped or trapped), dispatch guest MMIO (through the mapping, as a BAR pread/pwrite, to an
// emulated MSI-X table, or to unassigned space), and die the way the accelerator makes it die.
// The VMM-specific part is the config-write policy and when a placed BAR is live (`isLive`).

import type { KernelModel, VmmModel } from '../interfaces.js';
import type { Accelerator, DeviceSnapshot, EventMeta, GuestEvent, HostEvent } from '../../trace/types.js';
import { renderOutcome, step } from '../outcome.js';
import type { Effect, Outcome, PowerState, RuleId, Step } from '../outcome.js';
import type { VmmSwitches, VmmVersion } from '../versions/vmm.js';
import type { MsixDiscovery } from './openvmm-caps.js';
import { ConfigImage, leBytes, leValue } from '../pci/config-image.js';
import { findCap, walkCapabilities } from '../pci/caps.js';
import { PCI_CAP_ID_MSIX, PCI_CAP_ID_PM } from '../pci/regs.js';
import { GuestBars, allOnes, extract, hex, withinDword, PCI_BAR0, PCI_BAR_END } from './guest-config.js';
import type { MsixRelocation } from './qemu-msix-relocation.js';

export type BarMode = 'direct' | 'trapped';

/** The MSI-X structures inside a BAR, and the rest of the pages that hold them. */
export type MsixPart = 'table' | 'pba' | 'table-page' | 'pba-page';

/** How a VMM serves an access to an MSI-X part: emulated, pread/pwrite, its own load/store on the mmap, or like the rest of the BAR. */
export type MsixRoute = 'emulated' | 'trapped' | 'userspace' | 'bar';

export interface LiveBar {
  gpa: bigint;
  size: bigint;
  mode: BarMode;
}

/** Where the MSI-X table and PBA live: the same facts OpenVMM's discovery reports. */
export type MsixLayout = MsixDiscovery;

/**
 * Host VA the model gives the VMM's mmap of BAR n (deterministic). Its alignment matters to huge
 * faults: an aligning VMM gets a 4G-aligned address (any power of two up to 1G divides it); one
 * that lets the kernel choose gets a 2M- but not 1G-aligned one (VmmSwitches.barMmapAlign).
 */
export function syntheticMmapAddr(bar: number, align: VmmSwitches['barMmapAlign'] = 'size-pow2-1g'): bigint {
  return 0x7f00_0000_0000n + BigInt(bar) * 0x1_0000_0000n + (align === 'kernel' ? 0x20_0000n : 0n);
}

/** Short, stable text for a host op a VMM issued (the `fwd(...)` effect). */
export function describeHost(ev: HostEvent): string {
  switch (ev.kind) {
    case 'cfg-read':
      return `cfg-read ${hex(ev.offset)} len=${ev.len}`;
    case 'cfg-write':
      return `cfg-write ${hex(ev.offset)} len=${ev.data.length} val=${hex(leValue(ev.data))}`;
    case 'region-read':
      return `region-read bar${ev.region}+${hex(ev.offset)} len=${ev.len}`;
    case 'region-write':
      return `region-write bar${ev.region}+${hex(ev.offset)} len=${ev.data.length} val=${hex(leValue(ev.data))}`;
    case 'mem-read':
      return `mem-read bar${ev.bar}+${hex(ev.offset)} len=${ev.len}`;
    case 'mem-write':
      return `mem-write bar${ev.bar}+${hex(ev.offset)} len=${ev.len} val=${hex(ev.value)}`;
    case 'mmap':
      return `mmap bar${ev.region} len=${hex(ev.length)}`;
    case 'map-dma':
      return `map-dma iova=${hex(ev.iova)} size=${hex(ev.size)}`;
    case 'unmap-dma':
      return `unmap-dma iova=${hex(ev.iova)} size=${hex(ev.size)}`;
    case 'ioctl':
      return ev.op === 'set-irqs' ? `ioctl set-irqs index=${ev.index} count=${ev.count}` : `ioctl ${ev.op}`;
    default:
      return ev.kind;
  }
}

/** The host operations one guest event turned into, with everything they changed. */
export class HostCalls {
  readonly effects: Effect[] = [];
  constructor(
    private readonly kernel: KernelModel,
    private readonly meta: EventMeta,
  ) {}

  issue(ev: HostEvent): Step {
    const s = this.kernel.host(ev, this.meta);
    // A successful mmap's return is the model's synthetic address: noise in a golden, so left out.
    const result = ev.kind === 'mmap' && s.outcome.kind === 'ok' ? 'ok' : renderOutcome(s.outcome);
    this.effects.push({ kind: 'forward', what: `${describeHost(ev)} => ${result}` }, ...s.effects);
    return s;
  }

  note(what: string): void {
    this.effects.push({ kind: 'vmm-state', what });
  }

  push(e: Effect): void {
    this.effects.push(e);
  }
}

/** The value a successful kernel read step carries (a load's `value`, or the bytes of a pread). */
export function readValue(o: Outcome, len: number): bigint {
  if (o.kind !== 'ok') return allOnes(len);
  if (o.value !== undefined) return o.value;
  if (o.data !== undefined) return leValue(o.data);
  return 0n;
}

export interface Decision {
  outcome: Outcome;
  rule: RuleId;
}

export const ok = (rule: RuleId, value?: bigint): Decision => ({
  outcome: value === undefined ? { kind: 'ok' } : { kind: 'ok', value },
  rule,
});

export abstract class VmmBase implements VmmModel {
  readonly versionId: string;
  protected readonly bars: GuestBars;
  /** The guest's COMMAND.MEM as this VMM tracks it. */
  protected mse = false;
  /** The guest's D-state as this VMM tracks it (only versions that track it change it). */
  protected pm: PowerState = 'D0';
  protected msixEnabled = false;
  protected readonly pmCap: number | null;
  protected readonly msix: MsixLayout | null;
  /** BARs currently placed in guest physical space, by BAR index. */
  protected readonly live = new Map<number, LiveBar>();
  /** The VMM's own mmaps of the device fd, by BAR index. */
  protected readonly hostMmaps = new Map<number, bigint>();
  /** BARs whose mmap failed: reached by pread/pwrite instead. */
  protected readonly mmapFailed = new Set<number>();
  /** KVM memslots the VMM was seen to create over a BAR mmap (host `memslot` events). */
  private readonly slots = new Map<number, number>();
  /** The emulated MSI-X table and PBA contents, by byte offset within the table BAR (dwords). */
  private readonly msixTable = new Map<number, number>();
  /** The device's own size of each memory BAR: what the VMM can mmap; above it a guest BAR is the VMM's. */
  private readonly realSize = new Map<number, bigint>();
  /** The VMM moved the MSI-X structures to another BAR (QEMU x-msix-relocation): the guest sees the moved layout. */
  protected readonly msixRelocated: boolean;
  /** Why the VMM refuses the device's MSI-X layout at realize (QEMU's relocation errors), or null. */
  protected readonly layoutRefused: string | null;
  private realized = false;
  private death: Outcome | null = null;

  constructor(
    protected readonly kernel: KernelModel,
    protected readonly device: DeviceSnapshot,
    protected readonly version: VmmVersion,
    protected readonly accel: Accelerator,
    /** The VMM's device options from the trace header (`x-no-mmap=on`), in command-line order. */
    protected readonly options: readonly string[] = [],
  ) {
    this.versionId = version.id;
    const img = new ConfigImage(device.config);
    const walk = walkCapabilities(img);
    this.pmCap = findCap(walk, 'std', PCI_CAP_ID_PM)?.offset ?? null;
    const msix = msixFromImage(img, findCap(walk, 'std', PCI_CAP_ID_MSIX)?.offset ?? null);
    const relo = this.msixRelocation(msix);
    this.msixRelocated = relo.kind === 'moved';
    this.layoutRefused = relo.kind === 'refused' ? relo.why : null;
    this.msix = relo.kind === 'moved' ? relo.msix : msix;
    this.bars = new GuestBars(relo.kind === 'moved' ? relo.bars : device.bars);
    for (const b of device.bars) if (b.kind === 'mem' && b.size > 0n) this.realSize.set(b.index, b.size);
  }

  /** Where this VMM puts the MSI-X structures in the guest's BARs (called from the constructor: use only `this.options`/`this.device`). */
  protected msixRelocation(_msix: MsixLayout | null): MsixRelocation {
    return { kind: 'none' };
  }

  get alive(): boolean {
    return this.death === null;
  }

  protected get sw() {
    return this.version.switches;
  }

  // ----- per-VMM policy ------------------------------------------------------------------------

  /** Apply a guest config write (already checked to stay inside a dword). */
  protected abstract configWrite(calls: HostCalls, offset: number, len: number, value: bigint): Decision;
  /** A guest config read outside the BAR registers. */
  protected abstract configRead(calls: HostCalls, offset: number, len: number): Decision;
  /** Reset of the VMM's own view when it resets the device (a host `ioctl reset` it issued). */
  protected abstract onDeviceReset(calls: HostCalls): void;

  /** A device this VMM refuses to assign (it fails to start), or null. */
  protected refuseDevice(): { why: string; rule: RuleId } | null {
    return null;
  }

  /**
   * Why this VMM maps no BAR and traps every BAR access (QEMU's x-no-mmap=on), as a note for the
   * log, or null when it maps the BARs it can. Decides realize() and barMode().
   */
  protected noBarMmap(): string | null {
    return null;
  }

  /** The rule of a successful trapped BAR access (a subclass names why the BAR is trapped). */
  protected trappedRule(): RuleId {
    return 'vmm.trapped';
  }

  /** Whether a placed BAR is live (claimed in guest physical space) in the VMM's current view. */
  protected isLive(): boolean {
    return (!this.sw.unmapOnMseClear || this.mse) && (!this.sw.unmapWhenNotD0 || this.pm === 'D0');
  }

  // ----- VmmModel ------------------------------------------------------------------------------

  guest(ev: GuestEvent, meta: EventMeta): Step {
    if (this.death) return step(this.death, 'vmm.dead');
    const calls = new HostCalls(this.kernel, withoutObserved(meta));
    const fatal = this.realize(calls);
    if (fatal) return step(fatal.outcome, fatal.rule, calls.effects);
    let d: Decision;
    switch (ev.kind) {
      case 'guest-cfg-read':
        d = withinDword(ev.offset, ev.len)
          ? this.guestConfigRead(calls, ev.offset, ev.len)
          : { outcome: { kind: 'unsupported', reason: 'config access crosses a dword' }, rule: 'vmm.cfg.width' };
        break;
      case 'guest-cfg-write':
        d = withinDword(ev.offset, ev.len)
          ? this.configWrite(calls, ev.offset, ev.len, ev.value & allOnes(ev.len))
          : { outcome: { kind: 'unsupported', reason: 'config access crosses a dword' }, rule: 'vmm.cfg.width' };
        break;
      case 'guest-mmio-read':
        d = this.mmio(calls, ev.gpa, ev.len, null);
        break;
      case 'guest-mmio-write':
        d = this.mmio(calls, ev.gpa, ev.len, ev.value);
        break;
    }
    return step(d.outcome, d.rule, calls.effects);
  }

  host(ev: HostEvent, meta: EventMeta): Step {
    if (this.death) return step(this.death, 'vmm.dead');
    const calls = new HostCalls(this.kernel, withoutObserved(meta));
    switch (ev.kind) {
      case 'memslot': {
        // KVM's own checks first (host page alignment, kernel/kvm.ts).
        const k = this.kernel.host(ev, meta);
        if (k.outcome.kind === 'errno') return this.memslotFailed(k);
        return this.memslot(ev.slot, ev.gpa, ev.size, ev.uaddr);
      }
      case 'kvm-run':
        return this.kvmRun();
      case 'ioctl':
        if (ev.op === 'reset') {
          this.onDeviceReset(calls);
          const s = this.kernel.host(ev, meta);
          return step(s.outcome, s.rule, [...calls.effects, ...s.effects]);
        }
        break;
      case 'mmap': {
        const s = this.kernel.host(ev, meta);
        if (s.outcome.kind === 'ok' && ev.region < 6 && ev.offset === 0n) {
          this.hostMmaps.set(ev.region, ev.addr !== 0n ? ev.addr : (s.outcome.ret ?? 0n));
          this.mmapFailed.delete(ev.region);
        }
        return s;
      }
      case 'munmap': {
        for (const [bar, addr] of this.hostMmaps) if (addr === ev.addr) this.hostMmaps.delete(bar);
        break;
      }
      default:
        break;
    }
    return this.kernel.host(ev, meta);
  }

  /**
   * A KVM_RUN seen from the host side. Whether it fails depends on what the guest touched, which a
   * host-only trace does not show; the model says so, and names the BARs that would make a guest
   * access fail (live memslots over a mapping the kernel no longer lets fault in).
   */
  private kvmRun(): Step {
    const stale = this.kernel.view.memoryEnabled
      ? []
      : [...this.live].filter(([, lb]) => lb.mode === 'direct').map(([i]) => `bar${i}`);
    const reason =
      stale.length === 0
        ? 'KVM_RUN result depends on guest accesses the trace does not show'
        : `KVM_RUN result depends on guest accesses the trace does not show; an access to ${stale.join(',')} would fail -EFAULT (memslot over a zapped mapping)`;
    return step({ kind: 'unsupported', reason }, stale.length === 0 ? 'vmm.kvm-run.needs-guest-events' : 'vmm.kvm-run.stale-memslot');
  }

  // ----- start-up ------------------------------------------------------------------------------

  /** Open the device and mmap the BARs this VMM direct-maps, once, before the first guest access. */
  private realize(calls: HostCalls): Decision | null {
    if (this.realized) return null;
    this.realized = true;
    if (!this.kernel.view.isOpen) {
      const s = calls.issue({ kind: 'open' });
      if (s.outcome.kind !== 'ok') return this.exit(calls, 1, 'vmm.realize-failed');
    }
    const refused = this.refuseDevice();
    if (refused) {
      calls.note(refused.why);
      return this.exit(calls, 1, refused.rule);
    }
    const noMmap = this.noBarMmap();
    if (noMmap !== null) {
      calls.note(noMmap);
      return null;
    }
    if (!this.sw.directMapBars || this.device.quirks.nonMappableBars) {
      if (this.sw.directMapBars) for (const b of this.bars.memBars()) this.mmapFailed.add(b.index);
      return null;
    }
    for (const b of this.bars.memBars()) {
      // A BAR the VMM made up (a relocated MSI-X BAR) has nothing to mmap; an extended one its own part.
      const real = this.realSize.get(b.index);
      if (this.hostMmaps.has(b.index) || real === undefined) continue;
      const page = BigInt(this.device.pageSize > 0 ? this.device.pageSize : 4096);
      const length = ((real + page - 1n) / page) * page;
      const addr = syntheticMmapAddr(b.index, this.sw.barMmapAlign);
      const s = calls.issue({ kind: 'mmap', region: b.index, offset: 0n, length, prot: 3, addr });
      if (s.outcome.kind === 'ok') {
        this.hostMmaps.set(b.index, addr);
      } else if (this.sw.barMmapFailureFatal) {
        calls.note(`bar${b.index} mmap failed: device init fails`);
        return this.exit(calls, 1, 'vmm.bar-mmap-failed');
      } else {
        calls.note(`bar${b.index} mmap failed: trapped`);
        this.mmapFailed.add(b.index);
      }
    }
    return null;
  }

  private exit(calls: HostCalls, status: number, rule: RuleId): Decision {
    this.death = { kind: 'vmm-exit', how: 'exit', status };
    calls.note(`exited status=${status}`);
    return { outcome: this.death, rule };
  }

  // ----- BAR placement -------------------------------------------------------------------------

  protected barMode(index: number): BarMode {
    if (this.noBarMmap() !== null) return 'trapped';
    return this.sw.directMapBars && this.hostMmaps.has(index) && !this.mmapFailed.has(index) ? 'direct' : 'trapped';
  }

  /**
   * Bring the guest's BAR placement in line with the VMM's view: unmap BARs that moved or are no
   * longer live, then map the new ones (the order OpenVMM's update_bar_mappings uses; QEMU's memory
   * transaction has the same net effect). Returns true when anything changed.
   */
  protected updateMappings(calls: HostCalls): boolean {
    const want = new Map<number, LiveBar>();
    if (this.isLive()) {
      for (const b of this.bars.memBars()) {
        const gpa = this.bars.placement(b.index);
        if (gpa !== null) want.set(b.index, { gpa, size: b.size, mode: this.barMode(b.index) });
      }
    }
    let changed = false;
    for (const [i, old] of [...this.live]) {
      const n = want.get(i);
      if (n && n.gpa === old.gpa && n.mode === old.mode) continue;
      this.live.delete(i);
      changed = true;
      if (old.mode === 'direct') {
        calls.push({ kind: 'guest-unmap', bar: i });
        if (this.sw.p2pDmaMapBars) for (const [off, size] of this.p2pSections(i, old.gpa)) calls.issue({ kind: 'unmap-dma', iova: old.gpa + off, size, flags: 0 });
      } else calls.note(`bar${i} untrapped`);
    }
    for (const [i, n] of want) {
      if (this.live.has(i)) continue;
      this.live.set(i, n);
      changed = true;
      if (n.mode === 'direct') {
        calls.push({ kind: 'guest-map', bar: i });
        if (this.sw.p2pDmaMapBars) this.p2pMap(calls, i, n.gpa);
      } else calls.note(`bar${i} trapped at ${hex(n.gpa)}`);
    }
    return changed;
  }

  /**
   * The parts of a direct-mapped BAR the VMM's DMA listener maps for peer-to-peer: the BAR minus
   * the page(s) of the emulated MSI-X table (offset within the BAR, size).
   */
  private p2pSections(bar: number, gpa: bigint): [bigint, bigint][] {
    const info = this.bars.info(bar);
    if (!info) return [];
    const page = BigInt(this.device.pageSize > 0 ? this.device.pageSize : 4096);
    // A sub-page BAR: expanded to one page when placed host-page aligned, else no section holds a
    // whole page and the listener maps nothing (vfio_listener_region_add page-aligns iova/end).
    if (this.sw.subPageBar === 'expand-when-aligned' && info.size < page) return gpa % page === 0n ? [[0n, page]] : [];
    const real = this.realSize.get(bar) ?? 0n;
    // The listener maps the VMM's mmap (the device's own size); an emulated table above it is no hole.
    if (!this.msix || this.msix.tableBar !== bar || BigInt(this.msix.tableRange[0]) >= real) return real > 0n ? [[0n, real]] : [];
    const hs = (BigInt(this.msix.tableRange[0]) / page) * page;
    const he = ((BigInt(this.msix.tableRange[1]) + page - 1n) / page) * page;
    const out: [bigint, bigint][] = [];
    if (hs > 0n) out.push([0n, hs]);
    if (he < real) out.push([he, real - he]);
    return out;
  }

  /** VFIO_IOMMU_MAP_DMA of the BAR mmap at its guest address; a failure is reported and ignored. */
  private p2pMap(calls: HostCalls, bar: number, gpa: bigint): void {
    const va = this.hostMmaps.get(bar);
    if (va === undefined) return;
    for (const [off, size] of this.p2pSections(bar, gpa)) {
      const s = calls.issue({ kind: 'map-dma', vaddr: va + off, iova: gpa + off, size, flags: 3 });
      if (s.outcome.kind === 'errno') calls.note(`bar${bar} p2p dma map failed: reported, ignored`);
    }
  }

  /**
   * KVM refused a memslot (-EINVAL: not aligned to the host page). QEMU's kvm_set_phys_mem prints
   * "error registering slot" and aborts (128 + SIGABRT = 134): the VM does not boot. Other VMMs'
   * handling is not read: the errno is reported as is.
   */
  private memslotFailed(k: Step): Step {
    if (this.sw.memslotFailure === 'abort') {
      this.death = { kind: 'vmm-exit', how: 'exit', status: 134 };
      return step(this.death, 'vmm.memslot-failed-aborts', [{ kind: 'vmm-state', what: `memslot ${renderOutcome(k.outcome)} [${k.rule}]: abort` }]);
    }
    return step(k.outcome, 'vmm.memslot-failed', [{ kind: 'vmm-state', what: `memslot ${renderOutcome(k.outcome)} [${k.rule}]` }]);
  }

  /** KVM_SET_USER_MEMORY_REGION the VMM was seen to issue (strace): a memslot over a BAR mmap. */
  private memslot(slot: number, gpa: bigint, size: bigint, uaddr: bigint): Step {
    const effects: Effect[] = [];
    const prev = this.slots.get(slot);
    if (prev !== undefined) {
      this.slots.delete(slot);
      if (this.live.get(prev)?.mode === 'direct') {
        this.live.delete(prev);
        effects.push({ kind: 'guest-unmap', bar: prev });
      }
    }
    if (size > 0n) {
      for (const [bar, addr] of this.hostMmaps) {
        const info = this.bars.info(bar);
        if (!info || uaddr < addr || uaddr >= addr + info.size) continue;
        this.slots.set(slot, bar);
        this.live.set(bar, { gpa: gpa - (uaddr - addr), size: info.size, mode: 'direct' });
        effects.push({ kind: 'guest-map', bar });
      }
    }
    return step({ kind: 'ok' }, 'vmm.memslot', effects);
  }

  // ----- guest config reads --------------------------------------------------------------------

  private guestConfigRead(calls: HostCalls, offset: number, len: number): Decision {
    if (offset >= PCI_BAR0 && offset < PCI_BAR_END) {
      const i = (offset - PCI_BAR0) >> 2;
      return ok('vmm.cfg.bar-emulated', extract(this.bars.dword(i), PCI_BAR0 + 4 * i, offset, len));
    }
    return this.configRead(calls, offset, len);
  }

  /** Forward a config read as the kernel sees it; null when it failed. */
  protected forwardCfgRead(calls: HostCalls, offset: number, len: number): bigint | null {
    const s = calls.issue({ kind: 'cfg-read', offset, len });
    return s.outcome.kind === 'ok' ? readValue(s.outcome, len) : null;
  }

  /** Forward a config write of `len` bytes at `offset`; true when it succeeded. */
  protected forwardCfgWrite(calls: HostCalls, offset: number, len: number, value: bigint): boolean {
    const s = calls.issue({ kind: 'cfg-write', offset, data: leBytes(value, len) });
    return s.outcome.kind === 'ok';
  }

  /** MSI-X enable edge: route the vectors through VFIO_DEVICE_SET_IRQS (all VMMs do; none writes it to hardware itself). */
  protected msixEdge(calls: HostCalls, enable: boolean): void {
    if (enable === this.msixEnabled || !this.msix) return;
    this.msixEnabled = enable;
    const count = enable ? this.msix.vectorCount : 0;
    // VFIO_PCI_MSIX_IRQ_INDEX = 2; DATA_EVENTFD|ACTION_TRIGGER = 0x24, DATA_NONE|ACTION_TRIGGER = 0x21.
    calls.issue({ kind: 'ioctl', op: 'set-irqs', flags: enable ? 0x24 : 0x21, index: 2, start: 0, count, argsz: 20 + 4 * count, fds: [] });
    calls.note(`msix ${enable ? 'enabled' : 'disabled'}`);
  }

  // ----- guest MMIO ----------------------------------------------------------------------------

  private mmio(calls: HostCalls, gpa: bigint, len: number, value: bigint | null): Decision {
    const hit = this.findLive(gpa, len);
    if (!hit) return this.unassigned(len);
    const [bar, lb] = hit;
    const offset = gpa - lb.gpa;
    const part = this.msixPart(bar, offset, len);
    // Above the device's own part of a BAR only the emulated table answers: the rest of a relocated
    // MSI-X BAR (its PBA, which QEMU keeps disabled, and padding) is the BAR container's unassigned space.
    if (part !== 'table' && offset + BigInt(len) > (this.realSize.get(bar) ?? 0n)) return this.unassigned(len);
    const route: MsixRoute = part === null ? 'bar' : this.msixRoute(part, lb.mode);
    switch (route) {
      case 'emulated':
        return this.msixTableAccess(bar, offset, len, value);
      case 'trapped':
        return this.trapped(calls, bar, offset, len, value);
      case 'userspace':
        return this.userspace(calls, bar, offset, len, value);
      case 'bar':
        if (lb.mode === 'direct' && this.subPageUnaligned(bar, lb)) {
          const d = this.userspace(calls, bar, offset, len, value);
          return d.rule === 'vmm.userspace-mapping' ? { ...d, rule: 'vmm.sub-page-bar-userspace' } : d;
        }
        return lb.mode === 'direct' ? this.direct(calls, bar, offset, len, value) : this.trapped(calls, bar, offset, len, value);
    }
  }

  /**
   * A direct-mapped BAR smaller than the host page, placed by the guest at an address that is not
   * host-page aligned: QEMU cannot expand it to a page (vfio_sub_page_bar_update_mapping) and KVM
   * memslots hold only whole host pages (kvm_align_section drops the section), so every access exits
   * to QEMU, which loads/stores through its own mmap of the BAR.
   */
  private subPageUnaligned(bar: number, lb: LiveBar): boolean {
    if (this.sw.subPageBar !== 'expand-when-aligned') return false;
    const page = BigInt(this.device.pageSize > 0 ? this.device.pageSize : 4096);
    const info = this.bars.info(bar);
    return info !== undefined && info.size < page && lb.gpa % page !== 0n;
  }

  /**
   * Where an access to the MSI-X structures of a live BAR goes. Default (OpenVMM, cloud-hypervisor):
   * the table and PBA are emulated and the rest of their pages is left out of the direct map, so
   * it is proxied with pread/pwrite.
   */
  protected msixRoute(part: MsixPart, _mode: BarMode): MsixRoute {
    return part === 'table' || part === 'pba' ? 'emulated' : 'trapped';
  }

  private findLive(gpa: bigint, len: number): [number, LiveBar] | null {
    for (const [i, lb] of this.live) if (gpa >= lb.gpa && gpa + BigInt(len) <= lb.gpa + lb.size) return [i, lb];
    return null;
  }

  /** Which MSI-X structure (or the rest of its page) an access touches; the table wins a shared page. */
  private msixPart(bar: number, offset: bigint, len: number): MsixPart | null {
    if (!this.msix) return null;
    const page = BigInt(this.device.pageSize > 0 ? this.device.pageSize : 4096);
    const e = offset + BigInt(len);
    const parts: [MsixPart, MsixPart, number, [number, number]][] = [
      ['table', 'table-page', this.msix.tableBar, this.msix.tableRange],
      ['pba', 'pba-page', this.msix.pbaBar, this.msix.pbaRange],
    ];
    for (const [exact, , b, [s, t]] of parts) {
      if (b === bar && offset < BigInt(t) && BigInt(s) < e) return exact;
    }
    for (const [, around, b, [s, t]] of parts) {
      if (b !== bar) continue;
      const ps = (BigInt(s) / page) * page;
      const pe = ((BigInt(t) + page - 1n) / page) * page;
      if (offset < pe && ps < e) return around;
    }
    return null;
  }

  /**
   * The VMM process itself loads/stores through its mmap of the BAR (QEMU's RAM-device region for
   * the part of the MSI-X table page no memslot can cover). A zapped mapping is a SIGBUS in the
   * vCPU thread that QEMU re-raises with the default action: killed (135) under KVM and TCG alike.
   */
  private userspace(calls: HostCalls, bar: number, offset: bigint, len: number, value: bigint | null): Decision {
    const s =
      value === null
        ? calls.issue({ kind: 'mem-read', bar, offset, len })
        : calls.issue({ kind: 'mem-write', bar, offset, len, value });
    const o = s.outcome;
    if (o.kind === 'signal' && o.signal === 'SIGBUS') {
      this.death = { kind: 'vmm-exit', how: 'killed-sigbus', status: 135 };
      calls.note('VMM thread SIGBUS on its own BAR mapping: process killed');
      return { outcome: this.death, rule: 'vmm.userspace-mapping-sigbus' };
    }
    if (o.kind === 'ok') return ok('vmm.userspace-mapping', value === null ? readValue(o, len) : undefined);
    return { outcome: o, rule: s.rule };
  }

  private msixTableAccess(bar: number, offset: bigint, len: number, value: bigint | null): Decision {
    const o = Number(offset);
    const aligned = o & ~3;
    const inTable = this.msix !== null && bar === this.msix.tableBar && o >= this.msix.tableRange[0] && o < this.msix.tableRange[1];
    // Vector Control (dword 3 of an entry) powers up with Mask set.
    const dflt = inTable && ((o - this.msix!.tableRange[0]) & 0xc) === 0xc ? 1 : 0;
    const cur = this.msixTable.get(aligned) ?? dflt;
    if (value === null) return ok('vmm.msix.emulated', extract(cur, aligned, o, Math.min(len, 4 - (o & 3))));
    if (inTable) {
      let merged = cur;
      for (let i = 0; i < len && (o & 3) + i < 4; i++) {
        const sh = 8 * ((o & 3) + i);
        merged = ((merged & ~(0xff << sh)) | (Number((value >> BigInt(8 * i)) & 0xffn) << sh)) >>> 0;
      }
      this.msixTable.set(aligned, merged);
    }
    return ok('vmm.msix.emulated');
  }

  /** Through the direct mapping: a CPU access on the vfio mmap. A zapped mapping kills the VM. */
  private direct(calls: HostCalls, bar: number, offset: bigint, len: number, value: bigint | null): Decision {
    const s =
      value === null
        ? calls.issue({ kind: 'mem-read', bar, offset, len })
        : calls.issue({ kind: 'mem-write', bar, offset, len, value });
    const o = s.outcome;
    if (o.kind === 'signal' && o.signal === 'SIGBUS') return this.dieOnStaleMapping(calls);
    if (o.kind === 'ok') return ok('vmm.direct-map', value === null ? readValue(o, len) : undefined);
    return { outcome: o, rule: s.rule };
  }

  /**
   * The host mapping behind a guest memslot was zapped. Under KVM the vCPU's fault on the memslot
   * goes through fixup_user_fault -> VM_FAULT_SIGBUS -> KVM_RUN returns -EFAULT and the VMM stops
   * the VM. Under TCG the vCPU thread itself touches the VA and takes a SIGBUS QEMU has blocked:
   * the kernel kills the process (128 + SIGBUS = 135) without a message. MSHV and unknown
   * accelerators are treated like KVM (a failed VP run); that is an assumption, not a reading.
   * The status of a KVM_RUN failure is 0: the VM stops, the process is not reported as exited.
   */
  private dieOnStaleMapping(calls: HostCalls): Decision {
    this.death =
      this.accel === 'tcg'
        ? { kind: 'vmm-exit', how: 'killed-sigbus', status: 135 }
        : { kind: 'vmm-exit', how: 'kvm-run-efault', status: 0 };
    calls.note(this.accel === 'tcg' ? 'vCPU SIGBUS: process killed' : 'KVM_RUN -EFAULT: VM stopped');
    return { outcome: this.death, rule: 'vmm.direct-map-stale' };
  }

  /** Trapped: the VMM proxies the access with pread/pwrite on the BAR region. */
  private trapped(calls: HostCalls, bar: number, offset: bigint, len: number, value: bigint | null): Decision {
    if (value === null) {
      const s = calls.issue({ kind: 'region-read', region: bar, offset, len });
      if (s.outcome.kind === 'ok') return ok(this.trappedRule(), readValue(s.outcome, len));
      if (s.outcome.kind === 'errno') return { outcome: { kind: 'all-ones', len }, rule: 'vmm.trapped.error-all-ones' };
      return { outcome: s.outcome, rule: s.rule };
    }
    const s = calls.issue({ kind: 'region-write', region: bar, offset, data: leBytes(value, len) });
    if (s.outcome.kind === 'ok') return ok(this.trappedRule());
    if (s.outcome.kind === 'errno') return { outcome: { kind: 'dropped' }, rule: 'vmm.trapped.error-dropped' };
    return { outcome: s.outcome, rule: s.rule };
  }

  /**
   * No BAR claims the address. Reads see the machine's unassigned value (QEMU: 0 from
   * unassigned_mem_read; OpenVMM: the chipset's MissingDev fills !0); writes go nowhere. For a
   * write the outcome carries the value a read there would return.
   */
  private unassigned(len: number): Decision {
    const v = this.sw.unassignedRead === 'ones' ? allOnes(len) : 0n;
    return { outcome: { kind: 'unassigned', value: v }, rule: 'vmm.unassigned' };
  }

  // ----- helpers for subclasses ----------------------------------------------------------------

  /** The PMCSR value the device has now (through the kernel's virtual config), for RMW and reset. */
  protected peekPmcsr(): number {
    if (this.pmCap === null) return 0;
    return Number(this.kernel.view.peekConfig(this.pmCap + 4, 2));
  }
}

function withoutObserved(meta: EventMeta): EventMeta {
  // The fields listed, not `{ observed, ...rest }`: `meta` is the whole event, and a rest-spread
  // copied every field of it on each guest access (a hot spot of small-trace replays).
  return { seq: meta.seq, tsNs: meta.tsNs, tid: meta.tid, overlap: meta.overlap };
}

export function pmStateOf(bits: number): PowerState {
  return (['D0', 'D1', 'D2', 'D3hot'] as const)[bits & 3];
}

export function pmCode(s: PowerState): number {
  return s === 'D0' ? 0 : s === 'D1' ? 1 : s === 'D2' ? 2 : 3;
}

function msixFromImage(img: ConfigImage, cap: number | null): MsixLayout | null {
  if (cap === null || !img.inRange(cap, 12)) return null;
  const ctrl = img.u16(cap + 2);
  const vectorCount = (ctrl & 0x7ff) + 1;
  const table = img.u32(cap + 4);
  const pba = img.u32(cap + 8);
  const tOff = (table & ~7) >>> 0;
  const pOff = (pba & ~7) >>> 0;
  return {
    capOffset: cap,
    vectorCount,
    tableBar: table & 7,
    tableRange: [tOff, tOff + vectorCount * 16],
    pbaBar: pba & 7,
    pbaRange: [pOff, pOff + Math.ceil(vectorCount / 64) * 8],
  };
}
