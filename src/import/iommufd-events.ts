// The iommufd and vfio-cdev half of the strace importer (docs/iommufd.md): which calls become
// `cdev-open`, `iommufd-open`, `iommufd OP` and the cdev ioctls, decoded from the tracer's ioctl
// argument capture. Layouts are include/uapi/linux/iommufd.h and vfio.h, little-endian; every
// IOMMU_* request is _IO(';', 0x80 + n), so strace shows the number and the struct only as an
// address (its own tables lag: strace 6.1 names 0x3b76 VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY).
//
//   /dev/iommu fd
//     DESTROY          0x3b80 { size, id }                                        -> iommufd destroy
//     IOAS_ALLOC       0x3b81 { size, flags, out_ioas_id }                        -> iommufd ioas-alloc
//     IOAS_IOVA_RANGES 0x3b84 { size, ioas_id, num_iovas, rsvd, u64 ptr, u64 align } -> ioas-iova-ranges
//     IOAS_MAP         0x3b85 { size, flags, ioas_id, rsvd, u64 user_va, u64 length, u64 iova } -> ioas-map
//     IOAS_UNMAP       0x3b86 { size, ioas_id, u64 iova, u64 length }             -> ioas-unmap
//     HWPT_ALLOC       0x3b89 { size, flags, dev_id, pt_id, ... }                 -> hwpt-alloc
//     IOAS_MAP_FILE    0x3b8f { size, flags, ioas_id, s32 fd, u64 start, u64 length, u64 iova } -> ioas-map-file
//   cdev fd (/dev/vfio/devices/vfioN)
//     BIND_IOMMUFD     0x3b76 { argsz, flags, s32 iommufd, out_devid }           -> ioctl bind-iommufd
//     ATTACH_IOMMUFD_PT 0x3b77 { argsz, flags, pt_id, pasid }                     -> ioctl attach-iommufd-pt
//     DETACH_IOMMUFD_PT 0x3b78 { argsz, flags, pasid }                           -> ioctl detach-iommufd-pt
//
// Outputs the kernel writes back (new ids, the chosen iova) happen after the capture (it reads the
// struct at syscall entry): they are not in the trace; replay predicts them.

import type { EventBody } from '../trace/types.js';

export const BIND_IOMMUFD = 0x3b76;
export const ATTACH_IOMMUFD_PT = 0x3b77;
export const DETACH_IOMMUFD_PT = 0x3b78;

/** The event for a successful open of a path the fd table classified, or null. */
export function openEvent(path: string, kind: string, ours: boolean): EventBody | null {
  if (kind === 'iommufd') return { kind: 'iommufd-open' };
  const m = /(?:^|\/)dev\/vfio\/devices\/vfio(\d+)$/.exec(path);
  if (kind === 'device' && ours && m !== null) return { kind: 'cdev-open', index: Number(m[1]) };
  return null;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * A cdev ioctl. BIND without a capture is still a bind (the device opens there): the iommufd is the
 * newest /dev/iommu the log opened (`iommufdFd`, -1 if none), argsz the minimal 16.
 */
export function cdevIoctl(req: number, bytes: Uint8Array | null, iommufdFd: number): EventBody | null {
  const d = bytes === null ? null : view(bytes);
  const has = (n: number) => d !== null && d.byteLength >= n;
  switch (req) {
    case BIND_IOMMUFD:
      // The token sits behind a pointer the capture does not follow: "" (the model asks for it only with the flag).
      if (!has(12)) return { kind: 'ioctl', op: 'bind-iommufd', iommufd: iommufdFd, flags: 0, argsz: 16, vfToken: '' };
      return { kind: 'ioctl', op: 'bind-iommufd', argsz: d!.getUint32(0, true), flags: d!.getUint32(4, true), iommufd: d!.getInt32(8, true), vfToken: '' };
    case ATTACH_IOMMUFD_PT:
      if (!has(12)) return null;
      return { kind: 'ioctl', op: 'attach-iommufd-pt', argsz: d!.getUint32(0, true), flags: d!.getUint32(4, true), ptId: d!.getUint32(8, true) };
    case DETACH_IOMMUFD_PT:
      if (!has(8)) return null;
      return { kind: 'ioctl', op: 'detach-iommufd-pt', argsz: d!.getUint32(0, true), flags: d!.getUint32(4, true) };
    default:
      return null;
  }
}

/** An ioctl on /dev/iommu from its captured struct, or null (another request, too few bytes). */
export function iommufdIoctl(req: number, bytes: Uint8Array): EventBody | null {
  const d = view(bytes);
  const n = d.byteLength;
  const u32 = (at: number) => d.getUint32(at, true);
  const u64 = (at: number) => d.getBigUint64(at, true);
  const kind = 'iommufd' as const;
  switch (req) {
    case 0x3b80:
      return n >= 8 ? { kind, op: 'destroy', id: u32(4) } : null;
    case 0x3b81:
      return n >= 8 ? { kind, op: 'ioas-alloc', flags: u32(4) } : null;
    case 0x3b84:
      return n >= 12 ? { kind, op: 'ioas-iova-ranges', ioasId: u32(4), numIovas: u32(8) } : null;
    case 0x3b85:
      return n >= 40 ? { kind, op: 'ioas-map', flags: u32(4), ioasId: u32(8), userVa: u64(16), length: u64(24), iova: u64(32) } : null;
    case 0x3b86:
      return n >= 24 ? { kind, op: 'ioas-unmap', ioasId: u32(4), iova: u64(8), length: u64(16) } : null;
    case 0x3b89:
      return n >= 16 ? { kind, op: 'hwpt-alloc', flags: u32(4), devId: u32(8), ptId: u32(12) } : null;
    case 0x3b8f:
      return n >= 40 ? { kind, op: 'ioas-map-file', flags: u32(4), ioasId: u32(8), fd: d.getInt32(12, true), start: u64(16), length: u64(24), iova: u64(32) } : null;
    default:
      return null;
  }
}
