// drivers/iommu/iommufd (ioas.c, io_pagetable.c, pages.c, device.c, main.c): the /dev/iommu
// ioctls a VMM issues for an assigned device, with what they do to a BAR mapping and to a vfio
// dma-buf. The page-table work itself (IOMMU PTEs) is not modeled, only what userspace sees.
// Evidence: [S] the files above at 6.12 and the 6.19 dma-buf import; [L] traces/lab/6.12-iommufd.

import type { EventMeta, IommufdOp } from '../../trace/types.js';
import { step, type Step } from '../outcome.js';
import { leBytes } from '../pci/config-image.js';
import { ownMappings, type Kctx } from './context.js';
import type { IoasArea, IommufdCtx, IommufdObject } from './iommufd-state.js';

/** uapi iommufd.h */
const MAP_FIXED_IOVA = 0x1;
const MAP_WRITEABLE = 0x2;
const MAP_READABLE = 0x4;
const MAP_FLAGS = MAP_FIXED_IOVA | MAP_WRITEABLE | MAP_READABLE;
/** ULONG_MAX on a 64-bit host: iova and length must be below it (EOVERFLOW). */
const ULONG_MAX = (1n << 64n) - 1n;
/**
 * x86 interrupt remapping window, reserved (IOMMU_RESV_MSI) in every domain intel-iommu and
 * amd-iommu hand out: iommufd reserves it in the IOAS at the first attach [S intel_iommu_get_resv_regions].
 */
export const MSI_WINDOW = { start: 0xfee00000n, last: 0xfeefffffn };

const err = (errno: string, rule: string): Step => step({ kind: 'errno', errno }, rule);

/** The context an iommufd ioctl runs on: the newest open /dev/iommu. */
export function currentCtx(k: Kctx): IommufdCtx | undefined {
  const c = k.st.iommufd.contexts;
  return c[c.length - 1];
}

/** The context a BIND names by fd: that fd's, or (fds not in the trace) the only one open. */
export function ctxByFd(k: Kctx, fd: number): IommufdCtx | undefined {
  const c = k.st.iommufd.contexts;
  return c.find((x) => x.fd === fd) ?? (c.length === 1 && c[0].fd === -1 ? c[0] : undefined);
}

/** xa_alloc with XA_FLAGS_ALLOC1: the lowest free id from 1 [S main.c iommufd_object_alloc]. */
export function allocId(ctx: IommufdCtx): number {
  const used = new Set(ctx.objects.map((o) => o.id));
  let id = 1;
  while (used.has(id)) id++;
  return id;
}

function find(ctx: IommufdCtx, id: number): IommufdObject | undefined {
  return ctx.objects.find((o) => o.id === id);
}

function ioasOf(ctx: IommufdCtx, id: number): Extract<IommufdObject, { type: 'ioas' }> | undefined {
  const o = find(ctx, id);
  return o?.type === 'ioas' ? o : undefined;
}

/** Whether the IOAS has an iommu_domain (an attached device's auto HWPT or an allocated HWPT). */
export function hasDomain(ctx: IommufdCtx, ioas: number): boolean {
  return ctx.objects.some((o) => o.type === 'hwpt' && o.ioas === ioas);
}

/** iopt->iova_alignment: 1 without a domain, the domain's smallest page (the host page here) with one. */
function alignment(k: Kctx, ctx: IommufdCtx, ioas: number): bigint {
  return hasDomain(ctx, ioas) ? k.g.pageSize : 1n;
}

/** Reserved IOVA of the IOAS: the MSI window once a domain is attached (aperture limits are not known). */
function reserved(ctx: IommufdCtx, ioas: number): { start: bigint; last: bigint }[] {
  return hasDomain(ctx, ioas) ? [MSI_WINDOW] : [];
}

/** The VA range touches a BAR mapping of the device: a VM_PFNMAP vma that pin_user_pages refuses. */
function touchesBar(k: Kctx, va: bigint, length: bigint): boolean {
  return ownMappings(k).some((m) => m.addr < va + length && va < m.addr + m.length);
}

/**
 * Filling a new domain pins every area (iopt_table_add_domain -> iopt_fill_domain): a BAR area
 * fails it with -EFAULT (GUP's check_vma_flags refuses VM_IO|VM_PFNMAP) [S pages.c pfn_reader_user_pin].
 * A revoked dma-buf area maps nothing; a live one maps the exporter's MMIO.
 */
