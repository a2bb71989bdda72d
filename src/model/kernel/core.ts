// vfio_pci_core.c: open/enable and close/disable, the device ioctls (GET_INFO, GET_REGION_INFO,
// RESET, hot reset, features incl. low power), mmap and the fault handler (type1 MAP_DMA reuses it:
// type1.ts). Evidence per rule in the comments.

import type { EventMeta, IoctlOp } from '../../trace/types.js';
import { ownAllBut } from '../data-owner.js';
import { step, type Effect, type Step } from '../outcome.js';
import { ConfigImage, leBytes } from '../pci/config-image.js';
import * as R from '../pci/regs.js';
import { encryptedPteReason, eventPid, hazardReason, memoryEnabled, ownMappings, takeWriter, zapBars, type Kctx } from './context.js';
import { initVconfig } from './config.js';
import { cleanupOnClose, exportDmabuf, revokeAll, unrevokeIfEnabled } from './dmabuf.js';
import { getIrqInfo, setIrqs } from './intrs.js';
import { barMmapSupported } from './mmap-support.js';
import { dropPmSave, setHwPower, vfioSetPowerState } from './power.js';
import { enableBarmaps, ioeventfd, releaseBarmaps, setupBarmap } from './rdwr.js';
import { functionReset, resetMethod } from './reset.js';
import { hugeEntryAt, handlerFault, misdirected } from './huge-fault.js';
import { intxReset } from './device-irq.js';
import { enterIdle, leaveIdle } from './runtime-pm.js';
import type { HugeEntry, Mapping } from './state.js';
import { pfKeepsD0, vfTokenFeature } from './sriov.js';
import { checkExtension } from './group-setup.js';

const NUM_REGIONS = 9;

// ----- open / close ----------------------------------------------------------------------------

/** Why VFIO_GROUP_GET_DEVICE_FD finds no device to open, or null. */
export function openRefusal(k: Kctx): Step | null {
  // Unbound (sysfs unbind/remove): no device of that name in the group [S vfio group; L runtime-pm].
  if (k.st.bound !== 'vfio-pci') return step({ kind: 'errno', errno: 'ENODEV' }, 'core.open.not-bound');
  // Bound again after an unbind, the device is not found through the group fd the VMM opened
  // before [L runtime-pm #49 on 6.1, 6.12, 7.2; why (a new vfio_group for the re-registered
  // device) is M]: a VMM has to open the group again.
  if (k.st.groupPredatesRebind) return step({ kind: 'errno', errno: 'ENODEV' }, 'core.open.group-fd-predates-rebind');
  // A denylisted device is never bound to vfio-pci (probe returns -EBUSY): there is no device to
  // get [S vfio_pci.c vfio_pci_is_denylisted; the errno the VMM then sees is M].
  if (k.v.probeDenylist && !k.host.disableDenylist && denylisted(k.dev.vendorId, k.dev.deviceId))
    return step({ kind: 'errno', errno: 'ENODEV' }, 'core.open.denylisted');
  return null;
}

export function openDevice(k: Kctx, openCount: { n: number }): Step {
  if (openCount.n > 0) {
    openCount.n++;
    return step({ kind: 'ok', ret: 0n }, 'core.open.already-enabled');
  }
  const refused = openRefusal(k);
  if (refused !== null) return refused;
  const eff: Effect[] = [];
  // vfio_pci_core_enable [S 6.x]: D0, clear bus master, pci_enable_device (decode for present resources).
  // An idle device comes back with its state: from vfio's pm_save, or restored by the PCI core's
  // runtime resume when it was runtime-suspended before the first open [L reset-reopen #7].
  if (k.st.idle) eff.push(...leaveIdle(k));
  else if (k.hw.power !== 'D0') eff.push(...(k.st.pmSaved ? vfioSetPowerState(k, 'D0') : setHwPower(k, 'D0')));
  let cmd = k.hw.config.u16(R.PCI_COMMAND) & ~R.PCI_COMMAND_MASTER;
  for (const b of k.g.bars) {
    if (b.kind === 'io' && b.size > 0n) cmd |= R.PCI_COMMAND_IO;
    // A VF's COMMAND.MEM is hardwired to 0 (PCIe SR-IOV), as is that of a no_command_memory
    // function (s390 VFs without is_virtfn): the enable does not stick [P: ebfa440ce38b, 515ecd5368f1].
    if (b.kind === 'mem' && b.size > 0n && !k.dev.quirks.isVirtfn && !k.dev.quirks.noCommandMemory) cmd |= R.PCI_COMMAND_MEMORY;
  }
  k.hw.config.setU16(R.PCI_COMMAND, cmd);
  const method = k.hw.lost ? undefined : resetMethod(k);
  // A function lost in D3cold: the reset's wait gives up ("not ready ... giving up"), so
  // reset_works stays false [M]; vconfig is built from all-ones reads (lost.ts).
  k.st.resetWorks = method !== undefined;
  if (method !== undefined) {
    eff.push(...functionReset(k, method));
    k.st.needsReset = false;
  }
  // vdev->pci_saved_state: what disable restores [S].
  k.st.openSaved = k.hw.config.clone();
  // pci_2_3 INTx masking: the HW INTX_DISABLE bit is cleared at enable [S]; nointxmask leaves
  // pci_2_3 false, so a DisINTx the last disable wrote stays set [S vfio_pci_core_enable].
  const keptDisIntx = k.host.nointxmask && (k.hw.config.u16(R.PCI_COMMAND) & R.PCI_COMMAND_INTX_DISABLE) !== 0;
  if (!k.host.nointxmask) k.hw.config.setU16(R.PCI_COMMAND, k.hw.config.u16(R.PCI_COMMAND) & ~R.PCI_COMMAND_INTX_DISABLE);
  initVconfig(k);
  if (k.v.barmapAt !== 'lazy') {
    const err = enableBarmaps(k);
    if (err !== undefined) {
      releaseBarmaps(k);
      return step({ kind: 'errno', errno: err }, 'core.open.barmap-error-fails-open', eff);
    }
  }
  k.st.barMmapSupported = k.g.bars.map((_, i) => barMmapSupported(k, i));
  k.st.open = true;
  openCount.n = 1;
  const rule = k.hw.lost ? 'core.open.device-lost' : keptDisIntx ? 'core.open.enable-no-intx-masking' : 'core.open.enable';
  return step({ kind: 'ok', ret: 0n }, rule, eff);
}

