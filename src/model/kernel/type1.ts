// vfio_iommu_type1.c (the type1v2 container): VFIO_IOMMU_MAP_DMA / UNMAP_DMA of vaddrs inside BAR
// mappings of the device fd, and of the VMM's ordinary memory (guest RAM), which only takes iova space. The container's iova list (vfio_find_dma) lives with the model's state
// but belongs to the container: a device close does not drop it (the container fd stays open).
// Evidence: [S] vfio_dma_do_map / vfio_dma_do_unmap / vfio_pin_pages_remote / vaddr_get_pfn(s) /
// follow_fault_pfn; [L] lab map-dma on 6.1, 6.12 and 7.2 (lab/FINDINGS.md §10b).

import { step, type Effect, type Step } from '../outcome.js';
import { leBytes } from '../pci/config-image.js';
import { ownMappings, type Kctx } from './context.js';
import { contended, faultRefusal, populate, refusedFault } from './core.js';
import type { Mapping } from './state.js';

/** uapi vfio.h */
const MAP_FLAG_READ = 0x1;
const MAP_FLAG_WRITE = 0x2;
const MAP_FLAG_VADDR = 0x4; // 5.12+, live update: re-point an existing dma at a new vaddr
const UNMAP_FLAG_GET_DIRTY_BITMAP = 0x1;
const UNMAP_FLAG_ALL = 0x2; // 5.12+
const UNMAP_FLAG_VADDR = 0x4; // 5.12+
/** dma_entry_limit module parameter default (U16_MAX). */
const DMA_ENTRY_LIMIT = 65535;
const U64_MAX = (1n << 64n) - 1n;

/** A vfio_dma: one successful MAP_DMA. */
export interface Type1Dma {
  iova: bigint;
  size: bigint;
}

/** vfio_find_dma: any dma overlapping [start, start+size). size 0 finds one containing start (rb-tree compare). */
function findDma(k: Kctx, start: bigint, size: bigint): Type1Dma | undefined {
  return k.st.dmas.find((d) => !(start + size <= d.iova) && !(start >= d.iova + d.size));
}

/** The BAR mapping holding this user address, if any. */
function mappingAt(k: Kctx, vaddr: bigint): Mapping | undefined {
  return ownMappings(k).find((x) => vaddr >= x.addr && vaddr < x.addr + x.length);
}

