// What every kernel-model file works on: the device snapshot, the version's switches, the split
// state, the static geometry derived from the snapshot, and the event's race metadata.

import type { DeviceSnapshot, EventMeta, SriovVf } from '../../trace/types.js';
import type { Effect, PowerState } from '../outcome.js';
import { ConfigImage } from '../pci/config-image.js';
import { findCap, walkCapabilities, type CapWalk } from '../pci/caps.js';
import * as R from '../pci/regs.js';
import type { KernelSwitches } from '../versions/kernel.js';
import type { HwFunction, Mapping, VfioState } from './state.js';
import type { HwTraits } from '../devices/traits.js';
import type { HostConfig } from './host-config.js';

export interface BarGeom {
  index: number;
  size: bigint;
  kind: 'mem' | 'io' | 'none';
  is64: boolean;
  prefetch: boolean;
  /** Host physical / port address from the snapshot's BAR registers; 0n = unassigned. */
  start: bigint;
}

export interface Geometry {
  cfgSize: number;
  /** Bytes of config space the snapshot really has (sysfs may give only 64 unprivileged). */
  knownCfg: number;
  walk: CapWalk;
  pm: number; // capability offsets, 0 = absent
  msi: number;
  msix: number;
  exp: number;
  af: number;
  bars: BarGeom[];
  romSize: bigint;
  romStart: bigint;
  msixBar: number; // 0xff = none
  msixOffset: bigint;
  msixSize: bigint;
  needsPmRestore: boolean;
  expFlr: boolean;
  afFlr: boolean;
  pageSize: bigint;
}

export interface Kctx {
  readonly dev: DeviceSnapshot;
  readonly v: KernelSwitches;
  /** vfio-pci's module parameters and the kernel command line (host-config.ts). */
  readonly host: HostConfig;
  readonly g: Geometry;
  hw: HwFunction;
  st: VfioState;
  meta: EventMeta;
  /**
   * Set only by the interleaving explorer (src/replay/race/): the lock state other threads hold at
   * this step. Absent on the sequential path, where contention is judged from the race marks.
   */
  race?: RaceView;
  /** Set only by the explorer's dry run: the locks the step took for write (`memory_lock`). */
  lockLog?: string[];
  /**
   * vfio_pci_mmap_huge_fault's calls during the current host event (6.12+, huge-fault.ts), as
   * `order=N:RET`; deleted when the model cannot tell them (a mapping without its address).
   */
  faultLog?: string[];
}

/** What the explorer tells a step about the locks other threads of the race hold. */
export interface RaceView {
  /** Another thread holds memory_lock for write (or waits for it, blocking new readers). */
  memoryLockWriter: boolean;
}

/**
 * A VF's BAR registers read 0 (SR-IOV: VF BARs are RO zero); pci_resource_start comes from the PF's
 * VF BAR i plus vf_index * size (pci_iov_resource, drivers/pci/iov.c) [S]. Without the PF's
 * register in the trace, a BAR sysfs lists is assigned at an unknown, size-aligned address: only
 * "assigned" and the alignment matter to vfio-pci (vfio_bar_fixup, mmap support) [rule
 * config.vf.bar-from-pf-sriov].
 */
function vfBarStart(vf: SriovVf, index: number, size: bigint): bigint {
  const bar = vf.pf.vfBars.find((b) => b.index === index);
  if (bar !== undefined && bar.base !== 0n) return bar.base + BigInt(vf.vfIndex) * bar.size;
  return size * BigInt(vf.vfIndex + 1);
}

