// Device state, split by owner (DESIGN "State has owners"; issue 21):
// - `HwFunction` is what the hardware holds: its config registers, its real power state (as it
//   would read back), and its traits (which D-states it accepts, what a reset clears, NoSoftRst,
//   config size, FLR, bus reset; devices/traits.ts). A function reset, a D3hot->D0 soft reset
//   (NoSoftRst-) or a PCI-core restore rewrites it. An observation that shows it differently is a
//   device note, and the model adopts it (learn.ts); register contents only the device knows
//   (BAR registers) are not modeled here: a device model has them (src/model/devices/).
// - `VfioState` is what vfio-pci holds (vconfig, memory_enabled's inputs, low power, mappings,
//   dmabufs, barmap, eventfds, runtime-PM bookkeeping): predicted from the hardware state; it
//   survives every reset and is only rebuilt by close + open. A disagreement here is a divergence.

import { initialIommufdState, type IommufdState } from './iommufd-state.js';
import type { DeviceSnapshot } from '../../trace/types.js';
import type { HugeSize, PowerState } from '../outcome.js';
import { ConfigImage } from '../pci/config-image.js';
import type { PermMap } from './perms.js';
import type { Type1Dma } from './type1.js';
import { findCap, walkCapabilities } from '../pci/caps.js';
import { hwWriteMask } from '../pci/hw-wmask.js';
import { resolveTraits, type HwTraits } from '../devices/traits.js';
import type { KernelSwitches } from '../versions/kernel.js';
import { PCI_CAP_ID_PM, PCI_PM_CTRL, PCI_PM_CTRL_STATE_MASK } from '../pci/regs.js';
import { writtenAsText, type RegKey, type RegValue } from './written.js';

/** Volatile: the hardware registers of the function. */
export interface HwFunction {
  config: ConfigImage;
  power: PowerState;
  /** Bits of config space the function implements as writable (hw-wmask.ts). */
  wmask: Uint8Array;
  /** What the function does that the spec leaves open: from the header, then learned. */
  traits: HwTraits;
  /**
   * Register values the trace wrote through pread/pwrite or CPU stores (`bar0+0x2800/4` -> its
   * bytes, encoded by written.ts) with the count of successful resets at the write: a read after a
   * later reset (`resets` grew) that returns the value written before it shows a reset that clears
   * nothing (learn.ts). Device data: never compared. A count, not a flag per entry, so a reset is
   * O(1): a long trace writes tens of thousands of registers and resets every few hundred events.
   */
  written: Map<RegKey, { value: RegValue; resets: number }>;
  /** Successful function/hot resets so far (what `written` entries are dated by). */
  resets: number;
  /** Power came back from D3cold without the function (`d3cold=no-wake`): config reads all ones. */
  lost: boolean;
}

/** A user mapping of a BAR through the device fd. */
export interface Mapping {
  addr: bigint;
  length: bigint;
  bar: number;
  /** Offset of the mapping's first byte within the BAR. */
  barOffset: bigint;
  prot: number;
  /** Page indexes (within the mapping) whose PTEs are present. */
  populated: Set<number>;
  /** The process whose address space holds the VMA (0 = the traced process; a fork's child number). */
  pid: number;
  /** The device file the VMA holds a reference to (the fd it was mmapped through; processes.ts). */
  file: number;
  /**
   * Present PTEs vfio-pci does not know about: a fork child's copies on a vma_list kernel whose
   * dup_mmap ran vm_ops->open before copy_page_range. vfio_pci_zap_bars walks vma_list only, so
   * they survive every zap until the VMA faults (and joins the list) or goes away.
   */
  untracked: boolean;
  /** PMD/PUD entries huge_fault inserted (their pages are in `populated` too); a zap drops them. */
  huge?: HugeEntry[];
  /**
   * Page-table levels of this VMA's blocks that point to a lower table (`pmd@<va hex>`): the mm
   * core no longer offers that huge order there; a zap keeps page-table pages, munmap frees them.
   */
  tables?: Set<string>;
}

/** One huge entry of a mapping: pages [first, first+pages); `skew` bytes below its aim (unaligned PFN). */
export interface HugeEntry {
  size: HugeSize;
  first: number;
  pages: number;
  skew: bigint;
}