export function fillFails(ctx: IommufdCtx, ioas: number): string | undefined {
  const o = ioasOf(ctx, ioas);
  if (o === undefined) return undefined;
  if (o.areas.some((a) => a.source === 'bar')) return 'EFAULT';
  // iopt_table_enforce_dev_resv_regions: a reserved region over an existing area -> -EADDRINUSE [S].
  if (!hasDomain(ctx, ioas) && o.areas.some((a) => overlaps(a.iova, a.length, MSI_WINDOW))) return 'EADDRINUSE';
  return undefined;
}

function overlaps(iova: bigint, length: bigint, r: { start: bigint; last: bigint }): boolean {
  return iova <= r.last && r.start <= iova + length - 1n;
}

function roundupPow2(n: bigint): bigint {
  let p = 1n;
  while (p < n) p <<= 1n;
  return p;
}

function lowestSetBit(n: bigint): bigint {
  return n & -n;
}

/**
 * iopt_alloc_iova: the first hole of at least `length` bytes in [PAGE_SIZE, ULONG_MAX - PAGE_SIZE]
 * between reserved ranges and areas, its start aligned to min(roundup_pow_of_two(length),
 * lowest set bit of uptr) with uptr's page offset kept [S io_pagetable.c].
 */
function allocIova(k: Kctx, ctx: IommufdCtx, ioas: IoasArea[], ioasId: number, uptr: bigint, length: bigint): bigint | string {
  // Protects roundup_pow_of_two() from overflow [S].
  if (length >= ULONG_MAX / 2n) return 'EOVERFLOW';
  const page = k.g.pageSize;
  const pageOffset = uptr % page;
  let align = roundupPow2(length);
  if (uptr !== 0n && lowestSetBit(uptr) < align) align = lowestSetBit(uptr);
  if (align < alignment(k, ctx, ioasId)) return 'EINVAL';
  const used = [...reserved(ctx, ioasId), ...ioas.map((a) => ({ start: a.iova, last: a.iova + a.length - 1n }))].sort((a, b) =>
    a.start < b.start ? -1 : a.start > b.start ? 1 : 0,
  );
  const lo = page;
  const hi = ULONG_MAX - page;
  let holeStart = lo;
  const tryHole = (start: bigint, last: bigint): bigint | undefined => {
    if (last < start || last - start < length - 1n) return undefined;
    const s = (((start + align - 1n) / align) * align) | pageOffset;
    return s <= last && last - s >= length - 1n ? s : undefined;
  };
  for (const u of used) {
    if (u.last < holeStart) continue;
    if (u.start > hi) break;
    const got = u.start > holeStart ? tryHole(holeStart, u.start - 1n) : undefined;
    if (got !== undefined) return got;
    holeStart = u.last + 1n;
    if (holeStart === 0n) return 'ENOSPC';
  }
  return tryHole(holeStart, hi) ?? 'ENOSPC';
}

export function iommufdOpen(k: Kctx, meta: EventMeta): Step {
  if (!k.v.iommufd) return err('ENOENT', 'iommufd.open.no-iommufd-enoent');
  const fd = meta.observed?.ret !== undefined && meta.observed.ret >= 0n ? Number(meta.observed.ret) : -1;
  k.st.iommufd.contexts.push({ fd, objects: [] });
  return step({ kind: 'ok', ...(meta.observed?.ret !== undefined ? { ret: meta.observed.ret } : {}) }, 'iommufd.open.ok');
}