/** vfio_pci_core_disable + dmabuf cleanup [S]. */
export function disableDevice(k: Kctx): Effect[] {
  const eff: Effect[] = [];
  if (k.st.pmRuntimeEngaged) {
    k.st.pmRuntimeEngaged = false;
    k.st.pmWakeupEventfd = false;
    eff.push({ kind: 'low-power', what: 'exit' });
  }
  k.st.runtimeSuspended = false;
  // (A function lost in D3cold does not come back for this either: it stays in D3cold.)
  if (k.hw.power !== 'D0' && !k.hw.lost) eff.push(...vfioSetPowerState(k, 'D0'), ...setHwPower(k, 'D0'));
  k.st.irqType = 'none';
  intxReset(k);
  k.st.irqVectors = 0;
  k.st.ioeventfds = [];
  releaseBarmaps(k);
  k.st.needsReset = true;
  // COMMAND = INTX_DISABLE: decode off in HW [S].
  k.hw.config.setU16(R.PCI_COMMAND, R.PCI_COMMAND_INTX_DISABLE);
  const method = resetMethod(k);
  if (k.st.resetWorks && method !== undefined) {
    eff.push(...functionReset(k, method));
    k.st.needsReset = false;
  }
  // pci_restore_state() of the state saved at enable, then pci_disable_device() clears bus master
  // [S; L reset-reopen #51: COMMAND reads the open-time 0x0103 after close + reopen].
  if (k.st.openSaved !== null) {
    restoreExceptPower(k, k.st.openSaved);
    k.st.openSaved = null;
  }
  k.hw.config.setU16(R.PCI_COMMAND, k.hw.config.u16(R.PCI_COMMAND) & ~R.PCI_COMMAND_MASTER);
  eff.push(...cleanupOnClose(k));
  dropPmSave(k);
  k.st.open = false;
  // The unused device goes to D3hot (or D3cold) unless disable_idle_d3 / power/control=on:
  // vfio_pci_set_power_state before 5.19, runtime suspend after (runtime-pm.ts) [S].
  eff.push(...enterIdle(k));
  eff.push({ kind: 'release', what: 'device' });
  return eff;
}

function restoreExceptPower(k: Kctx, saved: ConfigImage): void {
  const pmAt = k.g.pm !== 0 ? k.g.pm + R.PCI_PM_CTRL : -1;
  const pmcsr = pmAt >= 0 ? k.hw.config.u16(pmAt) : 0;
  k.hw.config.bytes.set(saved.bytes);
  if (pmAt >= 0) k.hw.config.setU16(pmAt, (saved.u16(pmAt) & ~R.PCI_PM_CTRL_STATE_MASK) | (pmcsr & R.PCI_PM_CTRL_STATE_MASK));
}

// ----- mmap / fault ----------------------------------------------------------------------------

