// vfio_pci_dmabuf.c (6.19+): BAR DMABUF export (VFIO_DEVICE_FEATURE_DMA_BUF), revoke/unrevoke
// (vfio_pci_dma_buf_move), cleanup on close, and what the importer sees.

import type { EventMeta } from '../../trace/types.js';
import { step, type Effect, type Step } from '../outcome.js';
import { memoryEnabled, type Kctx } from './context.js';
import type { Dmabuf } from './state.js';
import { barMmapSupported } from './mmap-support.js';
import { setupBarmap } from './rdwr.js';
import { revokeIommufdAreas } from './iommufd.js';

/** vfio_pci_dma_buf_move(true): revoke every live, unrevoked dmabuf (importers notified) [S]. */
export function revokeAll(k: Kctx): Effect[] {
  if (!k.v.dmabufExport) return [];
  const eff: Effect[] = [];
  for (const d of k.st.dmabufs) {
    if (d.closed || d.orphaned || d.revoked) continue;
    d.revoked = true;
    d.mapped = false; // importers are told to unmap (move_notify / invalidate) [S]
    revokeIommufdAreas(k, d.fd); // iommufd as the importer drops its IOMMU mapping (6.19)
    eff.push({ kind: 'revoke', dmabuf: d.fd });
  }
  return eff;
}

/** vfio_pci_dma_buf_move(false) when memory is enabled again [S]. */
export function unrevokeIfEnabled(k: Kctx): Effect[] {
  if (!k.v.dmabufExport || !memoryEnabled(k)) return [];
  const eff: Effect[] = [];
  for (const d of k.st.dmabufs) {
    if (d.closed || d.orphaned || !d.revoked) continue;
    d.revoked = false;
    eff.push({ kind: 'unrevoke', dmabuf: d.fd });
  }
  return eff;
}

/** vfio_pci_dma_buf_cleanup() at close: permanently revoked and detached [S]. */
export function cleanupOnClose(k: Kctx): Effect[] {
  const eff: Effect[] = [];
  for (const d of k.st.dmabufs) {
    if (d.closed || d.orphaned) continue;
    d.orphaned = true;
    if (!d.revoked) eff.push({ kind: 'revoke', dmabuf: d.fd });
    revokeIommufdAreas(k, d.fd);
    d.revoked = true;
    d.mapped = false;
  }
  return eff;
}

const PAGE_MASK = (k: Kctx): bigint => k.g.pageSize - 1n;

export interface DmabufRequest {
  flags: number;
  regionIndex: number;
  dmaBufFlags: number;
  ranges: { offset: bigint; length: bigint }[];
}

const FEATURE_GET = 0x10000;
const FEATURE_SET = 0x20000;
const FEATURE_PROBE = 0x40000;