/** An ioctl on /dev/iommu. */
export function iommufdIoctl(k: Kctx, op: IommufdOp): Step {
  const ctx = currentCtx(k);
  if (ctx === undefined) return err('EBADF', 'iommufd.ioctl.no-context-ebadf');
  switch (op.op) {
    case 'ioas-alloc': {
      if (op.flags !== 0) return err('EOPNOTSUPP', 'iommufd.ioas-alloc.flags-eopnotsupp');
      const id = allocId(ctx);
      ctx.objects.push({ id, type: 'ioas', areas: [] });
      return step({ kind: 'ok', ret: 0n, data: leBytes(BigInt(id), 4) }, 'iommufd.ioas-alloc.ok');
    }
    case 'ioas-map':
      return map(k, ctx, op.ioasId, op.flags, op.iova, op.length, { va: op.userVa });
    case 'ioas-map-file':
      if (!k.v.iommufdMapFile) return err('ENOTTY', 'iommufd.ioas-map-file.unknown-ioctl-enotty');
      return map(k, ctx, op.ioasId, op.flags, op.iova, op.length, { fd: op.fd, start: op.start });
    case 'ioas-unmap':
      return unmap(ctx, op.ioasId, op.iova, op.length);
    case 'ioas-iova-ranges': {
      if (ioasOf(ctx, op.ioasId) === undefined) return err('ENOENT', 'iommufd.object.unknown-id-enoent');
      // Holes between reserved ranges: everything without a domain; with one the MSI window splits
      // it (and the aperture end, which the model does not know, trims the top) [S ioas.c].
      const count = hasDomain(ctx, op.ioasId) ? 2 : 1;
      if (op.numIovas < count) return err('EMSGSIZE', 'iommufd.ioas-iova-ranges.too-small-emsgsize');
      return step({ kind: 'ok', ret: 0n }, 'iommufd.ioas-iova-ranges.ok');
    }
    case 'hwpt-alloc':
      return hwptAlloc(k, ctx, op.flags, op.devId, op.ptId);
    case 'destroy':
      return destroy(k, ctx, op.id);
  }
}

type Backing = { va: bigint } | { fd: number; start: bigint };

/** IOAS_MAP and IOAS_MAP_FILE: the checks in iommufd_ioas_map(_file) and iopt_map_pages order [S]. */
function map(k: Kctx, ctx: IommufdCtx, ioasId: number, flags: number, iova: bigint, length: bigint, b: Backing): Step {
  if ((flags & ~MAP_FLAGS) !== 0) return err('EOPNOTSUPP', 'iommufd.ioas-map.bad-flags-eopnotsupp');
  if (iova >= ULONG_MAX || length >= ULONG_MAX) return err('EOVERFLOW', 'iommufd.ioas-map.overflow-eoverflow');
  if ((flags & (MAP_READABLE | MAP_WRITEABLE)) === 0) return err('EINVAL', 'iommufd.ioas-map.no-prot-einval');
  const ioas = ioasOf(ctx, ioasId);
  if (ioas === undefined) return err('ENOENT', 'iommufd.object.unknown-id-enoent');
  if (length === 0n) return err('EINVAL', 'iommufd.ioas-map.zero-length-einval');
  let source: IoasArea['source'] = 'user';
  let dmabuf: number | undefined;
  if ('fd' in b) {
    if (b.fd < 0) return err('EBADF', 'iommufd.ioas-map-file.bad-fd-ebadf');
    const d = k.st.dmabufs.find((x) => x.fd === b.fd && !x.closed);
    if (d !== undefined) {
      if (!k.v.iommufdDmabufImport)
        return step({ kind: 'unsupported', reason: 'IOAS_MAP_FILE of a dma-buf before iommufd imported dma-bufs is not modeled', versionUnknown: true }, 'iommufd.ioas-map-file.dmabuf-not-importable');
      // vfio_pci_dma_buf_iommufd_map: a revoked (or orphaned) buffer -> -ENODEV [P 6.19].
      if (d.revoked) return err('ENODEV', 'iommufd.ioas-map-file.dmabuf-revoked-enodev');
      // iommufd maps one physical range per dma-buf [P 6.19 vfio_pci_dma_buf_iommufd_map].
      if (d.ranges !== 1) return err('EOPNOTSUPP', 'iommufd.ioas-map-file.dmabuf-ranges-eopnotsupp');
      if (b.start + length > d.size) return err('EINVAL', 'iommufd.ioas-map-file.past-dmabuf-einval');
      source = 'dmabuf';
      dmabuf = d.fd;
    } else source = 'file';
  } else if (touchesBar(k, b.va, length)) source = 'bar';
  const align = alignment(k, ctx, ioasId);
  if (length % align !== 0n) return err('EINVAL', 'iommufd.ioas-map.unaligned-einval');
  const uptr = 'va' in b ? b.va : b.start;
  let at = iova;
  if (flags & MAP_FIXED_IOVA) {
    if (iova % align !== 0n) return err('EINVAL', 'iommufd.ioas-map.unaligned-einval');
    if (iova + length - 1n > ULONG_MAX) return err('EOVERFLOW', 'iommufd.ioas-map.overflow-eoverflow');
    if (reserved(ctx, ioasId).some((r) => overlaps(iova, length, r))) return err('EINVAL', 'iommufd.ioas-map.reserved-iova-einval');
    if (ioas.areas.some((a) => overlaps(iova, length, { start: a.iova, last: a.iova + a.length - 1n })))
      return err('EEXIST', 'iommufd.ioas-map.iova-exists-eexist');
  } else {
    const got = allocIova(k, ctx, ioas.areas, ioasId, 'va' in b ? b.va : 0n, length);
    if (typeof got === 'string')
      return err(got, got === 'ENOSPC' ? 'iommufd.ioas-map.no-space-enospc' : got === 'EOVERFLOW' ? 'iommufd.ioas-map.overflow-eoverflow' : 'iommufd.ioas-map.unaligned-einval');
    at = got;
  }
  // iopt_insert_area: the page offset of the backing must suit the IOAS alignment [S].
  if ((uptr % k.g.pageSize) % align !== 0n) return err('EINVAL', 'iommufd.ioas-map.unaligned-einval');
  const domain = hasDomain(ctx, ioasId);
  // Pinning happens only for an IOAS with a domain: a BAR VA fails now, or at the first attach.
  if (source === 'bar' && domain) return err('EFAULT', 'iommufd.ioas-map.bar-va-efault');
  ioas.areas.push({ iova: at, length, source, ...(dmabuf !== undefined ? { dmabuf } : {}) });
  if (dmabuf !== undefined) {
    const d = k.st.dmabufs.find((x) => x.fd === dmabuf)!;
    d.attached = true;
    d.mapped = d.mapped || domain;
  }
  const data = leBytes(at, 8);
  const rule =
    source === 'bar'
      ? 'iommufd.ioas-map.bar-va-not-pinned-without-domain'
      : source === 'dmabuf'
        ? 'iommufd.ioas-map-file.dmabuf-ok'
        : source === 'file'
          ? 'iommufd.ioas-map-file.ok'
          : 'iommufd.ioas-map.ok';
  // The kernel picks the IOVA of a MAP_FILE without FIXED_IOVA from the file offset the model does
  // not align the same way: its value is not claimed.
  if (!(flags & MAP_FIXED_IOVA) && !('va' in b)) return step({ kind: 'ok', ret: 0n, data, own: new Uint8Array(8) }, rule);
  return step({ kind: 'ok', ret: 0n, data }, rule);
}