export function geometry(dev: DeviceSnapshot, traits: HwTraits): Geometry {
  const cfgSize = traits.cfgSize;
  const img = new ConfigImage(cfgSize);
  img.bytes.set(dev.config.subarray(0, cfgSize));
  const walk = walkCapabilities(img);
  const off = (space: 'std' | 'ext', id: number): number => findCap(walk, space, id)?.offset ?? 0;
  const pm = off('std', R.PCI_CAP_ID_PM);
  const msix = off('std', R.PCI_CAP_ID_MSIX);
  const exp = off('std', R.PCI_CAP_ID_EXP);
  const af = off('std', R.PCI_CAP_ID_AF);
  const bars: BarGeom[] = [];
  for (let i = 0; i < 6; i++) bars.push({ index: i, size: 0n, kind: 'none', is64: false, prefetch: false, start: 0n });
  for (const b of dev.bars) {
    if (b.index < 0 || b.index > 5) continue;
    const lo = img.u32(R.PCI_BASE_ADDRESS_0 + 4 * b.index);
    const hi = b.is64 && b.index < 5 ? img.u32(R.PCI_BASE_ADDRESS_0 + 4 * (b.index + 1)) : 0;
    const mask = b.kind === 'io' ? ~0x3 : ~0xf;
    let start = (BigInt(hi) << 32n) | BigInt((lo & mask) >>> 0);
    if (start === 0n && dev.sriovVf !== undefined) start = vfBarStart(dev.sriovVf, b.index, b.size);
    bars[b.index] = { index: b.index, size: b.size, kind: b.kind, is64: b.is64, prefetch: b.prefetchable, start };
  }
  let msixBar = 0xff;
  let msixOffset = 0n;
  let msixSize = 0n;
  if (msix !== 0) {
    const table = img.u32(msix + R.PCI_MSIX_TABLE);
    msixBar = table & R.PCI_MSIX_BIR;
    msixOffset = BigInt((table & ~R.PCI_MSIX_BIR) >>> 0);
    msixSize = BigInt(((img.u16(msix + R.PCI_MSIX_FLAGS) & R.PCI_MSIX_FLAGS_QSIZE) + 1) * R.PCI_MSIX_ENTRY_SIZE);
  }
  const romReg = img.u32(R.PCI_ROM_ADDRESS);
  return {
    cfgSize,
    knownCfg: Math.min(dev.config.length, cfgSize),
    walk,
    pm,
    msi: off('std', R.PCI_CAP_ID_MSI),
    msix,
    exp,
    af,
    bars,
    romSize: dev.romSize,
    romStart: dev.romSize > 0n ? BigInt((romReg & ~0x7ff) >>> 0) : 0n,
    msixBar,
    msixOffset,
    msixSize,
    // needs_pm_restore = !(PMCSR & NO_SOFT_RESET), sampled at registration [S]; the trait wins
    // when a probe found the bit lies (devices/traits.ts).
    needsPmRestore: pm !== 0 && !traits.noSoftReset,
    expFlr: traits.flr !== false && exp !== 0 && (img.u32(exp + R.PCI_EXP_DEVCAP) & R.PCI_EXP_DEVCAP_FLR) !== 0,
    afFlr: traits.flr !== false && af !== 0 && (img.u8(af + R.PCI_AF_CAP) & (R.PCI_AF_CAP_FLR | R.PCI_AF_CAP_TP)) === (R.PCI_AF_CAP_FLR | R.PCI_AF_CAP_TP),
    pageSize: BigInt(dev.pageSize > 0 ? dev.pageSize : 4096),
  };
}

const POWER_ORDER: Record<PowerState, number> = { D0: 0, D1: 1, D2: 2, D3hot: 3, D3cold: 4 };

export function powerBelow(p: PowerState, q: PowerState): boolean {
  return POWER_ORDER[p] < POWER_ORDER[q];
}

/**
 * vfio-pci treats the function as always memory-enabled: no_command_memory, or a VF. The block-
 * disabled-mmio code as first merged (catalog bug vf-mmio-blocking, fixed by ebfa440ce38b) did not
 * exempt VFs: their vconfig MEM started clear and accesses failed until the user set it.
 */
export function exemptFromMse(k: Kctx): boolean {
  return (k.dev.quirks.noCommandMemory && !k.v.bugNoCommandMemoryIgnored) || (k.dev.quirks.isVirtfn && !k.v.bugVfMmioBlocking);
}

/**
 * vfio-pci emulates COMMAND.MEM for the function (OR-ed into reads, no back-door-reset guess on
 * a MEM the hardware dropped): a VF, or since 515ecd5368f1 any no_command_memory function (catalog
 * bug no-command-memory: before it, only is_virtfn was tested).
 */