export type Barmap =
  | { state: 'none' }
  /** Region requested + iomapped; `overlap`/`tid` of the event that set it up lazily (race detection). */
  | { state: 'mapped'; overlap: number; tid: number }
  /** Enable-time setup failed for this BAR (7.1+: ERR_PTR kept in barmap[]). */
  | { state: 'error'; errno: string };

export interface Dmabuf {
  fd: number;
  ordinal: number;
  region: number;
  size: bigint;
  /** How many ranges it was exported with (iommufd imports only single-range ones). */
  ranges: number;
  revoked: boolean;
  /** Device closed: permanently revoked, detached from the device. */
  orphaned: boolean;
  attached: boolean;
  mapped: boolean;
  closed: boolean;
}

export interface Ioeventfd {
  bar: number;
  offset: bigint;
  data: bigint;
  size: number;
  fd: number;
}

export type IrqType = 'none' | 'intx' | 'msi' | 'msix';

/** Survives reset: vfio-pci's per-open state. */
export interface VfioState {
  open: boolean;
  vconfig: ConfigImage;
  perms: PermMap | null;
  bardirty: boolean;
  /** BAR registers at open (vdev->rbar), written back on a detected back-door reset. */
  rbar: number[];
  barMmapSupported: boolean[];
  barmap: Barmap[];
  /** BAR regions left requested after a failed iomap (barmap-at-enable v2..v4): a later request fails -EBUSY. */
  leakedRegions: Set<number>;
  resetWorks: boolean;
  needsReset: boolean;
  mappings: Mapping[];
  dmabufs: Dmabuf[];
  irqType: IrqType;
  irqVectors: number;
  /** INTx has a trigger eventfd (vdev->ctx[0].trigger); SET_IRQS with fd -1 leaves INTx on without one. */
  intxTrigger: boolean;
  /** vdev->ctx[0].masked: INTx masked (DisINTx set, or the IRQ line disabled for a device without it). */
  intxMasked: boolean;
  /** The host IRQ line's disable depth (disable_irq/enable_irq) for INTx without DisINTx masking. */
  intxDepth: number;
  /** A device interrupt arrived while the line was disabled: it fires when the line is enabled. */
  intxPending: boolean;
  /** vdev->msi_qmax: log2 of the MSI vectors enabled through SET_IRQS (clamps the virtual QSIZE). */
  msiQmax: number;
  /** vdev->pci_saved_state: the config saved at enable, restored by disable. */
  openSaved: ConfigImage | null;
  virqDisabled: boolean;
  ioeventfds: Ioeventfd[];
  /** NoSoftRst- config saved on entry to D3hot (vdev->pm_save). */
  pmSaved: boolean;
  pmRuntimeEngaged: boolean;
  pmWakeupEventfd: boolean;
  /** The device is runtime-suspended (D3hot) while low power is engaged. */
  runtimeSuspended: boolean;
  /** Driver binding of the function (sysfs bind/unbind/remove/rescan). */
  bound: 'vfio-pci' | 'none' | 'removed';
  /** sysfs driver_override ("" = none; the file shows "(null)"). */
  driverOverride: string;
  /** power/control: "auto" lets runtime PM suspend the unused function, "on" forbids it. */
  rpmControl: 'auto' | 'on';
  /** sysfs d3cold_allowed. */
  d3coldAllowed: boolean;
  /** The bound, unopened function is in its idle low-power state (runtime-pm.ts). */
  idle: boolean;
  /** vfio-pci let go of the device (unbind, remove) while the VMM held its group fd open. */
  groupPredatesRebind: boolean;
  /** The type1 container's dmas (vfio_iommu.dma_list): the container outlives device opens. */
  dmas: Type1Dma[];
  /** /dev/iommu contexts and the device's cdev files (iommufd-state.ts): they outlive device opens too. */
  iommufd: IommufdState;
  /** overlap id / tid of the last memory_lock writer (race resolution). */
  writerOverlap: number;
  writerTid: number;
  /** SR-IOV (sriov.ts): VFs enabled on this PF (pci_num_vf). */
  numVfs: number;
  /** The PF's vf_token->uuid ("" = all zero) and ->users (VFs open by a vfio user). */
  vfToken: string;
  vfUsers: number;
}

