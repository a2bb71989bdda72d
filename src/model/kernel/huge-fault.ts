// vfio_pci_mmap_huge_fault(): BAR faults that insert a PMD or a PUD instead of a PTE (6.12+,
// f9e54c3a2f5b "vfio/pci: implement huge_fault support"). What the model reproduces:
//
// The mm core (__handle_mm_fault) offers the handler a PUD when the fault's pud entry is none, then
// (after pmd_alloc, which makes the pud point to a PMD table) a PMD when the pmd entry is none, then
// a PTE. It does not check alignment on the fault path ("trust that ->huge_fault() handlers know
// what they are doing"): the handler falls back [S mm/huge_memory.c __thp_vma_allowable_orders].
// So a level whose entry already points to a lower table is never offered again in that block until
// munmap: a zap clears PTEs and huge entries but keeps page-table pages (`tables` below).
//
// What the handler checks is per release (switches, versions/kernel.ts):
//   hugeFault 'aligned-down': the aligned block containing the fault, when it lies inside the VMA
//     (c1d9dac0db16 "vfio/pci: Align huge faults to order") [P]; before that fix (catalog bug
//     huge-fault-order, 6.12 as released) only a fault AT a block-aligned address whose block
//     ends inside the VMA maps huge [S f9e54c3a2f5b];
//   a PFN not aligned to the order falls back (09dfc8a5f2ce "vfio/pci: Fallback huge faults for
//     unaligned pfn"). Before it (catalog bug huge-fault-unaligned-pfn) the PMD/PUD entry is built
//     from an unaligned PFN; pfn_pmd()/pfn_pud() mask the low bits, so the block maps the
//     aligned-down device range: every access through it lands `skew` bytes below where it should
//     (bugzilla 219619, "screen graphics artifacts after 6.12 kernel upgrade") [P].
// Sizes scale with the page size: a PMD maps PAGE_SIZE/8 pages (2M at 4K, 32M at 16K, 512M at 64K).
// PUD pfnmaps need ARCH_SUPPORTS_PUD_PFNMAP, which only x86_64 selects [P: Peter Xu, Mar 2025:
// "aarch64 doesn't select HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD, hence ARCH_SUPPORTS_PUD_PFNMAP is
// always N"]; the header carries no architecture, so a 4K page size is read as x86_64 and 16K/64K
// as arm64 (PMD only) [M].
//
// The log: `map(barN,pmd|pud)` for a huge insert (`,pfn-unaligned` when misdirected) and
// `fallback(barN,pmd|pud:why)` for an order the handler refused, reported only for mappings at
// least one block long (a small BAR's faults fall back from every order on every fault: noise).
//
// The handler's own word: every call prints a dynamic-debug line "vfio_pci_mmap_huge_fault(,order =
// N) BAR b page offset 0x..: RET" (RET 0x100 inserted, 0x800 fallback, 0x2 SIGBUS). The model
// predicts those calls exactly (Kctx.faultLog, `order=N:RET` per call; replay/fault-log.ts compares
// them with a lab trace's klog=). What the lab showed on 6.12.117 and 7.2.13 [L ivshmem-huge], and
// at 16K on 6.12.117 arm64-16k [L ivshmem-huge-16k: 32M PMDs, no PUD level]:
//   - the alignment test comes before the memory test: with memory disabled the first level that
//     passes it answers SIGBUS (lower levels are never asked), levels that fail it fall back first;
//   - a level that fell back leaves a lower table behind even when the fault then SIGBUSes (the
//     mm core allocates the PMD table after a PUD fallback), except the PTE table, which only an
//     insert allocates;
//   - a user-mode fault that ends at the PTE level is retried once: it starts under the per-VMA
//     lock, and do_read_fault/do_shared_fault hand a VMA without map_pages back with
//     VM_FAULT_RETRY before calling ->fault (vmf_can_call_fault, 6.8+) [S mm/memory.c]; the retry
//     under mmap_lock offers the PMD level again when its entry is still none. Kernel-mode faults
//     (a pread into a BAR mapping) and GUP (type1 MAP_DMA) start under mmap_lock: no retry.

import { step, type Effect, type HugeSize, type Step } from '../outcome.js';
import type { Kctx } from './context.js';
import type { HugeEntry, Mapping } from './state.js';

export type { HugeSize };

