// The iommufd context (/dev/iommu) and the vfio device cdev files as the kernel model keeps them.
// Like type1's dma list they belong to files that outlive a device open (the iommufd fd), so they
// live beside vfio-pci's per-open state and a device close only drops what the device owned.

/** An IOVA range of an IOAS (struct iopt_area) and what backs it. */
export interface IoasArea {
  iova: bigint;
  length: bigint;
  /** user = ordinary memory by VA, bar = a VA inside a BAR mapping (VM_PFNMAP), file = memfd, dmabuf = a vfio dma-buf. */
  source: 'user' | 'bar' | 'file' | 'dmabuf';
  /** For a dma-buf area: the dma-buf's fd as the trace numbers it. */
  dmabuf?: number;
  /** A dma-buf area whose exporter revoked it: the IOMMU mapping is gone for good (iopt_revoke_notify). */
  revoked?: boolean;
}

export type IommufdObject =
  | { id: number; type: 'ioas'; areas: IoasArea[] }
  /** A bound device (iommufd_device); vfio holds a reference, so IOMMU_DESTROY cannot remove it. */
  | { id: number; type: 'device' }
  /** A paging HWPT on `ioas`; `auto` = made by an ATTACH to the IOAS (destroyed with the attachment). */
  | { id: number; type: 'hwpt'; ioas: number; auto: boolean };

/** One open /dev/iommu. */
export interface IommufdCtx {
  /** The fd as the trace numbers it (the open's observed return), or -1 when not known. */
  fd: number;
  objects: IommufdObject[];
}

/** A file opened on /dev/vfio/devices/vfioN (the ProcessTable's file id). */
export interface CdevFile {
  file: number;
  /** BIND_IOMMUFD succeeded: the device is open through this file (df->access_granted). */
  bound: boolean;
  /** The iommufd the file is bound to (its fd) and the device's object id there. */
  iommufd: number;
  devId: number;
  /** The page table the device is attached to: the IOAS/HWPT id given, and the HWPT in use; 0 = detached. */
  ptId: number;
  hwpt: number;
}

export interface IommufdState {
  contexts: IommufdCtx[];
  cdevFiles: CdevFile[];
}

export function initialIommufdState(): IommufdState {
  return { contexts: [], cdevFiles: [] };
}