export function mapDma(k: Kctx, vaddr: bigint, iova: bigint, size: bigint, flags: number): Step {
  // vfio_iommu_type1_map_dma: unknown flag bits -> -EINVAL [S; VADDR is known from 5.12].
  const known = MAP_FLAG_READ | MAP_FLAG_WRITE | (k.v.type1UnmapAllVaddr ? MAP_FLAG_VADDR : 0);
  if ((flags & ~known) !== 0) return step({ kind: 'errno', errno: 'EINVAL' }, 'type1.map-dma.bad-flags-einval');
  if (flags & MAP_FLAG_VADDR)
    return step({ kind: 'unsupported', reason: 'MAP_DMA with VFIO_DMA_MAP_FLAG_VADDR (live-update vaddr change) is not modeled' }, 'type1.map-dma.vaddr-update-unsupported');
  // No READ and no WRITE: nothing to map -> -EINVAL [S; L map-dma#31].
  if ((flags & (MAP_FLAG_READ | MAP_FLAG_WRITE)) === 0) return step({ kind: 'errno', errno: 'EINVAL' }, 'type1.map-dma.no-prot-einval');
  // size 0, or size/iova/vaddr not a multiple of the IOMMU's smallest page (the host page here) [S; L #28..29].
  const mask = k.g.pageSize - 1n;
  if (size === 0n || ((size | iova | vaddr) & mask) !== 0n) return step({ kind: 'errno', errno: 'EINVAL' }, 'type1.map-dma.unaligned-einval');
  if (iova + size - 1n > U64_MAX || vaddr + size - 1n > U64_MAX) return step({ kind: 'errno', errno: 'EINVAL' }, 'type1.map-dma.wrap-einval');
  // Any overlap with an existing dma, not only the same iova [S; L #6..7].
  if (findDma(k, iova, size) !== undefined) return step({ kind: 'errno', errno: 'EEXIST' }, 'type1.map-dma.iova-exists-eexist');
  if (k.st.dmas.length >= DMA_ENTRY_LIMIT) return step({ kind: 'errno', errno: 'ENOSPC' }, 'type1.map-dma.entry-limit-enospc');
  // The first page decides what memory this is. Outside every device mapping it is the VMM's own
  // memory (guest RAM, ROM copies: a real QEMU session maps those before and beside its BARs,
  // traces/qemu): GUP pins ordinary pages and the dma is made. The model assumes the range is
  // valid and within RLIMIT_MEMLOCK (it cannot know either; a real -EFAULT or -ENOMEM there shows
  // up as a divergence). A range that starts in ordinary memory and runs into a BAR mapping is
  // not modeled.
  if (mappingAt(k, vaddr) === undefined) {
    if (ownMappings(k).some((m) => m.addr < vaddr + size && vaddr < m.addr + m.length))
      return step({ kind: 'unsupported', reason: 'MAP_DMA of ordinary memory that runs into a BAR mapping is not modeled' }, 'type1.map-dma.memory-into-bar-unsupported');
    k.st.dmas.push({ iova, size });
    return step({ kind: 'ok', ret: 0n }, 'type1.map-dma.ordinary-memory');
  }
  // vfio_pin_map_dma: page by page, GUP refuses the VM_PFNMAP vma, vaddr_get_pfn(s) falls back to
  // follow_fault_pfn: a present PTE is used as is, else fixup_user_fault runs the vfio-pci fault
  // handler; any failure removes the half-built dma (vfio_remove_dma) and returns the error.
  const eff: Effect[] = [];
  let throughReadonly = false;
  for (let off = 0n; off < size; off += k.g.pageSize) {
    const va = vaddr + off;
    const m = mappingAt(k, va);
    // No vma (the range runs past the BAR mapping): -EFAULT [S; L #30]. A BAR mapping that is too
    // short is indistinguishable from a hole in the model, which only tracks BAR mappings.
    if (m === undefined) return step({ kind: 'errno', errno: 'EFAULT' }, 'type1.map-dma.range-past-mapping-efault', eff);
    // WRITE on a read-only vma: fixup_user_fault refuses (vma_permits_fault), or the present PTE is
    // not writable -> -EFAULT, in every memory state [S; L #34..35].
    const page = Number((va - m.addr) / k.g.pageSize);
    if (flags & MAP_FLAG_WRITE && !(m.prot & 0x2)) {
      // Catalog bug type1-pfnmap-prot (5cbf3264bc71 .. 07956b6269d3): follow_pfn() took a present
      // PTE's pfn without testing its protection, so the IOMMU maps a read-only BAR page writable.
      if (!(k.v.bugType1PfnmapIgnoresProt && m.populated.has(page))) return step({ kind: 'errno', errno: 'EFAULT' }, 'type1.map-dma.write-readonly-efault', eff);
      throughReadonly = true;
    }
    if (m.populated.has(page)) continue;
    if (contended(k)) {
      if (k.v.bugContendedFaultSigbus) return step({ kind: 'errno', errno: 'EFAULT' }, 'type1.map-dma.contended-fault-efault', eff);
      return step({ kind: 'blocked' }, 'type1.map-dma.contended-fault-waits', eff);
    }
    // The fault handler would SIGBUS (MSE off, D3hot, low power engaged): fixup_user_fault returns
    // -EFAULT and no signal reaches the caller [S; L #11..12, #17, #22].
    if (faultRefusal(k) !== undefined) {
      refusedFault(k, m, page);
      return step({ kind: 'errno', errno: 'EFAULT' }, 'type1.map-dma.fault-sigbus-efault', eff);
    }
    const pe = populate(k, m, page);
    if (!eff.some((e) => e.kind === 'populate' && e.bar === m.bar)) eff.push(...pe);
  }
  k.st.dmas.push({ iova, size });
  return step({ kind: 'ok', ret: 0n }, throughReadonly ? 'type1.map-dma.write-through-readonly-pte' : 'type1.map-dma.ok', eff);
}

