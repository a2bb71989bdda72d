// ioctl request numbers of VFIO, KVM and iommufd as strace prints them. strace names an ioctl from
// its request number alone, and VFIO reuses numbers across fd kinds (the container's IOMMU calls
// share 0x3b70..0x3b79 with device calls), so strace prints every match joined by " or " and its
// table may lag the kernel (strace 6.1 prints 0x3b76 as VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY only).
// The importer therefore recovers the NUMBER from whatever strace printed and names the call
// itself from the number and the kind of fd it was issued on.
// Source: include/uapi/linux/vfio.h (reference kernel-vfio-pci.md §1.1), strace's ioctlent table.

export const VFIO_TYPE = 0x3b;

/** Every VFIO name strace may print, with its number. */
const VFIO_NAMES: Record<string, number> = {
  VFIO_GET_API_VERSION: 0x3b64,
  VFIO_CHECK_EXTENSION: 0x3b65,
  VFIO_SET_IOMMU: 0x3b66,
  VFIO_GROUP_GET_STATUS: 0x3b67,
  VFIO_GROUP_SET_CONTAINER: 0x3b68,
  VFIO_GROUP_UNSET_CONTAINER: 0x3b69,
  VFIO_GROUP_GET_DEVICE_FD: 0x3b6a,
  VFIO_DEVICE_GET_INFO: 0x3b6b,
  VFIO_DEVICE_GET_REGION_INFO: 0x3b6c,
  VFIO_DEVICE_GET_IRQ_INFO: 0x3b6d,
  VFIO_DEVICE_SET_IRQS: 0x3b6e,
  VFIO_DEVICE_RESET: 0x3b6f,
  VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: 0x3b70,
  VFIO_IOMMU_GET_INFO: 0x3b70,
  VFIO_IOMMU_SPAPR_TCE_GET_INFO: 0x3b70,
  VFIO_DEVICE_PCI_HOT_RESET: 0x3b71,
  VFIO_IOMMU_MAP_DMA: 0x3b71,
  VFIO_DEVICE_QUERY_GFX_PLANE: 0x3b72,
  VFIO_IOMMU_UNMAP_DMA: 0x3b72,
  VFIO_DEVICE_GET_GFX_DMABUF: 0x3b73,
  VFIO_IOMMU_ENABLE: 0x3b73,
  VFIO_DEVICE_IOEVENTFD: 0x3b74,
  VFIO_IOMMU_DISABLE: 0x3b74,
  VFIO_DEVICE_FEATURE: 0x3b75,
  VFIO_IOMMU_DIRTY_PAGES: 0x3b75,
  VFIO_IOMMU_SPAPR_REGISTER_MEMORY: 0x3b75,
  VFIO_DEVICE_BIND_IOMMUFD: 0x3b76,
  VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: 0x3b76,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT: 0x3b77,
  VFIO_IOMMU_SPAPR_TCE_CREATE: 0x3b77,
  VFIO_DEVICE_DETACH_IOMMUFD_PT: 0x3b78,
  VFIO_IOMMU_SPAPR_TCE_REMOVE: 0x3b78,
  VFIO_EEH_PE_OP: 0x3b79,
  VFIO_MIG_GET_PRECOPY_INFO: 0x3b79,
};

/** The KVM calls the importer turns into events or uses to track fds. */
export const KVM = {
  CREATE_VM: 0xae01,
  CREATE_VCPU: 0xae41,
  SET_USER_MEMORY_REGION: 0x4020ae46,
  SET_USER_MEMORY_REGION2: 0x40a0ae49,
  RUN: 0xae80,
} as const;

const KVM_NAMES: Record<string, number> = {
  KVM_CREATE_VM: KVM.CREATE_VM,
  KVM_CREATE_VCPU: KVM.CREATE_VCPU,
  KVM_SET_USER_MEMORY_REGION: KVM.SET_USER_MEMORY_REGION,
  KVM_SET_USER_MEMORY_REGION2: KVM.SET_USER_MEMORY_REGION2,
  KVM_RUN: KVM.RUN,
};