export function emulatesCommandMemory(k: Kctx): boolean {
  return k.dev.quirks.isVirtfn || (k.dev.quirks.noCommandMemory && !k.v.bugNoCommandMemoryIgnored);
}

function noCommandMemory(k: Kctx): boolean {
  // 5.8 tested pdev->is_virtfn; later pdev->no_command_memory, which the PCI core sets for VFs [S/M].
  return k.dev.quirks.noCommandMemory || k.dev.quirks.isVirtfn;
}

/** __vfio_pci_memory_enabled(): the virtual MSE (vconfig) and, since 5.19, current_state < D3hot. */
export function memoryEnabled(k: Kctx): boolean {
  if (!k.v.blockDisabledMmio) return hwDecodesMemory(k); // no predicate exists; report what the device does
  const cmd = k.st.vconfig.size > 0 ? k.st.vconfig.u16(R.PCI_COMMAND) : 0;
  const mse = exemptFromMse(k) || (cmd & R.PCI_COMMAND_MEMORY) !== 0;
  if (!k.v.d3hotBlocksAccess) return mse;
  return powerBelow(k.hw.power, 'D3hot') && mse;
}

/** Whether the physical function answers memory cycles: HW MSE set and in D0. */
export function hwDecodesMemory(k: Kctx): boolean {
  if (k.hw.power !== 'D0') return false;
  return noCommandMemory(k) || (k.hw.config.u16(R.PCI_COMMAND) & R.PCI_COMMAND_MEMORY) !== 0;
}

/** Why an access that reaches the device is a platform-fault hazard, or undefined if it is safe. */
export function hazardReason(k: Kctx): string | undefined {
  if (k.hw.power !== 'D0') return `device in ${k.hw.power}`;
  if (!hwDecodesMemory(k)) return 'memory decode disabled (COMMAND.MEM=0)';
  return undefined;
}

/**
 * A BAR PTE the fault handler built with remap_pfn_range on an SME host carries the encryption bit
 * (catalog bug sme-encrypted-bar-pte): the access does not reach the register as the user wrote
 * it. Which bytes come back is the platform's [M]; the model says only that they are not the device's.
 */
export function encryptedPteReason(k: Kctx): string | undefined {
  if (!k.v.bugSmeEncryptedBarPte || !k.host.memEncrypt) return undefined;
  return 'SME: the BAR PTE is encrypted (remap_pfn_range without pgprot_decrypted)';
}

/** A memory_lock writer runs: remember its race mark for faults that overlap it. */
export function takeWriter(k: Kctx): void {
  k.lockLog?.push('memory_lock');
  k.st.writerOverlap = k.meta.overlap;
  k.st.writerTid = k.meta.tid;
}

/** The process an event runs in: its `pid`, 0 = the traced process. */
export function eventPid(k: Kctx): number {
  return k.meta.pid ?? 0;
}

/** The BAR VMAs of the event's process (a forked child has its own copies at the same addresses). */
export function ownMappings(k: Kctx): Mapping[] {
  const pid = eventPid(k);
  return k.st.mappings.filter((m) => m.pid === pid);
}

/** vfio_pci_zap_bars(): drop every user PTE of BAR mmaps (mappings stay; next access refaults). */
export function zapBars(k: Kctx): Effect[] {
  if (k.v.faultPopulate === 'at-mmap') return [];
  const bars = new Set<number>();
  // Only present PTEs are torn down (vma_list held faulted VMAs; unmap_mapping_range finds no PTEs
  // elsewhere), so a zap with nothing populated is a no-op and reports nothing.
  for (const m of k.st.mappings) {
    if (m.untracked) continue; // not on vma_list: the zap never sees it
    if (m.populated.size > 0) bars.add(m.bar);
    m.populated.clear();
    m.huge = [];
  }
  if (bars.size === 0) return [];
  return [{ kind: 'zap', bars: [...bars].sort((a, b) => a - b) }];
}