/** The huge levels this host offers, largest first, with log2(pages) of each. */
export function hugeOrders(pageSize: bigint): { size: HugeSize; order: number }[] {
  let shift = 0;
  while (1n << BigInt(shift) < pageSize) shift++;
  const pmd = shift - 3; // a page-table page holds PAGE_SIZE / 8 entries
  const out: { size: HugeSize; order: number }[] = [];
  if (pageSize === 4096n) out.push({ size: 'pud', order: 2 * pmd });
  out.push({ size: 'pmd', order: pmd });
  return out;
}

/** Whether the handler tests the PFN's alignment (catalog bug huge-fault-unaligned-pfn: not before 09dfc8a5f2ce). */
function checksPfn(k: Kctx): boolean {
  return !k.v.bugHugeFaultUnalignedPfn;
}

/** Whether only a fault at the block's first address maps it (catalog bug huge-fault-order). */
function atAlignedAddressOnly(k: Kctx): boolean {
  return k.v.bugHugeFaultAddressOrder;
}

const tableKey = (size: HugeSize, base: bigint): string => `${size}@${base.toString(16)}`;

/** How a fault reaches vfio_pci_mmap_huge_fault (see the header): refused = memory not usable. */
export interface FaultPath {
  refused: boolean;
  /** A user-mode CPU fault: it starts under the per-VMA lock and a PTE-level fault is retried. */
  userMode: boolean;
}

const RET = { nopage: '0x100', fallback: '0x800', sigbus: '0x2' } as const;

/** One handler call as replay compares it with the kernel's dynamic-debug line. */
function logCall(k: Kctx, order: number, ret: keyof typeof RET): void {
  k.faultLog?.push(`order=${order}:${RET[ret]}`);
}

/**
 * vfio_pci_mmap_huge_fault's calls for one fault at page `page` of `m` (6.12+): the huge levels,
 * then the page. Returns the effects, the entry inserted if any, and whether the fault SIGBUSes
 * (`path.refused`: at the first level whose alignment test passes). Updates the page tables
 * (`m.populated`, `m.huge`, `m.tables`) and logs each call to `k.faultLog`.
 */
export function handlerFault(k: Kctx, m: Mapping, page: number, path: FaultPath): { effects: Effect[]; entry?: HugeEntry } {
  if (k.v.hugeFault === 'none') {
    if (!path.refused) m.populated.add(page);
    return { effects: [] };
  }
  // Without the VMA's address the levels' alignment is unknown: so is the handler's log.
  if (m.addr === 0n) delete k.faultLog;
  const levels = hugeLevels(k, m, page);
  const h = path.refused ? { effects: [] } : hugeFault(k, m, page);
  if (path.refused) {
    // Alignment first: fallbacks, then SIGBUS at the first level that passes (or the page).
    const passed: string[] = [];
    for (const l of levels) {
      if (!l.offered) continue;
      passed.push(l.key);
      logCall(k, l.order, l.why === undefined ? 'sigbus' : 'fallback');
      if (l.why === undefined) {
        for (const t of passed.slice(0, -1)) m.tables!.add(t);
        return { effects: [] };
      }
    }
    retryLog(k, levels, path);
    for (const t of passed.slice(0, -1)) m.tables!.add(t); // no PTE table without an insert
    logCall(k, 0, 'sigbus');
    return { effects: [] };
  }
  if (h.entry === undefined) {
    retryLog(k, levels, path);
    m.populated.add(page);
    logCall(k, 0, 'nopage');
  }
  return h;
}

/** The retry of a PTE-level user fault under mmap_lock: the lowest huge level again when it was offered. */
function retryLog(k: Kctx, levels: HugeLevel[], path: FaultPath): void {
  const last = levels[levels.length - 1];
  if (path.userMode && last !== undefined && last.offered) logCall(k, last.order, 'fallback');
}

interface HugeLevel {
  size: HugeSize;
  order: number;
  key: string;
  /** The mm core offers the level (its entry is none, not a lower table). */
  offered: boolean;
  /** Why the handler falls back (undefined: it maps, or SIGBUSes when memory is refused). */
  why?: 'address' | 'vma' | 'pfn';
}