const STATE_NAMES: PowerState[] = ['D0', 'D1', 'D2', 'D3hot'];

/** The function as the snapshot shows it: an unopened vfio-pci device is often runtime-suspended (D3hot). */
export function initialHw(dev: DeviceSnapshot): HwFunction {
  const size = dev.config.length >= 4096 ? 4096 : 256;
  const config = new ConfigImage(size);
  config.bytes.set(dev.config.subarray(0, size));
  const walk = walkCapabilities(config);
  const pm = findCap(walk, 'std', PCI_CAP_ID_PM);
  const power = pm !== undefined ? (STATE_NAMES[config.u16(pm.offset + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK] ?? 'D0') : 'D0';
  // The capture's sysfs power_state, when recorded, is the state the function is really in (a
  // runtime-suspended device's PMCSR reads D0 through sysfs config, which resumes it first).
  const recorded = dev.sysfs?.powerState ?? '';
  const start: PowerState = recorded === 'D3hot' || recorded === 'D3cold' || recorded === 'D0' ? recorded : power;
  return { config, power: start, wmask: hwWriteMask(config, walk), traits: resolveTraits(dev), written: new Map(), resets: 0, lost: false };
}

/** The bound, unopened device's runtime PM at trace start: from the header, else the driver's defaults. */
export function initialPmState(dev: DeviceSnapshot, v: KernelSwitches): Pick<VfioState, 'rpmControl' | 'd3coldAllowed' | 'idle' | 'driverOverride'> {
  const p = dev.sysfs;
  const control = p?.control === 'on' || p?.control === 'auto' ? p.control : v.idleD3 === 'runtime-pm' ? 'auto' : 'on';
  const idle = p !== undefined && (p.runtimeStatus === 'suspended' || p.powerState === 'D3hot' || p.powerState === 'D3cold');
  const override = p === undefined || p.driverOverride === '(null)' ? '' : p.driverOverride;
  return { rpmControl: control, d3coldAllowed: p?.d3coldAllowed !== '0', idle, driverOverride: override };
}

export function initialVfioState(dev?: DeviceSnapshot): VfioState {
  return {
    open: false,
    vconfig: new ConfigImage(0),
    perms: null,
    bardirty: true,
    rbar: [],
    barMmapSupported: [false, false, false, false, false, false],
    barmap: Array.from({ length: 6 }, () => ({ state: 'none' }) as Barmap),
    leakedRegions: new Set<number>(),
    resetWorks: false,
    needsReset: false,
    mappings: [],
    dmabufs: [],
    irqType: 'none',
    irqVectors: 0,
    intxTrigger: false,
    intxMasked: false,
    intxDepth: 0,
    intxPending: false,
    msiQmax: 0,
    openSaved: null,
    virqDisabled: false,
    ioeventfds: [],
    pmSaved: false,
    pmRuntimeEngaged: false,
    pmWakeupEventfd: false,
    runtimeSuspended: false,
    bound: 'vfio-pci',
    driverOverride: '',
    rpmControl: 'auto',
    d3coldAllowed: true,
    idle: false,
    groupPredatesRebind: false,
    dmas: [],
    iommufd: initialIommufdState(),
    writerOverlap: 0,
    writerTid: 0,
    numVfs: dev?.sriov?.numVfs ?? 0,
    vfToken: dev?.sriov?.vfToken ?? '',
    vfUsers: dev?.sriov?.vfUsers ?? 0,
  };
}

/**
 * The function's state as the interleaving explorer tells states apart: `written` as a flag per
 * register (written before the latest reset or not) rather than the reset counts, so two
 * interleavings that differ only in how many resets happened before a register was written (the
 * same flags) stay one state, as they were when the flag was stored.
 */
export function stateOfHw(hw: HwFunction): object {
  const written = writtenAsText(hw.written, hw.resets);
  // Every other field as it is (a field added to HwFunction is part of the state without a change here).
  return { ...hw, written, resets: undefined };
}