/** mmap through device file `file` in the event's process. */
export function mmapRegion(k: Kctx, region: number, offset: bigint, length: bigint, prot: number, addr: bigint, file: number): Step {
  if (region >= NUM_REGIONS) {
    // vfio_pci_mmap took vdev->region[index - VFIO_PCI_NUM_REGIONS] without bounding it by
    // num_regions until 909290786ea3. The model's devices have no device-specific regions, so
    // vdev->region is NULL: entry 0 is NULL (-EINVAL), a later one a pointer just above NULL
    // whose ->ops the kernel reads (catalog bug mmap-region-index-oob).
    if (k.v.bugMmapRegionIndexUnchecked && region > NUM_REGIONS)
      return step({ kind: 'kernel-failure', failure: 'bug', where: 'vfio_pci_mmap', consequence: 'thread-killed' }, 'mmap.extra-region-index-oob-bug');
    return step({ kind: 'errno', errno: 'EINVAL' }, 'mmap.invalid-index');
  }
  if (region >= 6) return step({ kind: 'errno', errno: 'EINVAL' }, 'mmap.not-a-bar');
  if (!k.st.barMmapSupported[region])
    return step({ kind: 'errno', errno: 'EINVAL' }, k.dev.quirks.nonMappableBars ? 'mmap.non-mappable-bars' : 'mmap.bar-not-mappable');
  if (offset % k.g.pageSize !== 0n || length === 0n) return step({ kind: 'errno', errno: 'EINVAL' }, 'mmap.unaligned-offset');
  const b = k.g.bars[region];
  const pageAlignedLen = b === undefined ? 0n : ((b.size + k.g.pageSize - 1n) / k.g.pageSize) * k.g.pageSize;
  const len = ((length + k.g.pageSize - 1n) / k.g.pageSize) * k.g.pageSize;
  if (offset + len > pageAlignedLen) return step({ kind: 'errno', errno: 'EINVAL' }, 'mmap.past-bar-end');
  const bm = setupBarmap(k, region);
  if (!bm.ok) return step({ kind: 'errno', errno: bm.errno }, bm.rule.replace(/^rdwr\./, 'mmap.'));
  const m: Mapping = { addr, length: len, bar: region, barOffset: offset, prot, populated: new Set<number>(), pid: eventPid(k), file, untracked: false };
  const eff: Effect[] = [];
  let rule = 'mmap.ok-lazy';
  if (k.v.faultPopulate === 'at-mmap') {
    // Pre-5.8: remap_pfn_range of the whole range in mmap(); never zapped [S].
    for (let i = 0; BigInt(i) * k.g.pageSize < len; i++) m.populated.add(i);
    eff.push({ kind: 'populate', bar: region });
    rule = 'mmap.remap-at-mmap';
  }
  k.st.mappings.push(m);
  return step({ kind: 'ok', ...(addr !== 0n ? { ret: addr } : {}) }, rule, eff);
}

export function munmap(k: Kctx, addr: bigint, length: bigint): Step {
  // mm: the address must be page aligned, the length is rounded up to whole (host) pages.
  if (addr % k.g.pageSize !== 0n) return step({ kind: 'errno', errno: 'EINVAL' }, 'mmap.munmap-unaligned-einval');
  const end = addr + ((length + k.g.pageSize - 1n) / k.g.pageSize) * k.g.pageSize;
  const hit = ownMappings(k).filter((m) => m.addr < end && addr < m.addr + m.length);
  if (hit.length === 0) return step({ kind: 'ok', ret: 0n }, 'mmap.munmap-nothing');
  for (const m of hit) {
    if (m.addr < addr || m.addr + m.length > end)
      return step({ kind: 'unsupported', reason: 'partial munmap of a BAR mapping is not modeled' }, 'mmap.munmap-partial');
  }
  k.st.mappings = k.st.mappings.filter((m) => !hit.includes(m));
  return step({ kind: 'ok', ret: 0n }, 'mmap.munmap');
}

/** The event's process's mapping of this BAR offset (a child's VMAs are its own copies). */
export function findMapping(k: Kctx, bar: number, offset: bigint): Mapping | undefined {
  const pid = eventPid(k);
  return k.st.mappings.find((m) => m.pid === pid && m.bar === bar && offset >= m.barOffset && offset < m.barOffset + m.length);
}

/** Why the fault handler would return VM_FAULT_SIGBUS, or undefined. */
export function faultRefusal(k: Kctx): string | undefined {
  if (!k.v.blockDisabledMmio) return undefined;
  if (k.v.lowPowerFeatures && k.st.pmRuntimeEngaged) return 'fault.low-power-sigbus';
  if (!memoryEnabled(k)) return 'fault.memory-disabled-sigbus';
  return undefined;
}

/** A memory_lock writer with the same race mark is in flight: the fault contends with it. */
export function contended(k: Kctx): boolean {
  if (k.race !== undefined) return k.race.memoryLockWriter;
  return k.meta.overlap !== 0 && k.st.writerOverlap === k.meta.overlap && k.st.writerTid !== k.meta.tid;
}

/** A fault the handler inserts for; `userMode`: a CPU access of the process (huge-fault.ts FaultPath). */
export function populate(k: Kctx, m: Mapping, page: number, userMode = false): Effect[] {
  m.untracked = false; // the fault handler puts the VMA on vma_list (5.8-6.9)
  if (k.v.faultPopulate === 'whole-vma') {
    // 5.8-6.9: io_remap_pfn_range of the entire VMA on its first fault [S @0886196c].
    for (let i = 0; BigInt(i) * k.g.pageSize < m.length; i++) m.populated.add(i);
    return [{ kind: 'populate', bar: m.bar }];
  }
  // 6.12+: the mm core offers PUD, PMD, then a page (huge-fault.ts).
  const huge = handlerFault(k, m, page, { refused: false, userMode });
  return [...huge.effects, { kind: 'populate', bar: m.bar }];
}

/** A fault the handler refuses (SIGBUS): no mapping, but its calls and the tables they leave (huge-fault.ts). */
export function refusedFault(k: Kctx, m: Mapping, page: number, userMode = false): void {
  if (k.v.faultPopulate !== 'whole-vma') handlerFault(k, m, page, { refused: true, userMode });
}

/** Where a CPU access lands: a finished step (no mapping, read-only, PTE present) or the fault to take. */
export type Walk = { done: Step } | { m: Mapping; offset: bigint; what: string };