/** IOAS_UNMAP: whole areas only; the bytes unmapped are written back [S iopt_unmap_iova_range]. */
function unmap(ctx: IommufdCtx, ioasId: number, iova: bigint, length: bigint): Step {
  const ioas = ioasOf(ctx, ioasId);
  if (ioas === undefined) return err('ENOENT', 'iommufd.object.unknown-id-enoent');
  if (iova === 0n && length === ULONG_MAX) {
    const total = ioas.areas.reduce((s, a) => s + a.length, 0n);
    ioas.areas = [];
    return step({ kind: 'ok', ret: 0n, data: leBytes(total, 8) }, 'iommufd.ioas-unmap.all');
  }
  if (iova >= ULONG_MAX || length >= ULONG_MAX) return err('EOVERFLOW', 'iommufd.ioas-unmap.overflow-eoverflow');
  if (length === 0n) return err('EINVAL', 'iommufd.ioas-unmap.zero-length-einval');
  const last = iova + length - 1n;
  if (last > ULONG_MAX) return err('EOVERFLOW', 'iommufd.ioas-unmap.overflow-eoverflow');
  const hit = ioas.areas.filter((a) => overlaps(a.iova, a.length, { start: iova, last }));
  // Areas are removed in iova order until one sticks out of the range: the ones before it are
  // gone and the call still fails -ENOENT [S: the loop returns from the middle].
  hit.sort((a, b) => (a.iova < b.iova ? -1 : 1));
  let unmapped = 0n;
  for (const a of hit) {
    if (a.iova < iova || a.iova + a.length - 1n > last) {
      return err('ENOENT', 'iommufd.ioas-unmap.bisects-area-enoent');
    }
    ioas.areas = ioas.areas.filter((x) => x !== a);
    unmapped += a.length;
  }
  if (unmapped === 0n) return err('ENOENT', 'iommufd.ioas-unmap.nothing-mapped-enoent');
  return step({ kind: 'ok', ret: 0n, data: leBytes(unmapped, 8) }, 'iommufd.ioas-unmap.ok');
}