/** UNMAP_DMA writes the number of bytes unmapped back into the struct's size field. */
function unmapped(bytes: bigint, rule: string): Step {
  return step({ kind: 'ok', ret: 0n, data: leBytes(bytes, 8) }, rule);
}

export function unmapDma(k: Kctx, iova: bigint, size: bigint, flags: number): Step {
  const known = UNMAP_FLAG_GET_DIRTY_BITMAP | (k.v.type1UnmapAllVaddr ? UNMAP_FLAG_ALL | UNMAP_FLAG_VADDR : 0);
  if ((flags & ~known) !== 0) return step({ kind: 'errno', errno: 'EINVAL' }, 'type1.unmap-dma.bad-flags-einval');
  if (flags & UNMAP_FLAG_GET_DIRTY_BITMAP) {
    if (flags & (UNMAP_FLAG_ALL | UNMAP_FLAG_VADDR)) return step({ kind: 'errno', errno: 'EINVAL' }, 'type1.unmap-dma.dirty-bitmap-combined-einval');
    return step({ kind: 'unsupported', reason: 'UNMAP_DMA with a dirty bitmap (migration dirty tracking) is not modeled' }, 'type1.unmap-dma.dirty-bitmap-unsupported');
  }
  if (flags & UNMAP_FLAG_VADDR)
    return step({ kind: 'unsupported', reason: 'UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR (live-update vaddr invalidation) is not modeled' }, 'type1.unmap-dma.vaddr-unsupported');
  if (flags & UNMAP_FLAG_ALL) {
    // iova and size must be 0; every dma goes, the size reports their total [S; L map-dma#38].
    if (iova !== 0n || size !== 0n) return step({ kind: 'errno', errno: 'EINVAL' }, 'type1.unmap-dma.all-with-range-einval');
    const total = k.st.dmas.reduce((a, d) => a + d.size, 0n);
    k.st.dmas = [];
    return unmapped(total, 'type1.unmap-dma.all');
  }
  const mask = k.g.pageSize - 1n;
  if ((iova & mask) !== 0n || size === 0n || (size & mask) !== 0n) return step({ kind: 'errno', errno: 'EINVAL' }, 'type1.unmap-dma.unaligned-einval');
  if (iova + size - 1n > U64_MAX) return step({ kind: 'errno', errno: 'EINVAL' }, 'type1.unmap-dma.wrap-einval');
  // v2: the range must not bisect a dma at either end [S].
  const head = findDma(k, iova, 1n);
  const tail = findDma(k, iova + size - 1n, 0n);
  if ((head !== undefined && head.iova !== iova) || (tail !== undefined && tail.iova + tail.size !== iova + size))
    return step({ kind: 'errno', errno: 'EINVAL' }, 'type1.unmap-dma.bisects-mapping-einval');
  const gone = k.st.dmas.filter((d) => d.iova >= iova && d.iova + d.size <= iova + size);
  // Nothing mapped there: success, size 0 [S "v2 ... success and a size of zero"; L #32].
  if (gone.length === 0) return unmapped(0n, 'type1.unmap-dma.nothing-mapped');
  k.st.dmas = k.st.dmas.filter((d) => !gone.includes(d));
  // The IOMMU mapping of a BAR outlives zaps: the full size comes back even after MSE off [L #8..10].
  return unmapped(
    gone.reduce((a, d) => a + d.size, 0n),
    'type1.unmap-dma.ok',
  );
}