/** VFIO_DEVICE_FEATURE_DMA_BUF: the ordered errno table of §4.17 [S @06fddc7a + post-7.1 copy]. */
export function exportDmabuf(k: Kctx, req: DmabufRequest, meta: EventMeta): Step {
  if (!k.v.dmabufExport) return step({ kind: 'errno', errno: 'ENOTTY' }, 'dmabuf.export.no-feature');
  // vfio_check_feature(GET only, minsz 16)
  if (req.flags & FEATURE_SET) return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.export.check-feature');
  if (req.flags & FEATURE_PROBE) return step({ kind: 'ok', ret: 0n }, 'dmabuf.export.probe');
  if (!(req.flags & FEATURE_GET)) return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.export.check-feature');
  if (req.ranges.length === 0 || req.dmaBufFlags !== 0)
    return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.export.bad-flags-or-no-ranges');
  const idx = req.regionIndex;
  if (idx >= 6) return step({ kind: 'errno', errno: 'ENODEV' }, 'dmabuf.export.not-a-bar');
  if (k.v.dmabufChecksBarResource) {
    // IS_ERR(vfio_pci_core_get_iomap()) -> -ENODEV (CVE-2026-64042) [S post-7.1 copy]. A BAR with no
    // resource at all is "not claimed" too [L dmabuf #15 on 7.2: unimplemented BAR4 -> -ENODEV; the
    // I/O BAR2 is claimed and fails later, -EINVAL, #14].
    const b = k.g.bars[idx];
    let claimed = b !== undefined && b.kind !== 'none' && b.size > 0n;
    if (claimed && k.v.barmapAt === 'lazy') claimed = setupBarmap(k, idx).ok; // 7.0.11 backport maps lazily [M]
    else if (claimed) claimed = k.st.barmap[idx]?.state !== 'error';
    if (!claimed) return step({ kind: 'errno', errno: 'ENODEV' }, 'dmabuf.export.bar-resource-not-claimed');
  }
  let total = 0n;
  for (const r of req.ranges) {
    if (r.length === 0n || (r.offset & PAGE_MASK(k)) !== 0n || (r.length & PAGE_MASK(k)) !== 0n)
      return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.export.range-unaligned');
    total += r.length;
    if (total >= 1n << 63n) return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.export.range-overflow');
  }
  const bar = k.g.bars[idx];
  // pcim_p2pdma_provider(): NULL for a non-MEM / unimplemented BAR -> -EINVAL [S p2pdma].
  if (bar === undefined || bar.kind !== 'mem' || bar.size === 0n)
    return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.export.no-p2p-provider');
  if (!barMmapSupported(k, idx)) {
    switch (k.v.dmabufRefusesUnmappable) {
      case 'unknown':
        return step({ kind: 'unsupported', reason: 'whether DMABUF export refuses an unmappable BAR is unknown in this version', versionUnknown: true }, 'dmabuf.export.unmappable-unknown');
      case 'p2pdma-provider':
        if (k.dev.quirks.nonMappableBars) return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.export.p2pdma-non-mappable');
        break;
      case 'bar-mmap-supported':
        return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.export.bar-mmap-unsupported');
      case 'no':
        break;
    }
  }
  // vfio_pci_core_fill_phys_vec(): BAR start + offset, then + length, in u64 with
  // check_add_overflow -> -EOVERFLOW; only then past the BAR's end -> -EINVAL [S @06fddc7a;
  // L dmabuf #21 on 7.2: offset 0xfffffffffffff000 len 0x2000 -> -EOVERFLOW. The lab first recorded
  // -EINVAL there because its runner had saturated the offset to 0x7fffffffffffffff; the tracer's
  // ioctl argument capture of the same run showed the bytes the kernel really got].
  const U64_LIMIT = 1n << 64n;
  for (const r of req.ranges) {
    const paddr = bar.start + r.offset;
    if (paddr >= U64_LIMIT || paddr + r.length >= U64_LIMIT) return step({ kind: 'errno', errno: 'EOVERFLOW' }, 'dmabuf.export.range-phys-overflow');
    if (r.offset + r.length > bar.size) return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.export.range-past-bar');
  }
  const ordinal = k.st.dmabufs.length;
  const fd = meta.observed?.ret !== undefined && meta.observed.ret >= 0n ? Number(meta.observed.ret) : 1000 + ordinal;
  // Initial state: revoked = !memory_enabled (6.19/7.0) [S].
  const d: Dmabuf = { fd, ordinal, region: idx, size: total, ranges: req.ranges.length, revoked: !memoryEnabled(k), orphaned: false, attached: false, mapped: false, closed: false };
  k.st.dmabufs.push(d);
  const eff: Effect[] = [{ kind: 'dmabuf-export', dmabuf: fd, region: idx }];
  if (d.revoked) eff.push({ kind: 'revoke', dmabuf: fd });
  const out: Step = step({ kind: 'ok', ...(meta.observed?.ret !== undefined ? { ret: meta.observed.ret } : {}) }, d.revoked ? 'dmabuf.export.created-revoked' : 'dmabuf.export.ok', eff);
  return out;
}

export function findDmabuf(k: Kctx, id: number): Dmabuf | undefined {
  return k.st.dmabufs.find((d) => d.fd === id) ?? k.st.dmabufs.find((d) => d.ordinal === id);
}

/** What the importer (a P2P-capable peer, iommufd) sees [S importer ops]. */
export function importerOp(k: Kctx, id: number, op: 'attach' | 'map' | 'unmap' | 'detach' | 'mmap' | 'close'): Step {
  const d = findDmabuf(k, id);
  if (d === undefined || d.closed) return step({ kind: 'errno', errno: 'EBADF' }, 'dmabuf.importer.unknown-fd');
  switch (op) {
    case 'attach':
      if (d.revoked) return step({ kind: 'errno', errno: 'ENODEV' }, 'dmabuf.attach.revoked-enodev');
      d.attached = true;
      return step({ kind: 'ok', ret: 0n }, 'dmabuf.attach.ok');
    case 'map':
      if (!d.attached) return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.map.not-attached');
      if (d.revoked) return step({ kind: 'errno', errno: 'ENODEV' }, 'dmabuf.map.revoked-enodev');
      d.mapped = true;
      return step({ kind: 'ok', ret: 0n }, 'dmabuf.map.ok');
    case 'unmap':
      d.mapped = false;
      return step({ kind: 'ok', ret: 0n }, 'dmabuf.unmap.ok');
    case 'detach':
      d.attached = false;
      d.mapped = false;
      return step({ kind: 'ok', ret: 0n }, 'dmabuf.detach.ok');
    case 'mmap':
      // mmap of a vfio dmabuf fd exists only in the pending DMABUF-mmap series [P]; mainline vfio's
      // dma_buf_ops has no .mmap, and dma_buf_mmap_internal refuses such a buffer with -EINVAL [S dma-buf.c].
      return step({ kind: 'errno', errno: 'EINVAL' }, 'dmabuf.mmap.unsupported');
    case 'close':
      d.closed = true;
      return step({ kind: 'ok', ret: 0n }, 'dmabuf.release', [{ kind: 'release', what: `dmabuf${d.fd}` }]);
  }
}