/** IOMMU_HWPT_ALLOC of a paging domain for a bound device on an IOAS [S hw_pagetable.c 6.12]. */
function hwptAlloc(k: Kctx, ctx: IommufdCtx, flags: number, devId: number, ptId: number): Step {
  if (!k.v.iommufdHwptAlloc) return err('ENOTTY', 'iommufd.hwpt-alloc.unknown-ioctl-enotty');
  const dev = find(ctx, devId);
  if (dev === undefined || dev.type !== 'device') return err('ENOENT', 'iommufd.object.unknown-id-enoent');
  const pt = find(ctx, ptId);
  if (pt === undefined) return err('ENOENT', 'iommufd.object.unknown-id-enoent');
  if (pt.type !== 'ioas')
    return step({ kind: 'unsupported', reason: 'HWPT_ALLOC of a nested HWPT (parent HWPT, vendor data) is not modeled' }, 'iommufd.hwpt-alloc.nested-unsupported');
  // NEST_PARENT 0x1, DIRTY_TRACKING 0x2 ask the IOMMU driver for features the model does not know.
  if (flags !== 0) return step({ kind: 'unsupported', reason: `HWPT_ALLOC flags ${flags} need IOMMU driver features the trace does not show` }, 'iommufd.hwpt-alloc.flags-unsupported');
  const fill = fillFails(ctx, ptId);
  if (fill !== undefined) return err(fill, fill === 'EFAULT' ? 'iommufd.hwpt-alloc.bar-area-efault' : 'iommufd.hwpt-alloc.reserved-overlaps-area-eaddrinuse');
  const id = allocId(ctx);
  ctx.objects.push({ id, type: 'hwpt', ioas: ptId, auto: false });
  markDmabufsMapped(k, ctx, ptId);
  return step({ kind: 'ok', ret: 0n, data: leBytes(BigInt(id), 4) }, 'iommufd.hwpt-alloc.ok');
}

/** A dma-buf area in a new domain is mapped through the exporter (the importer maps it). */
export function markDmabufsMapped(k: Kctx, ctx: IommufdCtx, ioasId: number): void {
  for (const a of ioasOf(ctx, ioasId)?.areas ?? []) {
    if (a.source !== 'dmabuf' || a.revoked) continue;
    const d = k.st.dmabufs.find((x) => x.fd === a.dmabuf);
    if (d !== undefined) d.mapped = true;
  }
}

/** Objects something else holds (obj->users > 1) [S main.c iommufd_object_remove]. */
function inUse(k: Kctx, ctx: IommufdCtx, o: IommufdObject): boolean {
  switch (o.type) {
    case 'device':
      return true; // vfio holds the iommufd_device until unbind
    case 'ioas':
      return ctx.objects.some((x) => x.type === 'hwpt' && x.ioas === o.id) || k.st.iommufd.cdevFiles.some((f) => f.ptId === o.id && f.hwpt !== 0);
    case 'hwpt':
      return k.st.iommufd.cdevFiles.some((f) => f.hwpt === o.id);
  }
}

function destroy(k: Kctx, ctx: IommufdCtx, id: number): Step {
  const o = find(ctx, id);
  if (o === undefined) return err('ENOENT', 'iommufd.object.unknown-id-enoent');
  if (inUse(k, ctx, o)) return err('EBUSY', 'iommufd.destroy.in-use-ebusy');
  ctx.objects = ctx.objects.filter((x) => x !== o);
  return step({ kind: 'ok', ret: 0n }, 'iommufd.destroy.ok');
}

/**
 * The exporter revoked a dma-buf (MSE cleared, D3hot, reset, close): iopt_revoke_notify unmaps
 * every area of it from the IOMMU and marks it revoked for good; the area itself stays until
 * IOAS_UNMAP [P 6.19 pages.c].
 */
export function revokeIommufdAreas(k: Kctx, dmabuf: number): void {
  for (const ctx of k.st.iommufd.contexts)
    for (const o of ctx.objects) if (o.type === 'ioas') for (const a of o.areas) if (a.source === 'dmabuf' && a.dmabuf === dmabuf) a.revoked = true;
}