/** What each VFIO number means on each fd kind (for the `raw` op's name). */
const DEVICE_NAMES: Record<number, string> = {
  0x3b6b: 'VFIO_DEVICE_GET_INFO',
  0x3b6c: 'VFIO_DEVICE_GET_REGION_INFO',
  0x3b6d: 'VFIO_DEVICE_GET_IRQ_INFO',
  0x3b6e: 'VFIO_DEVICE_SET_IRQS',
  0x3b6f: 'VFIO_DEVICE_RESET',
  0x3b70: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
  0x3b71: 'VFIO_DEVICE_PCI_HOT_RESET',
  0x3b72: 'VFIO_DEVICE_QUERY_GFX_PLANE',
  0x3b73: 'VFIO_DEVICE_GET_GFX_DMABUF',
  0x3b74: 'VFIO_DEVICE_IOEVENTFD',
  0x3b75: 'VFIO_DEVICE_FEATURE',
  0x3b76: 'VFIO_DEVICE_BIND_IOMMUFD',
  0x3b77: 'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
  0x3b78: 'VFIO_DEVICE_DETACH_IOMMUFD_PT',
  0x3b79: 'VFIO_MIG_GET_PRECOPY_INFO',
};
const CONTAINER_NAMES: Record<number, string> = {
  0x3b64: 'VFIO_GET_API_VERSION',
  0x3b65: 'VFIO_CHECK_EXTENSION',
  0x3b66: 'VFIO_SET_IOMMU',
  0x3b70: 'VFIO_IOMMU_GET_INFO',
  0x3b71: 'VFIO_IOMMU_MAP_DMA',
  0x3b72: 'VFIO_IOMMU_UNMAP_DMA',
  0x3b73: 'VFIO_IOMMU_ENABLE',
  0x3b74: 'VFIO_IOMMU_DISABLE',
  0x3b75: 'VFIO_IOMMU_DIRTY_PAGES',
  0x3b79: 'VFIO_EEH_PE_OP',
};
const GROUP_NAMES: Record<number, string> = {
  0x3b67: 'VFIO_GROUP_GET_STATUS',
  0x3b68: 'VFIO_GROUP_SET_CONTAINER',
  0x3b69: 'VFIO_GROUP_UNSET_CONTAINER',
  0x3b6a: 'VFIO_GROUP_GET_DEVICE_FD',
};

/**
 * The request number from strace's rendering of an ioctl's second argument: a name, `A or B`,
 * `0x3b6c`, `0x3b6c /* NAME *\/` (-X verbose) or `_IOC(_IOC_NONE, 0x3b, 0x7a, 0)`. null when the
 * text names nothing the importer knows (another subsystem's ioctl).
 */
export function requestNumber(text: string): number | null {
  const t = text.trim();
  const hex = /^(0x[0-9a-fA-F]+|\d+)(?:\s*\/\*.*\*\/)?$/.exec(t);
  if (hex) return Number(BigInt(hex[1]!) & 0xffffffffn);
  const ioc = /^_IOC\(\s*([_A-Z|]+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*\)$/.exec(t);
  if (ioc) {
    const dir = ioc[1]!.split('|').reduce((d, f) => d | ({ _IOC_NONE: 0, _IOC_WRITE: 1, _IOC_READ: 2 }[f.trim()] ?? 0), 0);
    const type = Number(ioc[2]);
    const nr = Number(ioc[3]);
    const size = Number(ioc[4]);
    return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
  }
  for (const alt of t.split(/\s+or\s+/)) {
    const name = alt.trim();
    const n = VFIO_NAMES[name] ?? KVM_NAMES[name];
    if (n !== undefined) return n;
  }
  return null;
}

export function isVfioRequest(req: number): boolean {
  return (req & 0xffff) >>> 8 === VFIO_TYPE && req >>> 16 === 0;
}

export type FdKind = 'container' | 'group' | 'device' | 'iommufd' | 'kvm' | 'kvm-vm' | 'kvm-vcpu' | 'other';

/** The name of a VFIO request on a given fd kind (what the call really was). */
export function vfioName(req: number, kind: FdKind): string {
  const table = kind === 'device' ? DEVICE_NAMES : kind === 'container' ? CONTAINER_NAMES : kind === 'group' ? GROUP_NAMES : {};
  return table[req] ?? `_IOC(_IOC_NONE, 0x3b, 0x${(req & 0xff).toString(16)}, 0)`;
}

/** Symbolic CHECK_EXTENSION / SET_IOMMU arguments some strace versions print (include/uapi/linux/vfio.h). */
const SETUP_ARGS: Record<string, bigint> = {
  VFIO_TYPE1_IOMMU: 1n,
  VFIO_SPAPR_TCE_IOMMU: 2n,
  VFIO_TYPE1v2_IOMMU: 3n,
  VFIO_DMA_CC_IOMMU: 4n,
  VFIO_EEH: 5n,
  VFIO_TYPE1_NESTING_IOMMU: 6n,
  VFIO_SPAPR_TCE_v2_IOMMU: 7n,
  VFIO_NOIOMMU_IOMMU: 8n,
  VFIO_UNMAP_ALL: 9n,
  VFIO_UPDATE_VADDR: 10n,
};

/** The number behind a symbolic set-up argument, null when the text is none of them. */
export function setupArgByName(text: string): bigint | null {
  return SETUP_ARGS[text.trim()] ?? null;
}