/** The MMU's part of a CPU access: no kernel entry when the PTE is present. */
export function cpuWalk(k: Kctx, bar: number, offset: bigint, write: boolean): Walk {
  const m = findMapping(k, bar, offset);
  if (m === undefined) return { done: step({ kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_MAPERR' }, 'fault.no-mapping') };
  if (write && !(m.prot & 0x2)) return { done: step({ kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_ACCERR' }, 'fault.write-to-readonly-mapping') };
  const page = Number((offset - m.barOffset) / k.g.pageSize);
  const what = `bar${bar}+0x${offset.toString(16)}`;
  if (m.populated.has(page)) {
    // PTE present: the CPU reaches the device without entering the kernel.
    const hz = hazardReason(k);
    const eff: Effect[] = [{ kind: 'device-access', what }];
    const h = hugeEntryAt(m, page);
    if (h !== undefined && h.skew !== 0n) return { done: misdirected(k, m, h, offset, 'mem.huge-entry-misdirected', eff) };
    if (hz !== undefined)
      return { done: step({ kind: 'hazard', reason: hz }, k.v.faultPopulate === 'at-mmap' ? 'mem.premapped-reaches-disabled-device' : 'mem.pte-present-reaches-disabled-device', eff) };
    const enc = encryptedPteReason(k);
    if (enc !== undefined) return { done: step({ kind: 'hazard', reason: enc }, 'mem.encrypted-pte', eff) };
    return { done: step({ kind: 'ok' }, 'mem.pte-present', eff) };
  }
  return { m, offset, what };
}

/** The fault handler once it holds memory_lock: refuse (SIGBUS) or populate and let the access through. */
export function faultIn(k: Kctx, m: Mapping, offset: bigint, what: string): Step {
  const page = Number((offset - m.barOffset) / k.g.pageSize);
  const refusal = faultRefusal(k);
  if (refusal !== undefined) {
    refusedFault(k, m, page, true);
    return step({ kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' }, refusal);
  }
  const eff = populate(k, m, page, true);
  eff.push({ kind: 'device-access', what });
  const h = hugeEntryAt(m, page);
  if (h !== undefined && h.skew !== 0n) return misdirected(k, m, h, offset, 'fault.huge-unaligned-pfn-misdirected', eff);
  const hz = hazardReason(k);
  if (hz !== undefined) return step({ kind: 'hazard', reason: hz }, 'fault.populated-device-not-decoding', eff);
  const enc = encryptedPteReason(k);
  if (enc !== undefined) return step({ kind: 'hazard', reason: enc }, 'fault.populated-encrypted-pte', eff);
  return step({ kind: 'ok' }, faultRule(h, eff), eff);
}

/** The rule of a fault that mapped: the huge level inserted, a PTE after huge fallbacks, or a plain populate. */
function faultRule(h: HugeEntry | undefined, eff: Effect[]): string {
  if (h !== undefined) return h.size === 'pud' ? 'fault.huge-pud' : 'fault.huge-pmd';
  return eff.some((e) => e.kind === 'fallback') ? 'fault.huge-fallback-pte' : 'fault.populate';
}

export function cpuAccess(k: Kctx, bar: number, offset: bigint, write: boolean): Step {
  const w = cpuWalk(k, bar, offset, write);
  if ('done' in w) return w.done;
  if (contended(k)) {
    if (k.v.bugContendedFaultSigbus)
      return step({ kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' }, 'fault.contended-writer-sigbus');
    return step({ kind: 'blocked' }, 'fault.contended-writer-waits');
  }
  return faultIn(k, w.m, w.offset, w.what);
}

// ----- ioctls ----------------------------------------------------------------------------------

const FEATURE_MASK = 0xffff;
const FEATURE_GET = 0x10000;
const FEATURE_SET = 0x20000;
const FEATURE_PROBE = 0x40000;

function regionInfo(k: Kctx, index: number, argsz: number): Step {
  if (argsz < 32) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.region-info.argsz-einval');
  if (index < 0 || index >= NUM_REGIONS) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.region-info.index-einval');
  const READ = 0x1, WRITE = 0x2, MMAP = 0x4, CAPS = 0x8;
  let flags = 0;
  let size = 0n;
  let capOffset = 0;
  let outArgsz = argsz;
  let rule = 'core.region-info.ok';
  const eff: Effect[] = [];
  if (index < 6) {
    const b = k.g.bars[index];
    size = b?.size ?? 0n;
    if (size > 0n) {
      flags = READ | WRITE;
      if (k.st.barMmapSupported[index]) flags |= MMAP;
      if (flags & MMAP && index === k.g.msixBar) {
        // MSIX_MAPPABLE capability (4.16+) [S]
        flags |= CAPS;
        rule = 'core.region-info.msix-mappable';
        if (argsz >= 32 + 8) capOffset = 32;
        else outArgsz = 32 + 8;
      }
    } else rule = 'core.region-info.bar-unimplemented';
  } else if (index === 6) {
    if (k.g.romSize > 0n && k.g.romStart !== 0n) {
      // vfio_pci_memory_lock_and_enable around pci_map_rom: a memory_lock writer, HW MSE forced on [S].
      takeWriter(k);
      flags = READ;
      size = k.g.romSize;
      rule = 'core.region-info.rom';
    } else rule = 'core.region-info.rom-absent';
  } else if (index === 7) {
    flags = READ | WRITE;
    size = BigInt(k.hw.traits.cfgSize);
    rule = 'core.region-info.config';
  } else {
    if (!k.dev.vga) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.region-info.vga-absent-einval');
    if (k.host.disableVga) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.region-info.vga-disabled-einval');
    flags = READ | WRITE;
    size = 0xc0000n;
    rule = 'core.region-info.vga';
  }
  const data = new Uint8Array(capOffset ? 40 : 32);
  data.set(leBytes(BigInt(outArgsz), 4), 0);
  data.set(leBytes(BigInt(flags), 4), 4);
  data.set(leBytes(BigInt(index), 4), 8);
  data.set(leBytes(BigInt(capOffset), 4), 12);
  data.set(leBytes(size, 8), 16);
  data.set(leBytes(BigInt(index) << 40n, 8), 24);
  if (capOffset) data.set(leBytes(3n | (1n << 16n), 8), 32); // {id 3, version 1, next 0}
  return step({ kind: 'ok', ret: 0n, data }, rule, eff);
}

function getInfo(k: Kctx, argsz: number): Step {
  if (argsz < 16) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.get-info.argsz-einval');
  const flags = 0x2 | (k.st.resetWorks ? 0x1 : 0);
  // argsz >= offsetofend(cap_offset): cap_offset (0, no caps for a plain PCI function) is copied out too [S; L info-edges #3].
  const data = new Uint8Array(k.v.deviceInfoCapOffset && argsz >= 20 ? 20 : 16);
  data.set(leBytes(BigInt(argsz), 4), 0);
  data.set(leBytes(BigInt(flags), 4), 4);
  data.set(leBytes(9n, 4), 8);
  data.set(leBytes(5n, 4), 12);
  return step({ kind: 'ok', ret: 0n, data }, 'core.get-info.ok');
}

/** VFIO_DEVICE_RESET [S 6.15; P 6.19 revoke; P bar-zap-cleanup v3 order]. */
function deviceReset(k: Kctx): Step {
  if (!k.st.resetWorks) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.reset.not-supported-einval');
  const method = resetMethod(k) ?? 'unknown';
  const eff: Effect[] = [];
  if (!k.v.blockDisabledMmio) {
    eff.push(...functionReset(k, method));
    return step({ kind: 'ok', ret: 0n }, 'core.reset.no-zap', eff);
  }
  const toD0 = (): void => {
    if (k.v.resetEntersD0ViaVfio && k.hw.power !== 'D0') eff.push(...vfioSetPowerState(k, 'D0'));
  };
  let rule = 'core.reset.zap-then-d0';
  if (k.v.resetZapAfterD0) {
    takeWriter(k);
    toD0();
    eff.push(...zapBars(k), ...revokeAll(k));
    rule = 'core.reset.d0-then-zap';
  } else {
    eff.push(...zapBars(k));
    takeWriter(k);
    toD0();
    eff.push(...revokeAll(k));
  }
  eff.push(...functionReset(k, method));
  eff.push(...unrevokeIfEnabled(k));
  return step({ kind: 'ok', ret: 0n }, rule, eff);
}

function hotResetInfo(k: Kctx, argsz: number): Step {
  if (argsz < 12) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.hot-reset-info.argsz-einval');
  if (!busResettable(k)) return step({ kind: 'errno', errno: 'ENODEV' }, 'core.hot-reset-info.no-bus-reset');
  // Too small for the affected devices: -ENOSPC, and the header goes back anyway with the count
  // the caller must make room for (hdr.count; flags 0 on the group path) [S; L hot-reset #2]. A
  // VF's set is its PF and the enabled VFs [L igb-vf reset-reopen #1].
  const set = vfBusSetSize(k);
  if (argsz < 12 + 8 * set) {
    const data = new Uint8Array(12);
    data.set(leBytes(BigInt(argsz), 4), 0);
    data.set(leBytes(BigInt(set), 4), 8);
    return step({ kind: 'errno', errno: 'ENOSPC', data }, 'core.hot-reset-info.enospc');
  }
  if (set > 1) return step({ kind: 'unsupported', reason: "the VF's bus reset set (its PF and sibling VFs) is not in the snapshot" }, 'core.hot-reset-info.vf-siblings-unknown');
  return step({ kind: 'ok', ret: 0n, ...hotResetInfoData(k, argsz) }, 'core.hot-reset-info.ok');
}

/**
 * The struct written back: {argsz, flags 0 (group path), count 1} and one vfio_pci_dependent_device
 * {group_id, segment, bus, devfn} for the function itself [S; L hot-reset #3]. A field the header
 * does not know (group -1, an unparsable address) is left unowned.
 */
function hotResetInfoData(k: Kctx, argsz: number): { data: Uint8Array; own: Uint8Array } {
  const data = new Uint8Array(12 + 8 * AFFECTED_SET_SIZE);
  data.set(leBytes(BigInt(argsz), 4), 0);
  data.set(leBytes(BigInt(AFFECTED_SET_SIZE), 4), 8);
  const unknown: [number, number][] = [];
  // Through the cdev (6.6+): flags DEV_ID | DEV_ID_OWNED and the iommufd device id where the group
  // would be (vfio_pci_fill_devs: the one device is bound to this iommufd) [S vfio_pci_core.c].
  const bound = k.st.iommufd.cdevFiles.find((f) => f.bound);
  if (bound !== undefined) {
    data.set(leBytes(3n, 4), 4);
    data.set(leBytes(BigInt(bound.devId), 4), 12);
  } else if (k.dev.iommuGroup >= 0) data.set(leBytes(BigInt(k.dev.iommuGroup), 4), 12);
  else unknown.push([12, 16]);
  const m = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(k.dev.bdf);
  if (m !== null) {
    data.set(leBytes(BigInt(parseInt(m[1], 16)), 2), 16);
    data[18] = parseInt(m[2], 16);
    data[19] = (parseInt(m[3], 16) << 3) | parseInt(m[4], 10);
  } else unknown.push([16, 20]);
  return { data, own: ownAllBut(data.length, ...unknown) };
}

/** Devices in the hot-reset set: the trace header describes one function and no siblings. */
const AFFECTED_SET_SIZE = 1;

/**
 * A VF sits on its PF's bus with its sibling VFs: vfio probes a bus reset there
 * (pci_probe_reset_bus) although the VF's reset_method has no "bus" (the VF is not alone on the
 * bus) [S vfio_pci_ioctl_get_pci_hot_reset_info; L igb-vf reset-reopen #1: -ENOSPC, not -ENODEV].
 * Not on a root bus, which has no bridge to reset.
 */
function vfOnPfBus(k: Kctx): boolean {
  const m = /^[0-9a-fA-F]{4}:([0-9a-fA-F]{2}):/.exec(k.dev.bdf);
  return k.dev.sriovVf !== undefined && m !== null && parseInt(m[1]!, 16) !== 0;
}

function busResettable(k: Kctx): boolean {
  return k.hw.traits.busReset || vfOnPfBus(k);
}

/** The bus reset's device set for a VF: the PF and the enabled VFs; 1 for anything else. */
function vfBusSetSize(k: Kctx): number {
  return vfOnPfBus(k) ? 1 + Math.max(k.dev.sriovVf!.pf.numVfs, 1) : AFFECTED_SET_SIZE;
}

function hotReset(k: Kctx, flags: number, groupFds: number[]): Step {
  if (flags !== 0) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.hot-reset.flags-einval');
  // Group path: count must be > 0; a device opened through the cdev (6.6+) wants count 0 and
  // proves ownership through its iommufd (`!!count == cdev_opened` -> -EINVAL). 6.5+ checks it
  // before probing for a slot/bus reset [S vfio_pci_ioctl_pci_hot_reset; L reset-reopen #45].
  const cdev = k.st.iommufd.cdevFiles.some((f) => f.bound);
  const countBad = cdev ? groupFds.length > 0 : groupFds.length === 0;
  const countRule = cdev ? 'core.hot-reset.cdev-with-fds-einval' : 'core.hot-reset.group-count-einval';
  if (countBad && k.v.hotResetCountCheckFirst) return step({ kind: 'errno', errno: 'EINVAL' }, countRule);
  if (!busResettable(k)) return step({ kind: 'errno', errno: 'ENODEV' }, 'core.hot-reset.no-bus-reset');
  if (countBad) return step({ kind: 'errno', errno: 'EINVAL' }, countRule);
  // More group fds than devices in the affected slot/bus set is -EINVAL; then each fd is fget():
  // a closed or negative fd is -EBADF [S vfio_pci_ioctl_pci_hot_reset_groups; L hot-reset #17, #18].
  // The snapshot describes one function, so the modeled set is the device alone.
  const set = vfBusSetSize(k);
  if (groupFds.length > set) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.hot-reset.count-exceeds-set-einval');
  if (groupFds.some((fd) => fd < 0)) return step({ kind: 'errno', errno: 'EBADF' }, 'core.hot-reset.bad-fd-ebadf');
  if (set > 1) {
    // Every vfio device of the dev_set (the PF and VFs, each in its own group) must be in the
    // given groups (vfio_pci_dev_set_hot_reset) [S; L igb-vf reset-reopen #16: one fd, -EINVAL].
    if (groupFds.length < set) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.hot-reset.vf-set-groups-missing-einval');
    return step({ kind: 'unsupported', reason: "resetting a VF's bus resets its PF and sibling VFs, which the snapshot does not describe" }, 'core.hot-reset.vf-siblings-unknown');
  }
  if (k.v.blockDisabledMmio && contended(k))
    return step({ kind: 'errno', errno: 'EBUSY' }, 'core.hot-reset.memory-lock-trylock-ebusy');
  const eff: Effect[] = [];
  if (k.v.blockDisabledMmio) {
    eff.push(...zapBars(k));
    takeWriter(k);
    eff.push(...revokeAll(k));
  }
  if (k.v.resetEntersD0ViaVfio && k.hw.power !== 'D0') eff.push(...vfioSetPowerState(k, 'D0'));
  eff.push(...functionReset(k, 'bus'));
  if (k.v.blockDisabledMmio) eff.push(...unrevokeIfEnabled(k));
  return step({ kind: 'ok', ret: 0n }, 'core.hot-reset.ok', eff);
}

/** pm_runtime_resume_and_get() around every ioctl / config / BAR access (6.1+) [S]. */
export function runtimeResume(k: Kctx): Effect[] {
  if (!k.v.lowPowerFeatures || !k.st.runtimeSuspended) return [];
  k.st.runtimeSuspended = false;
  const eff = setHwPower(k, 'D0');
  if (k.st.pmWakeupEventfd) {
    // Single-shot wakeup: eventfd signaled, low power ends; dmabufs stay revoked [S 6.15/6.19 copies].
    k.st.pmWakeupEventfd = false;
    k.st.pmRuntimeEngaged = false;
    eff.push({ kind: 'low-power', what: 'wake' });
  }
  return eff;
}

/** pm_runtime_put() after the access: the engaged device suspends again. */
export function runtimeIdle(k: Kctx): Effect[] {
  if (!k.v.lowPowerFeatures || !k.st.pmRuntimeEngaged || k.st.runtimeSuspended) return [];
  // disable_idle_d3: probe never dropped its runtime-PM reference, so low-power entry's put leaves
  // the usage count above zero and the device never suspends [S vfio_pci_core_register_device].
  if (k.host.disableIdleD3) return [];
  // sriov_configure holds a runtime PM reference while the PF has VFs: it never suspends [S].
  if (pfKeepsD0(k)) return [];
  k.st.runtimeSuspended = true;
  // vfio_pci_core_runtime_suspend() first moves a device the user left in D3hot back to D0
  // through vfio_pci_set_power_state(), so a NoSoftRst- function gets its config saved at the
  // user's D3hot entry written back (COMMAND included) before the PCI core suspends it [S; L random
  // campaign, traces/lab/found/*/low-power-restores-user-d3hot].
  const eff = k.hw.power !== 'D0' ? vfioSetPowerState(k, 'D0') : [];
  return [...eff, ...setHwPower(k, 'D3hot')];
}

function lowPower(k: Kctx, request: 'entry' | 'entry-with-wakeup' | 'exit', flags: number, wakeupFd: number): Step {
  if (!k.v.lowPowerFeatures) return step({ kind: 'errno', errno: 'ENOTTY' }, 'core.low-power.not-supported');
  // vfio_check_feature(SET only) [S]
  if (flags & FEATURE_GET) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.low-power.check-feature-einval');
  if (flags & FEATURE_PROBE) return step({ kind: 'ok', ret: 0n }, 'core.low-power.probe');
  if (!(flags & FEATURE_SET)) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.low-power.check-feature-einval');
  if (request === 'exit') {
    const eff: Effect[] = [];
    let rule = 'core.low-power.exit-not-engaged';
    if (k.st.pmRuntimeEngaged) {
      k.st.pmRuntimeEngaged = false;
      k.st.pmWakeupEventfd = false;
      eff.push({ kind: 'low-power', what: 'exit' });
      rule = 'core.low-power.exit';
    }
    eff.push(...unrevokeIfEnabled(k)); // 6.19: even when it was not engaged [S]
    return step({ kind: 'ok', ret: 0n }, rule, eff);
  }
  if (request === 'entry-with-wakeup' && wakeupFd < 0) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.low-power.bad-wakeup-fd');
  // Zap + lock + revoke happen before the "already engaged" check [S].
  const eff: Effect[] = [...zapBars(k)];
  takeWriter(k);
  eff.push(...revokeAll(k));
  if (k.st.pmRuntimeEngaged) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.low-power.already-engaged', eff);
  k.st.pmRuntimeEngaged = true;
  k.st.pmWakeupEventfd = request === 'entry-with-wakeup';
  eff.push({ kind: 'low-power', what: 'enter' });
  return step({ kind: 'ok', ret: 0n }, request === 'entry' ? 'core.low-power.entry' : 'core.low-power.entry-with-wakeup', eff);
}

function s32(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) | 0;
}

function u64(b: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i] ?? 0);
  return v;
}

/** VFIO_DEVICE_FEATURE as the core dispatcher + vfio_pci_core_ioctl_feature see it [S]. */
function feature(k: Kctx, flags: number, id: number, payload: Uint8Array, meta: EventMeta): Step {
  if (flags & ~(FEATURE_MASK | FEATURE_GET | FEATURE_SET | FEATURE_PROBE)) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.feature.bad-flags');
  if (flags & FEATURE_GET && flags & FEATURE_SET && !(flags & FEATURE_PROBE)) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.feature.get-and-set');
  // The payload is what follows the 8-byte header (argsz - 8 bytes).
  switch (id) {
    case 0:
      return vfTokenFeature(k, flags, payload);
    case 3:
      return lowPower(k, 'entry', flags, -1);
    case 4:
      // minsz 8 ({s32 wakeup_eventfd, u32 reserved}) is checked after GET/PROBE/SET [S vfio_check_feature].
      if (!(flags & (FEATURE_GET | FEATURE_PROBE)) && flags & FEATURE_SET && payload.length < 8)
        return k.v.lowPowerFeatures ? step({ kind: 'errno', errno: 'EINVAL' }, 'core.low-power.check-feature-einval') : step({ kind: 'errno', errno: 'ENOTTY' }, 'core.low-power.not-supported');
      return lowPower(k, 'entry-with-wakeup', flags, payload.length >= 4 ? s32(payload, 0) : -1);
    case 5:
      return lowPower(k, 'exit', flags, -1);
    case 11: {
      if (k.v.dmabufExport && !(flags & (FEATURE_SET | FEATURE_PROBE)) && flags & FEATURE_GET && payload.length < 16)
        return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.export.check-feature');
      const n = payload.length >= 16 ? s32(payload, 12) >>> 0 : 0;
      const ranges: { offset: bigint; length: bigint }[] = [];
      for (let i = 0; i < n && 16 + 16 * i + 16 <= payload.length; i++) ranges.push({ offset: u64(payload, 16 + 16 * i), length: u64(payload, 24 + 16 * i) });
      if (ranges.length < n) return step({ kind: 'errno', errno: 'EFAULT' }, 'dmabuf.export.ranges-copy-efault');
      const req = { flags, regionIndex: payload.length >= 4 ? s32(payload, 0) >>> 0 : 0, dmaBufFlags: payload.length >= 12 ? s32(payload, 8) >>> 0 : 0, ranges };
      return exportDmabuf(k, req, meta);
    }
    case 12:
      if (k.v.feature12 === 'unknown') return step({ kind: 'unsupported', reason: 'whether this kernel knows VFIO_DEVICE_FEATURE 12 is unknown', versionUnknown: true }, 'core.feature.id12-unknown');
      if (k.v.feature12) {
        if (flags & FEATURE_PROBE && !(flags & (FEATURE_GET | FEATURE_SET))) return step({ kind: 'errno', errno: 'EINVAL' }, 'core.feature.id12-probe-einval');
        return step({ kind: 'unsupported', reason: 'VFIO_DEVICE_FEATURE 12 semantics are not modeled (only its PROBE was observed)' }, 'core.feature.id12-unmodeled');
      }
      break;
    default:
      break;
  }
  // Migration/logging have no ops in plain vfio-pci; the rest are unknown -> -ENOTTY [S].
  return step({ kind: 'errno', errno: 'ENOTTY' }, 'core.feature.not-supported-enotty');
}

function rawIoctl(name: string, arg: Uint8Array): Step {
  switch (name) {
    case 'VFIO_GET_API_VERSION':
      return step({ kind: 'ok', ret: 0n }, 'container.api-version');
    case 'VFIO_CHECK_EXTENSION':
      return checkExtension(arg.length >= 4 ? (arg[0] ?? 0) | ((arg[1] ?? 0) << 8) : -1);
    case 'VFIO_SET_IOMMU':
    case 'VFIO_GROUP_SET_CONTAINER':
    case 'VFIO_GROUP_GET_STATUS':
      return step({ kind: 'ok', ret: 0n }, 'container.setup');
    default:
      return step({ kind: 'unsupported', reason: `raw ioctl ${name || 'unknown'} is not modeled` }, 'core.ioctl.raw-unmodeled');
  }
}

export function ioctl(k: Kctx, op: IoctlOp, meta: EventMeta): Step {
  switch (op.op) {
    case 'get-info':
      return getInfo(k, op.argsz);
    case 'get-region-info':
      return regionInfo(k, op.index, op.argsz);
    case 'get-irq-info':
      return getIrqInfo(k, op.index, op.argsz);
    case 'set-irqs':
      return setIrqs(k, op.flags, op.index, op.start, op.count, op.argsz, op.fds);
    case 'reset':
      return deviceReset(k);
    case 'get-hot-reset-info':
      return hotResetInfo(k, op.argsz);
    case 'hot-reset':
      return hotReset(k, op.flags, op.groupFds);
    case 'ioeventfd':
      return ioeventfd(k, op.flags, op.offset, op.data, op.fd);
    case 'feature':
      return feature(k, op.flags, op.feature, op.payload, meta);
    case 'low-power':
      return lowPower(k, op.request, op.flags, op.wakeupFd);
    case 'dma-buf':
      return exportDmabuf(k, { flags: op.flags, regionIndex: op.regionIndex, dmaBufFlags: op.dmaBufFlags, ranges: op.ranges }, meta);
    case 'raw':
      return rawIoctl(op.name, op.arg);
    // On a device fd from VFIO_GROUP_GET_DEVICE_FD: BIND is refused by vfio_main (df->group), and
    // ATTACH/DETACH are not cdev ioctls there, so vfio_pci_core_ioctl gets them: -ENOTTY [S].
    case 'bind-iommufd':
      if (!k.v.vfioDeviceCdev) return step({ kind: 'errno', errno: 'ENOTTY' }, 'cdev.bind.no-cdev-enotty');
      return step({ kind: 'errno', errno: 'EINVAL' }, 'cdev.bind.group-fd-einval');
    case 'attach-iommufd-pt':
    case 'detach-iommufd-pt':
      return step({ kind: 'errno', errno: 'ENOTTY' }, 'cdev.attach.group-fd-enotty');
    case 'container-op':
    case 'group-op':
    case 'get-device-fd':
      // Routed to group-setup.ts before a device fd is needed (index.ts); never through here.
      return step({ kind: 'unsupported', reason: `${op.op} is a container/group ioctl, not a device one` }, 'core.ioctl.setup-not-device');
  }
}

/** vfio_pci_dev_in_denylist(): Intel QAT C3XXX, C62X, DH895XCC PFs and their VFs [S vfio_pci.c]. */
const DENYLIST_INTEL = new Set([0x19e2, 0x19e3, 0x37c8, 0x37c9, 0x0435, 0x0443]);

export function denylisted(vendor: number, device: number): boolean {
  return vendor === 0x8086 && DENYLIST_INTEL.has(device);
}