/** What the handler's tests say about each level for a fault at `page`, before anything changes. */
function hugeLevels(k: Kctx, m: Mapping, page: number): HugeLevel[] {
  const ps = k.g.pageSize;
  if (m.addr === 0n) return [];
  const addr = m.addr + BigInt(page) * ps;
  const barStart = k.g.bars[m.bar]?.start ?? 0n;
  const tables = (m.tables ??= new Set<string>());
  return hugeOrders(ps).map(({ size, order }) => {
    const block = ps << BigInt(order);
    const aligned = addr - (addr % block);
    const key = tableKey(size, aligned);
    const base = atAlignedAddressOnly(k) ? addr : aligned;
    let why: 'address' | 'vma' | 'pfn' | undefined;
    if (atAlignedAddressOnly(k) && addr !== aligned) why = 'address';
    else if (base < m.addr || base + block > m.addr + m.length) why = 'vma';
    const pfn = (barStart + m.barOffset + (base - m.addr)) / ps;
    if (why === undefined && pfn % (1n << BigInt(order)) !== 0n && checksPfn(k)) why = 'pfn';
    return { size, order, key, offered: !tables.has(key), ...(why !== undefined ? { why } : {}) };
  });
}

/**
 * The huge-fault part of a fault at page `page` of `m` (memory already known enabled): the effects
 * in the order tried, and the entry inserted, if any. Without an insert, a PTE fault follows and the
 * levels it passed through now point to lower tables. Call through handlerFault (it logs the calls).
 */
function hugeFault(k: Kctx, m: Mapping, page: number): { effects: Effect[]; entry?: HugeEntry } {
  const effects: Effect[] = [];
  if (k.v.hugeFault === 'none' || m.addr === 0n) return { effects }; // no address: alignment unknown
  const ps = k.g.pageSize;
  const addr = m.addr + BigInt(page) * ps;
  const barStart = k.g.bars[m.bar]?.start ?? 0n;
  const tables = (m.tables ??= new Set<string>());
  const passed: string[] = [];
  for (const { size, order } of hugeOrders(ps)) {
    const block = ps << BigInt(order);
    const aligned = addr - (addr % block);
    const key = tableKey(size, aligned);
    if (tables.has(key)) continue; // the entry points to a lower table: this level is not offered
    passed.push(key);
    const base = atAlignedAddressOnly(k) ? addr : aligned;
    const report = m.length >= block;
    let why: 'address' | 'vma' | 'pfn' | undefined;
    if (atAlignedAddressOnly(k) && addr !== aligned) why = 'address';
    else if (base < m.addr || base + block > m.addr + m.length) why = 'vma';
    const pfn = (barStart + m.barOffset + (base - m.addr)) / ps;
    const pfnAligned = pfn % (1n << BigInt(order)) === 0n;
    if (why === undefined && !pfnAligned && checksPfn(k)) why = 'pfn';
    if (why !== undefined) {
      logCall(k, order, 'fallback');
      if (report) effects.push({ kind: 'fallback', bar: m.bar, size, why });
      continue;
    }
    logCall(k, order, 'nopage');
    const first = Number((base - m.addr) / ps);
    const pages = 1 << order;
    for (let i = 0; i < pages; i++) m.populated.add(first + i);
    // pfn_pmd()/pfn_pud() keep only the aligned part of the PFN.
    const skew = pfnAligned ? 0n : (pfn % (1n << BigInt(order))) * ps;
    const entry: HugeEntry = { size, first, pages, skew };
    (m.huge ??= []).push(entry);
    for (const t of passed.slice(0, -1)) tables.add(t); // the larger levels now hold tables
    effects.push({ kind: 'map', bar: m.bar, size, pfnUnaligned: !pfnAligned });
    return { effects, entry };
  }
  for (const t of passed) tables.add(t);
  return { effects };
}

/** The huge entry of `m` that maps page `page`, if one does. */
export function hugeEntryAt(m: Mapping, page: number): HugeEntry | undefined {
  return m.huge?.find((h) => page >= h.first && page < h.first + h.pages);
}

/**
 * An access through a huge entry built from an unaligned PFN: it reaches the device `skew` bytes
 * lower than the BAR offset it was aimed at (or outside the BAR).
 */
export function misdirected(k: Kctx, m: Mapping, h: HugeEntry, offset: bigint, rule: string, eff: Effect[]): Step {
  const target = offset - h.skew;
  const where = target >= 0n ? `bar${m.bar}+0x${target.toString(16)}` : `0x${(-target).toString(16)} below bar${m.bar}`;
  const reason = `${h.size.toUpperCase()} built from an unaligned PFN: bar${m.bar}+0x${offset.toString(16)} reaches ${where}`;
  const out = eff.map((e) => (e.kind === 'device-access' ? { kind: 'device-access' as const, what: where } : e));
  return step({ kind: 'hazard', reason }, rule, out);
}
