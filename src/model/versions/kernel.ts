// Every modeled kernel version as DATA: releases and the versions of the patch series the seeds
// are about. Each version is a full set of behavior switches; each switch that differs from the
// version it derives from carries its source. The model asks `v.<switch>`, never compares ids.
//
// Evidence tags (as in shared/reference/kernel-vfio-pci.md): S = read in kernel source,
// P = read in a patch / mail / advisory / log, M = unverified (inferred or from memory),
// L = observed on the real kernel in the lab (6.1, 6.12, 7.2 on QEMU's emulated e1000e; the trace
// and event are named). The lab corrects M entries: record what it found here.

import { BUG_SWITCHES, KERNEL_BUGS, type BugSwitches, type KernelBug } from './kernel-bugs.js';
import { isAncestorOrSelf, parseKernelNumber } from './lineage.js';
import { parseUname, type Distro } from './uname.js';

export type Evidence = 'S' | 'P' | 'M' | 'L';

export interface SwitchSource {
  /** Commit, CVE, series+version, or mail the behavior comes from. */
  ref: string;
  evidence: Evidence;
  note?: string;
}

/** 'unknown' = the behavior of this version is not known; events that hinge on it are `unsupported`. */
export type Unknown = 'unknown';

/** Every behavior switch: the ones below plus one `bug<Name>` per catalog bug (kernel-bugs.ts). */
export type KernelSwitches = CoreSwitches & BugSwitches;

export interface CoreSwitches {
  /** vconfig tracks COMMAND.MEM; clearing it zaps mmaps; faults SIGBUS and MEM BAR rw -EIO while disabled. */
  blockDisabledMmio: boolean;
  /** A mmap fault that finds a memory_lock writer in flight: none = no lock exists; wait = sleeps (the v1 SIGBUS is catalog bug contended-fault-sigbus). */
  faultContention: 'none' | 'wait';
  /** How BAR mmaps get their PTEs: at-mmap = remap_pfn_range in mmap (never zapped); whole-vma = first fault maps the VMA; page = per-page faults. */
  faultPopulate: 'at-mmap' | 'whole-vma' | 'page';
  /** memory_enabled also requires current_state < D3hot; PMCSR -> D3hot zaps; PME bits virtualized. */
  d3hotBlocksAccess: boolean;
  /** VFIO_DEVICE_RESET first calls vfio_pci_set_power_state(D0) (NoSoftRst- state restored by vfio). */
  resetEntersD0ViaVfio: boolean;
  /** VFIO_DEVICE_FEATURE LOW_POWER_ENTRY/_WITH_WAKEUP/EXIT; faults SIGBUS while engaged. */
  lowPowerFeatures: boolean;
  /** BAR pread/pwrite use 8-byte accesses when aligned. */
  rw8Byte: boolean;
  /** VFIO_DEVICE_FEATURE_DMA_BUF export, revoke/unrevoke at every zap site. */
  dmabufExport: boolean;
  /** DMABUF export refuses a BAR whose resource vfio-pci does not hold (-ENODEV). */
  dmabufChecksBarResource: boolean;
  /** DMABUF export of a BAR that cannot be mmapped: no = allowed; bar-mmap-supported / p2pdma-provider = -EINVAL. */
  dmabufRefusesUnmappable: 'no' | 'bar-mmap-supported' | 'p2pdma-provider' | Unknown;
  /** When BAR resources are requested+iomapped: lazy (first use) / fail-open (enable, error fails open) / per-bar (enable, error kept per BAR). */
  barmapAt: 'lazy' | 'fail-open' | 'per-bar';
  /** When pci_iomap fails after the region was requested, the region is released again. */
  iomapFailReleasesRegion: boolean;
  /** VFIO_DEVICE_RESET takes memory_lock, moves to D0, and only then zaps + revokes. */
  resetZapAfterD0: boolean;
  /** PCI_HOT_RESET checks the group-fd count (`!!count == cdev_opened`) before probing slot/bus reset. */
  hotResetCountCheckFirst: boolean;
  /** VFIO_DEVICE_FEATURE id 12 is known to the kernel (semantics unread; PROBE alone gives -EINVAL). */
  feature12: boolean | Unknown;
  /** type1 knows VFIO_DMA_UNMAP_FLAG_ALL and the VADDR flags of MAP/UNMAP_DMA (else -EINVAL). */
  type1UnmapAllVaddr: boolean;
  /** GET_INFO with argsz >= 20 also writes cap_offset (0 without capabilities): 20 bytes copied out, not 16. */
  deviceInfoCapOffset: boolean;
  /** MSI-X can grow after enable (vdev->has_dyn_msix): GET_IRQ_INFO of MSI-X drops VFIO_IRQ_INFO_NORESIZE. */
  dynamicMsix: boolean;
  /**
   * What a fork() child's copies of the BAR VMAs start with: copied = copy_page_range copied the
   * parent's present PTEs (VM_PFNMAP); zapped-by-vm-open = vfio-pci's vm_ops->open zapped them
   * (the child faults on first access). The copies vm_ops->open never saw (fork.c 35e351780fa9
   * order on a vma_list kernel) are the catalog bug fork-untracked-ptes (bugForkUntrackedPtes).
   */
  forkChildPtes: 'copied' | 'zapped-by-vm-open';
  /**
   * vm_ops->huge_fault for BAR mmaps (kernel/huge-fault.ts): none = PTEs only; aligned-down = the
   * block around the fault, when it lies inside the VMA. 6.12 as released mapped a block only for a
   * fault at its first address (catalog bug huge-fault-order) and did not test the PFN's alignment
   * (catalog bug huge-fault-unaligned-pfn).
   */
  hugeFault: 'none' | 'aligned-down';
  /** vfio-pci refuses to bind denylisted devices (Intel QAT) unless disable_denylist. */
  probeDenylist: boolean;
  /**
   * How the unused (bound, unopened) device is put in low power: set-power-state = vfio sets D3hot
   * itself at probe/release; runtime-pm = runtime suspend (power/control auto, D3cold possible).
   */
  idleD3: 'set-power-state' | 'runtime-pm';
  /** /dev/iommu: IOAS_ALLOC/MAP/UNMAP/IOVA_RANGES/DESTROY (drivers/iommu/iommufd); else the open fails -ENOENT. */
  iommufd: boolean;
  /** /dev/vfio/devices/vfioN: BIND_IOMMUFD, ATTACH/DETACH_IOMMUFD_PT, hot reset with a zero-length fd list. */
  vfioDeviceCdev: boolean;
  /** IOMMU_HWPT_ALLOC of a paging domain (else -ENOTTY). */
  iommufdHwptAlloc: boolean;
  /** IOMMU_IOAS_MAP_FILE (else -ENOTTY). */
  iommufdMapFile: boolean;
  /** IOMMU_IOAS_MAP_FILE takes a vfio dma-buf fd (iopt_alloc_dmabuf_pages; revoke unmaps it from the IOMMU). */
  iommufdDmabufImport: boolean;
  /**
   * VFIO_DEVICE_BIND_IOMMUFD checks the VF token (vfio_pci_core_match_token_uuid) and takes one with
   * VFIO_DEVICE_BIND_FLAG_TOKEN; before, any flag is -EINVAL and a VF binds without a token.
   */
  cdevBindVfToken: boolean;
  /**
   * A PF with VFs stays in D0: vfio_pci_set_power_state refuses a lower state (-EBUSY, ignored by
   * the PMCSR write), sriov_configure moves the PF to D0 first and holds a runtime PM reference.
   */
  sriovPfPowerGuard: boolean;
  /**
   * VFIO_GROUP_GET_DEVICE_FD looks the name up before checking the group's container + IOMMU
   * driver (both failing: -ENODEV, not -EINVAL). Seen only when both checks fail.
   */
  getDeviceFdNameFirst: boolean | Unknown;
  /** Device files hold a reference to the group file: closing the group fd with the device open releases nothing, a reopen is -EBUSY. */
  groupFileHeldByDevice: boolean | Unknown;
}

export type SwitchName = keyof KernelSwitches;

export interface KernelVersion {
  id: string;
  /** 'release' or the series name. */
  axis: string;
  /** For a series version: the release it applies to. */
  base?: string;
  /** What this version is (date, title). */
  title: string;
  switches: KernelSwitches;
  /** Sources of the switches as first set or changed by this version (inherited ones are on the ancestor). */
  sources: Partial<Record<SwitchName, SwitchSource>>;
  /** The id this version's switches derive from (previous release, or the series base / previous series version). */
  derivesFrom?: string;
}

const LINUX_5_7: KernelSwitches = {
  blockDisabledMmio: false,
  faultContention: 'none',
  faultPopulate: 'at-mmap',
  d3hotBlocksAccess: false,
  resetEntersD0ViaVfio: false,
  lowPowerFeatures: false,
  rw8Byte: false,
  dmabufExport: false,
  dmabufChecksBarResource: false,
  dmabufRefusesUnmappable: 'no',
  barmapAt: 'lazy',
  iomapFailReleasesRegion: true,
  resetZapAfterD0: false,
  hotResetCountCheckFirst: false,
  feature12: false,
  type1UnmapAllVaddr: false,
  deviceInfoCapOffset: false,
  dynamicMsix: false,
  forkChildPtes: 'copied',
  hugeFault: 'none',
  probeDenylist: false,
  idleD3: 'set-power-state',
  iommufd: false,
  vfioDeviceCdev: false,
  iommufdHwptAlloc: false,
  iommufdMapFile: false,
  iommufdDmabufImport: false,
  cdevBindVfToken: false,
  sriovPfPowerGuard: false,
  getDeviceFdNameFirst: false,
  groupFileHeldByDevice: 'unknown',
  ...(Object.fromEntries(BUG_SWITCHES.map((b) => [b, false])) as BugSwitches),
};

const CVE_2020_12888: SwitchSource = {
  ref: 'abafbc551fdd "vfio-pci: Invalidate mmaps and block MMIO access on disabled memory" (CVE-2020-12888), 5.8',
  evidence: 'S',
  note: 'config.c @009b982d: __vfio_pci_memory_enabled on vconfig MSE; [L] mse-mapping on 6.1/6.12/7.2 (SIGBUS BUS_ADRERR, -EIO, refault after re-enable)',
};

interface Draft {
  id: string;
  axis: string;
  base?: string;
  title: string;
  from?: string;
  set: Partial<KernelSwitches>;
  sources: Partial<Record<SwitchName, SwitchSource>>;
}

const DRAFTS: Draft[] = [
  {
    id: 'linux-5.7',
    axis: 'release',
    title: 'Linux 5.7 (May 2020): BAR mmaps remapped at mmap time, no MSE tracking',
    set: LINUX_5_7,
    sources: {
      faultPopulate: { ref: 'vfio_pci_mmap (pre-5.8): remap_pfn_range at mmap time', evidence: 'S', note: 'config.c @cc10385b' },
      iomapFailReleasesRegion: { ref: 'vfio_pci_setup_barmap: pci_release_selected_regions when pci_iomap fails', evidence: 'M' },
      forkChildPtes: {
        ref: 'mm/memory.c copy_page_range: PTEs of VM_PFNMAP vmas are copied at fork; vfio_pci_mmap sets VM_IO|VM_PFNMAP (no VM_DONTCOPY) and has no vm_ops->open',
        evidence: 'S',
      },
      getDeviceFdNameFirst: {
        ref: 'vfio.c vfio_group_get_device_fd (5.x): "if (0 == atomic_read(&group->container_users) || !group->container->iommu_driver || !vfio_group_viable(group)) return -EINVAL" before vfio_device_get_from_name',
        evidence: 'S',
      },
      groupFileHeldByDevice: {
        ref: 'vfio.c (5.x) vfio_group_fops_release dissolves the container via container_users; whether an open device keeps the group from a reopen was not read',
        evidence: 'M',
      },
    },
  },
  {
    id: 'linux-5.8',
    axis: 'release',
    title: 'Linux 5.8 (Aug 2020): block access to disabled device MMIO',
    from: 'linux-5.7',
    set: { blockDisabledMmio: true, faultContention: 'wait', faultPopulate: 'whole-vma', deviceInfoCapOffset: true, forkChildPtes: 'zapped-by-vm-open' },
    sources: {
      deviceInfoCapOffset: {
        ref: 'zPCI device-info capabilities (Matthew Rosato, 5.8): vfio_pci_ioctl_get_info copies offsetofend(cap_offset) bytes when argsz allows, cap_offset = 0 without caps',
        evidence: 'M',
        note: 'first release [M]; [L] info-edges #3, hot-reset #1 on 6.1/6.12/7.2: 24-byte buffer gets argsz, flags, num_regions, num_irqs, cap_offset=0',
      },
      blockDisabledMmio: CVE_2020_12888,
      faultContention: { ref: 'block-disabled-mmio v2/v3 locking as merged in 5.8 (fault takes memory_lock read, sleeps on a writer)', evidence: 'P' },
      faultPopulate: { ref: '11c4cd07ba11 "vfio-pci: Fault mmaps to enable vma tracking", 5.8', evidence: 'S', note: 'core.c @0886196c' },
      forkChildPtes: {
        ref: '11c4cd07ba11 (5.8): vfio_pci_mmap_open() zaps the new vma "so that vma_list only tracks mappings accessed since last zap"; dup_mmap calls vm_ops->open after copy_page_range (kernel/fork.c up to 6.9)',
        evidence: 'S',
        note: '[L] fork on 6.1: the child faults its mapping in (same outcomes as a copied PTE while the device decodes)',
      },
    },
  },
  {
    id: 'linux-5.9',
    axis: 'release',
    title: 'Linux 5.9 (Oct 2020): recursive memory_lock fixed (catalog), ioeventfd writes test memory enable, device denylist',
    from: 'linux-5.8',
    set: { probeDenylist: true },
    sources: {
      probeDenylist: {
        ref: '"vfio/pci: Add device denylist" (Giovanni Cabiddu): vfio_pci_probe refuses Intel QAT C3XXX/C62X/DH895XCC PFs+VFs unless disable_denylist',
        evidence: 'M',
        note: 'present in the 5.10-era vfio_pci.c [S]; first release 5.9 inferred',
      },
    },
  },
  {
    id: 'linux-5.10',
    axis: 'release',
    title: 'Linux 5.10 (Dec 2020, LTS): ioeventfd thread handler (catalog)',
    from: 'linux-5.9',
    set: {},
    sources: {},
  },
  {
    id: 'linux-5.14',
    axis: 'release',
    title: 'Linux 5.14 (Aug 2021): concurrent vma faults handled (catalog); type1 unmap-all/vaddr (5.12)',
    from: 'linux-5.10',
    set: { type1UnmapAllVaddr: true },
    sources: {
      type1UnmapAllVaddr: {
        ref: 'Steve Sistare "vfio/type1: implement unmap all" + "define and implement VFIO_DMA_MAP_FLAG_VADDR", 5.12 (first modeled release after it: 5.14)',
        evidence: 'P',
        note: '[L] map-dma#38 on 6.1/6.12/7.2: UNMAP_DMA flags=ALL -> 0, size = every mapping',
      },
    },
  },
  {
    id: 'linux-5.15',
    axis: 'release',
    title: 'Linux 5.15 (Oct 2021, LTS): no modeled change from 5.14 (base of the 5.15.y catalog points)',
    from: 'linux-5.14',
    set: {},
    sources: {},
  },
  {
    id: 'linux-5.19',
    axis: 'release',
    title: 'Linux 5.19 (Jul 2022): D3hot blocks access, PME virtualized',
    from: 'linux-5.15',
    set: { d3hotBlocksAccess: true, resetEntersD0ViaVfio: true, idleD3: 'runtime-pm', sriovPfPowerGuard: true, getDeviceFdNameFirst: 'unknown' },
    sources: {
      getDeviceFdNameFirst: {
        ref: 'the split of vfio_group_get_device_fd (name lookup first) landed between 5.14 (container check first) and 6.1 (name first); which side 5.19 is on was not read',
        evidence: 'M',
      },
      sriovPfPowerGuard: {
        ref: 'D3hot series (Abhishek Sahu, 5.19): "vfio/pci: Change the PF power state to D0 before enabling VFs" (vfio_pci_set_power_state: pci_num_vf && state > D0 -> -EBUSY; sriov_configure sets D0 under memory_lock) + "Move the unused device into low power state with runtime PM" (pm_runtime_resume_and_get in sriov_configure)',
        evidence: 'P',
        note: 'vfio_pci_core.c of 6.x has both [S]; [L] sriov-pf on 6.1/6.12/7.2 (traces/lab/<k>/igb): PMCSR D3hot with a VF reads back D0, BAR0 keeps answering; numvfs=1 from D3hot moves the PF to D0',
      },
      idleD3: {
        ref: '"vfio/pci: Move the unused device into low power state with runtime PM" (Abhishek Sahu, 5.19 D3cold series): probe allows runtime PM and drops its usage count, enable takes pm_runtime_resume_and_get (skipped with disable_idle_d3)',
        evidence: 'P',
        note: 'S: vfio_pci_core.c @0886196c enable/out_power; [L] runtime-pm on 6.1/6.12/7.2: power_state D3hot + runtime_status suspended while unopened, D0 + active while open, D0 + active throughout with disable_idle_d3 or power/control=on; [L] runtime-pm-d3cold on 6.1/6.12/7.2 (an SSDT power resource, lab topology root-d3cold): D3cold while unopened, D3hot with d3cold_allowed=0',
      },
      d3hotBlocksAccess: {
        ref: '"vfio/pci: Invalidate mmaps and block the access in D3hot power state" (Abhishek Sahu, 5.19)',
        evidence: 'P',
        note: '[L] pmcsr-dstates on 6.1/6.12/7.2: D3hot -> SIGBUS/-EIO, D1/D2 refused on e1000e, NoSoftRst- restore from pm_save (drops a MEM bit set while in D3hot)',
      },
      resetEntersD0ViaVfio: {
        ref: 'D3hot series (Abhishek Sahu, 5.19): vfio_pci_set_power_state(D0) before pci_try_reset_function, because the reset "will internally set the power state to D0 without vfio driver involvement" and NoSoftRst- devices lose config',
        evidence: 'P',
        note: 'first release 5.19 is [M]',
      },
    },
  },
  {
    id: 'linux-6.1',
    axis: 'release',
    title: 'Linux 6.1 (Dec 2022): low-power device features',
    from: 'linux-5.19',
    set: { lowPowerFeatures: true, getDeviceFdNameFirst: true, groupFileHeldByDevice: true },
    sources: {
      getDeviceFdNameFirst: {
        ref: 'Jason Gunthorpe "vfio: Split up vfio_group_get_device_fd()" (vfio_device_assign_container called from the open, after vfio_device_get_from_name); 6.1 vfio_main.c, 6.2+ group.c vfio_group_ioctl_get_device_fd -> vfio_df_group_open',
        evidence: 'S',
        note: 'first release between 5.19 and 6.1 [M]; [L] group-setup on 6.1/6.12/7.2: GET_DEVICE_FD before SET_CONTAINER -> EINVAL',
      },
      groupFileHeldByDevice: {
        ref: 'vfio_device_assign_container: get_file(group->opened_file); group.c vfio_group_fops_release: "Device FDs hold a group file reference, therefore the group release is only called when there are no open devices"',
        evidence: 'S',
        note: 'first release between 5.19 and 6.1 [M]',
      },
      lowPowerFeatures: {
        ref: 'vfio pull for v6.1: "vfio/pci: Implement VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY/EXIT"',
        evidence: 'P',
        note: '[L] low-power on 6.1/6.12/7.2: -EINVAL when already engaged, faults SIGBUS while engaged, single-shot wakeup',
      },
    },
  },
  {
    id: 'linux-6.6',
    axis: 'release',
    title: 'Linux 6.6 (Oct 2023, LTS): dynamic MSI-X, iommufd and the vfio cdev, cdev hot-reset checks',
    from: 'linux-6.1',
    set: { hotResetCountCheckFirst: true, dynamicMsix: true, iommufd: true, vfioDeviceCdev: true, iommufdHwptAlloc: true },
    sources: {
      iommufd: {
        ref: '"iommufd: Add a userspace IOAS interface" series (Jason Gunthorpe), merged for 6.2 (first modeled release after it: 6.6)',
        evidence: 'S',
        note: 'ioas.c/io_pagetable.c: flags -> EOPNOTSUPP, no R/W -> EINVAL, fixed iova in a reserved range -> EINVAL, over an area -> EEXIST, no hole -> ENOSPC, unmap of nothing/part of an area -> ENOENT, IOVA_RANGES too small -> EMSGSIZE; pages pinned by pin_user_pages only when the IOAS has a domain, so a BAR VA (VM_PFNMAP) is -EFAULT at MAP or at the first ATTACH/HWPT_ALLOC. docs/iommufd.md',
      },
      vfioDeviceCdev: {
        ref: '"Add vfio_device cdev for iommufd support" v16 (Yi Liu), merged for 6.6: device_cdev.c, vfio_main.c vfio_device_fops_unl_ioctl',
        evidence: 'S',
        note: 'every ioctl/read/write/mmap before BIND -> EINVAL (access_granted), BIND twice -> EINVAL, BIND flags/negative fd -> EINVAL, ATTACH/DETACH on a group fd -> driver ioctl (ENOTTY); hot reset: !!count == cdev_opened -> EINVAL (cdev wants count 0)',
      },
      iommufdHwptAlloc: { ref: '"iommufd: Add IOMMU_HWPT_ALLOC" (Jason Gunthorpe), 6.6', evidence: 'P' },
      dynamicMsix: {
        ref: '"vfio/pci: Probe and store ability to support dynamic MSI-X" (Reinette Chatre, 6.5): NORESIZE only when !has_dyn_msix',
        evidence: 'L',
        note: 'info-edges #26, msix-pba #28: MSI-X irq-info flags 0x1 on 6.12/7.2, 0x9 on 6.1; the same series removed vfio_msi_set_block()\'s start+count > num_ctx check and lets vfio_msi_alloc_irq() allocate an MSI-X vector past the enabled ones: random campaign 1/363 (traces/lab/found/6.1/msix-set-block-past-vectors), SET_IRQS past the enabled MSI-X vectors -EINVAL on 6.1, ok on 6.12/7.2 (first modeled release after 6.5: 6.6, not run in the lab)',
      },
      hotResetCountCheckFirst: {
        ref: 'cdev hot-reset rework (Yi Liu, 6.5): count check before the slot/bus probe',
        evidence: 'L',
        note: 'lab reset-reopen #45 (no group fds, no bus reset): 6.1 -ENODEV, 6.12 and 7.2 -EINVAL (first modeled release after 6.5: 6.6, not run in the lab)',
      },
    },
  },
  {
    id: 'linux-6.12',
    axis: 'release',
    title: 'Linux 6.12 (Nov 2024): unmap_mapping_range zap, huge_fault',
    from: 'linux-6.6',
    set: { faultPopulate: 'page', forkChildPtes: 'copied', hugeFault: 'aligned-down' },
    sources: {
      hugeFault: {
        ref: 'f9e54c3a2f5b "vfio/pci: implement huge_fault support" (Alex Williamson, 6.12): order>0 falls back unless vmf->address is aligned to the order and the block ends inside the VMA; PMD with CONFIG_ARCH_SUPPORTS_PMD_PFNMAP (x86_64, arm64), PUD with CONFIG_ARCH_SUPPORTS_PUD_PFNMAP (x86_64 only)',
        evidence: 'S',
        note: 'handler as quoted in the bugzilla 219619 thread (linux-pci, Dec 2024); [L] ivshmem-huge on 6.12.117 and 7.2.13, ivshmem-huge-16k on 6.12.117 arm64-16k (ivshmem-plain, 1G BAR2; the handler\'s dynamic-debug line per call compared with the model\'s: PUD at a 1G-aligned VMA, PUD fallback + PMD at a 2M-aligned one, PFN fallback to PTEs, SIGBUS at the first aligned level with memory disabled, the PMD asked twice when a user fault ends in a PTE); the released 6.12 tests (catalog bugs huge-fault-order, huge-fault-unaligned-pfn) stay source-only: Debian 6.12.117 has both fixes',
      },
      faultPopulate: { ref: 'aac6db75a9fc "vfio/pci: Use unmap_mapping_range()" (6.10) + huge_fault (6.12)', evidence: 'M' },
      forkChildPtes: {
        ref: 'aac6db75a9fc "vfio/pci: Use unmap_mapping_range()" (6.10) removed vfio_pci_mmap_open/close: the child keeps the copied PTEs; unmap_mapping_range on the device inode still reaches the child\'s VMA on every zap',
        evidence: 'S',
      },
    },
  },
  {
    id: 'linux-6.19',
    axis: 'release',
    title: 'Linux 6.19 (Feb 2026): DMABUF export of BARs, 8-byte BAR rw',
    from: 'linux-6.12',
    set: { dmabufExport: true, rw8Byte: true, iommufdMapFile: true, iommufdDmabufImport: true, cdevBindVfToken: true },
    sources: {
      cdevBindVfToken: {
        ref: '86624ba3b522 "vfio/pci: Do vf_token checks for VFIO_DEVICE_BIND_IOMMUFD" (Jason Gunthorpe, Fixes: 5fcc26969a16), 6.17 (first modeled release after it: 6.19)',
        evidence: 'P',
        note: 'device_cdev.c vfio_df_check_token after the access_granted test and before iommufd_ctx_from_fd: no flag -> match_token_uuid(NULL), flag -> copy_from_user(token_uuid_ptr) (-EFAULT) then the same check as a GET_DEVICE_FD name with vf_token=. Before it the cdev path checked no token at all ([L] 6.12-iommufd: flags=1 -> -EINVAL). NOT modeled: 6.17..6.18.2 copied only 16 bytes with copy_struct_from_user, so a BIND with a token pointer was -E2BIG until 2f03f21fe751 "vfio: Fix ksize arg while copying user struct in vfio_df_ioctl_bind_iommufd()" (6.19, 6.18.y stable review of 29 Dec 2025 [P]); no modeled release carries it',
      },
      iommufdMapFile: {
        ref: '"iommufd: File mappings for mdev" / IOMMU_IOAS_MAP_FILE (Steve Sistare), 6.13 (first modeled release after it: 6.19)',
        evidence: 'S',
        note: 'ioas.c iommufd_ioas_map_file: same flag checks as IOAS_MAP, bad fd -> EBADF',
      },
      iommufdDmabufImport: {
        ref: '"iommufd: Accept a DMABUF through IOMMU_IOAS_MAP_FILE" + "Add DMABUF to iopt_pages" (Jason Gunthorpe, Nov 2025), 6.19 with vfio-pci dma-buf export',
        evidence: 'P',
        note: 'vfio_pci_dma_buf_iommufd_map: revoked -> ENODEV, nr_ranges != 1 -> EOPNOTSUPP; iopt_revoke_notify unmaps the area from every domain and marks it revoked for good (a later unrevoke is ignored)',
      },
      dmabufExport: {
        ref: '"vfio/pci: Add dma-buf export support for MMIO regions" (Leon Romanovsky), 6.19',
        evidence: 'S',
        note: 'dmabuf.c @06fddc7a; [L] dmabuf: -ENOTTY on 6.1/6.12, errno table as modeled on 7.2',
      },
      rw8Byte: { ref: '"vfio/pci: Support 8-byte PCI loads and stores" (6.13)', evidence: 'P', note: '[L] info-edges #73: 8-byte ioeventfd accepted on 6.12, -EINVAL on 7.2' },
    },
  },
  {
    id: 'linux-7.0',
    axis: 'release',
    title: 'Linux 7.0 (Apr 2026): revocable dma-buf importers only',
    from: 'linux-6.19',
    set: {},
    sources: {},
  },
  {
    id: 'linux-7.0.11',
    axis: 'release',
    title: 'Linux 7.0.11 (stable): DMABUF export checks the BAR resource (CVE-2026-64042 backport)',
    from: 'linux-7.0',
    set: { dmabufChecksBarResource: true },
    sources: {
      dmabufChecksBarResource: { ref: '702809da "vfio/pci: ... check PCI resources claimed" (CVE-2026-64042), 7.0.11-rc1 stable review', evidence: 'P' },
    },
  },
  {
    id: 'linux-7.1',
    axis: 'release',
    title: 'Linux 7.1 (Jun 2026): BARs requested and mapped at enable',
    from: 'linux-7.0.11',
    set: { barmapAt: 'per-bar', dmabufRefusesUnmappable: 'unknown', feature12: 'unknown' },
    sources: {
      feature12: { ref: 'first release with feature id 12 not known (7.2 has it, 7.0 [M] not)', evidence: 'M' },
      barmapAt: { ref: 'barmap-at-enable series as merged for 7.1 (final posted version)', evidence: 'P', note: 'errno of a later access to a failed BAR = the stored error [M]' },
      dmabufRefusesUnmappable: { ref: 'reference open question 2: whether the non_mappable_bars refusal is merged', evidence: 'M' },
    },
  },
  {
    id: 'linux-7.2',
    axis: 'release',
    title: 'Linux 7.2 (Aug 2026): vfio_pci_core_get_iomap(), private flag for PF power state',
    from: 'linux-7.1',
    set: { feature12: true },
    sources: { feature12: { ref: 'lab info-edges #66: VFIO_DEVICE_FEATURE PROBE of id 12 -> -EINVAL (6.1, 6.12: -ENOTTY)', evidence: 'L' } },
  },
  // ---- series: block user access to disabled device MMIO (Alex Williamson, 2020) ----
  {
    id: 'block-disabled-mmio@v1',
    axis: 'block-disabled-mmio',
    base: 'linux-5.7',
    title: 'v1 (Apr 2020): track MSE, zap, SIGBUS/-EIO; fault may SIGBUS on memory_lock contention (catalog)',
    from: 'linux-5.7',
    set: { blockDisabledMmio: true, faultContention: 'wait', faultPopulate: 'whole-vma', forkChildPtes: 'zapped-by-vm-open' },
    sources: {
      forkChildPtes: { ref: 'block-disabled-mmio v1/v2 3/3: vfio_pci_mmap_open zaps on open (review thread with Peter Xu, May 2020)', evidence: 'P' },
      blockDisabledMmio: { ref: 'block-disabled-mmio v1 cover letter (kvm list, Apr 2020)', evidence: 'P' },
      faultContention: { ref: 'block-disabled-mmio v1: the fault handler takes memory_lock (a trylock in v1: catalog bug contended-fault-sigbus)', evidence: 'P' },
      faultPopulate: { ref: 'v1 "add to vma list only on fault"', evidence: 'P' },
    },
  },
  {
    id: 'block-disabled-mmio@v2',
    axis: 'block-disabled-mmio',
    base: 'linux-5.7',
    title: 'v2 (May 2020): fault locking reworked, contended faults wait (catalog)',
    from: 'block-disabled-mmio@v1',
    set: {},
    sources: {},
  },
  {
    id: 'block-disabled-mmio@v3',
    axis: 'block-disabled-mmio',
    base: 'linux-5.7',
    title: 'v3 (May 2020): as merged in 5.8',
    from: 'block-disabled-mmio@v2',
    set: {},
    sources: {},
  },
  // ---- series: don't export DMABUFs for unmappable BARs (Apr 2026) ----
  {
    id: 'dmabuf-unmappable-bars@v1',
    axis: 'dmabuf-unmappable-bars',
    base: 'linux-7.0',
    title: 'v1 (Apr 2026): vfio_pci_core_get_dmabuf_phys checks bar_mmap_supported',
    from: 'linux-7.0',
    set: { dmabufRefusesUnmappable: 'bar-mmap-supported' },
    sources: { dmabufRefusesUnmappable: { ref: '"vfio/pci: Don\'t export DMABUFs for unmappable BARs" v1', evidence: 'P' } },
  },
  {
    id: 'dmabuf-unmappable-bars@v2',
    axis: 'dmabuf-unmappable-bars',
    base: 'linux-7.0',
    title: 'v2: pcim_p2pdma_provider() returns NULL for non_mappable_bars devices',
    from: 'dmabuf-unmappable-bars@v1',
    set: { dmabufRefusesUnmappable: 'p2pdma-provider' },
    sources: { dmabufRefusesUnmappable: { ref: 'v1 review: agreed direction, p2pdma honors non_mappable_bars (v2)', evidence: 'P' } },
  },
  // ---- series: request resources and map BARs at enable time (May 2026) ----
  {
    id: 'barmap-at-enable@v1',
    axis: 'barmap-at-enable',
    base: 'linux-7.0',
    title: 'v1: request+iomap every BAR in enable; any failure fails open',
    from: 'linux-7.0',
    set: { barmapAt: 'fail-open' },
    sources: { barmapAt: { ref: 'barmap-at-enable v1', evidence: 'P' } },
  },
  {
    id: 'barmap-at-enable@v2',
    axis: 'barmap-at-enable',
    base: 'linux-7.0',
    title: 'v2: per-BAR errors kept, open succeeds; DMABUF export checks the resource',
    from: 'barmap-at-enable@v1',
    set: { barmapAt: 'per-bar', dmabufChecksBarResource: true, iomapFailReleasesRegion: false },
    sources: {
      barmapAt: { ref: 'barmap-at-enable v2', evidence: 'P' },
      dmabufChecksBarResource: { ref: 'barmap-at-enable v2 (later CVE-2026-64042)', evidence: 'P' },
      iomapFailReleasesRegion: { ref: 'barmap-at-enable v5 changelog: "release the region when iomap fails" (so v2-v4 kept it)', evidence: 'P' },
    },
  },
  {
    id: 'barmap-at-enable@v3',
    axis: 'barmap-at-enable',
    base: 'linux-7.0',
    title: 'v3: ERR_PTR encoding of per-BAR errors (no user-visible change)',
    from: 'barmap-at-enable@v2',
    set: {},
    sources: {},
  },
  {
    id: 'barmap-at-enable@v4',
    axis: 'barmap-at-enable',
    base: 'linux-7.0',
    title: 'v4: reordered patches (no user-visible change modeled)',
    from: 'barmap-at-enable@v3',
    set: {},
    sources: {},
  },
  {
    id: 'barmap-at-enable@v5',
    axis: 'barmap-at-enable',
    base: 'linux-7.0',
    title: 'v5: releases the region when pci_iomap fails',
    from: 'barmap-at-enable@v4',
    set: { iomapFailReleasesRegion: true },
    sources: { iomapFailReleasesRegion: { ref: 'barmap-at-enable v5', evidence: 'P' } },
  },
  // ---- series: clean up BAR zap and revocation (DMABUF mmap, Matt Evans, 2026) ----
  {
    id: 'bar-zap-cleanup@v2',
    axis: 'bar-zap-cleanup',
    base: 'linux-7.1',
    title: 'v2 (May 2026): unified zap+revoke; reset zaps before the D0 transition',
    from: 'linux-7.1',
    set: {},
    sources: {},
  },
  {
    id: 'bar-zap-cleanup@v3',
    axis: 'bar-zap-cleanup',
    base: 'linux-7.1',
    title: 'v3 (Jun 2026): 6/9 moves the reset zap after the D0 transition',
    from: 'bar-zap-cleanup@v2',
    set: { resetZapAfterD0: true },
    sources: {
      resetZapAfterD0: {
        ref: 'v3 6/9 + review (linaro-mm-sig, 18 Jun 2026): "If it is not in D0 then there is no mappings and zap/revoke is a NOP"',
        evidence: 'P',
        note: 'v2 order (zap before D0) and the series base are [M]',
      },
    },
  },
];

/**
 * Stable point releases where a catalog fix (or the backport of a bug's cause) landed, and the
 * point before each ("last affected"), on branch `linux-X.Y.y` off the modeled release linux-X.Y.
 * Their switches derive from the previous point of the branch (or the base); only the bug switches
 * differ, computed below.
 */
function stableDrafts(mainline: ReadonlySet<string>, existing: ReadonlySet<string>): Draft[] {
  const points = new Map<string, number[]>();
  for (const b of KERNEL_BUGS) {
    for (const p of [...b.introducedIn, ...b.fixedIn]) {
      const n = parseKernelNumber(p.version);
      if (n === undefined || n.length !== 3 || existing.has(p.version)) continue;
      if (!mainline.has(`linux-${n[0]}.${n[1]}`)) throw new Error(`kernel bug catalog: ${b.slug} names ${p.version}, whose base linux-${n[0]}.${n[1]} is not modeled`);
      points.set(p.version, n);
      if (n[2] > 1) points.set(`linux-${n[0]}.${n[1]}.${n[2] - 1}`, [n[0], n[1], n[2] - 1]);
    }
  }
  const sorted = [...points.entries()].sort(([, a], [, b]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const drafts: Draft[] = [];
  let prev: Draft | undefined;
  for (const [id, n] of sorted) {
    const base = `linux-${n[0]}.${n[1]}`;
    const from = prev !== undefined && prev.base === base ? prev.id : base;
    const d: Draft = { id, axis: `${base}.y`, base, title: `Linux ${n.join('.')} (stable)`, from, set: {}, sources: {} };
    drafts.push(d);
    prev = d;
  }
  return drafts;
}

/**
 * Whether version `id` carries the bug: the nearest catalog point in its ancestry (a version's
 * ancestors form a chain, so the nearest is the one every other is an ancestor of) introduces it.
 */
function bugPresent(b: KernelBug, id: string, baseOf: (id: string) => string | undefined): boolean {
  let nearest: { version: string; has: boolean } | undefined;
  for (const [points, has] of [[b.introducedIn, true], [b.fixedIn, false]] as const) {
    for (const p of points) {
      if (!isAncestorOrSelf(p.version, id, baseOf)) continue;
      if (nearest === undefined || isAncestorOrSelf(nearest.version, p.version, baseOf)) nearest = { version: p.version, has };
    }
  }
  return nearest?.has ?? false;
}

/** Sets every version's bug switches from the catalog and sources the ones that change. */
function applyBugs(out: KernelVersion[], byId: ReadonlyMap<string, KernelVersion>): void {
  const baseOf = (id: string): string | undefined => byId.get(id)?.base;
  for (const v of out) {
    for (const b of KERNEL_BUGS) {
      const has = bugPresent(b, v.id, baseOf);
      v.switches[b.switch] = has;
      const parent = v.derivesFrom !== undefined ? byId.get(v.derivesFrom) : undefined;
      if (parent !== undefined && parent.switches[b.switch] === has) continue;
      if (parent === undefined && !has) continue;
      const point = (has ? b.introducedIn : b.fixedIn).find((p) => p.version === v.id);
      const c = point?.commit ?? (has ? b.introducedBy : b.fixedBy);
      v.sources[b.switch] = {
        ref: `${c.commit === '' ? '(commit unknown)' : c.commit} "${c.subject}" (catalog: ${b.slug})`,
        evidence: point?.evidence ?? c.evidence,
        note: [point?.note, c.note].filter((x) => x !== undefined).join('; '),
      };
      if (point === undefined) v.sources[b.switch]!.note = `inherited: not in this version's ancestry before; ${v.sources[b.switch]!.note}`;
    }
  }
  // Titles of the stable points say what they carry.
  for (const v of out) {
    if (v.axis === 'release' || v.base === undefined || !v.axis.endsWith('.y')) continue;
    const parent = v.derivesFrom !== undefined ? byId.get(v.derivesFrom) : undefined;
    const changed = KERNEL_BUGS.filter((b) => parent !== undefined && parent.switches[b.switch] !== v.switches[b.switch]);
    if (changed.length === 0) v.title += ': last point before a catalog backport';
    else
      v.title +=
        ': ' +
        changed
          .map((b) => {
            const has = v.switches[b.switch];
            const point = (has ? b.introducedIn : b.fixedIn).find((p) => p.version === v.id);
            return `${has ? 'gets' : 'fixes'} ${b.slug} (${(point?.commit ?? (has ? b.introducedBy : b.fixedBy)).commit || 'commit unknown'})`;
          })
          .join(', ');
  }
}

function build(): KernelVersion[] {
  const out: KernelVersion[] = [];
  const byId = new Map<string, KernelVersion>();
  const mainline = new Set(DRAFTS.filter((d) => d.axis === 'release').map((d) => d.id));
  const all = [...DRAFTS, ...stableDrafts(mainline, new Set(DRAFTS.map((d) => d.id)))];
  for (const d of all) {
    const parent = d.from !== undefined ? byId.get(d.from) : undefined;
    if (d.from !== undefined && parent === undefined) throw new Error(`kernel version table: ${d.id} derives from unknown ${d.from}`);
    const switches: KernelSwitches = { ...(parent?.switches ?? LINUX_5_7), ...d.set };
    const v: KernelVersion = { id: d.id, axis: d.axis, title: d.title, switches, sources: { ...d.sources } };
    if (d.base !== undefined) v.base = d.base;
    if (d.from !== undefined) v.derivesFrom = d.from;
    out.push(v);
    byId.set(v.id, v);
  }
  applyBugs(out, byId);
  return out;
}

export const KERNEL_VERSIONS: readonly KernelVersion[] = build();

export const KERNEL_RELEASES: readonly string[] = KERNEL_VERSIONS.filter((v) => v.axis === 'release').map((v) => v.id);

/** Each series with its base first, then its versions in order. */
export const KERNEL_SERIES: Readonly<Record<string, readonly string[]>> = (() => {
  const s: Record<string, string[]> = {};
  for (const v of KERNEL_VERSIONS) {
    if (v.axis === 'release' || v.base === undefined) continue;
    (s[v.axis] ??= [v.base]).push(v.id);
  }
  return s;
})();

export function findKernelVersion(id: string): KernelVersion | undefined {
  return KERNEL_VERSIONS.find((v) => v.id === id);
}

/** Where each switch's current value comes from: walks derivesFrom up to the version that set it. */
export function switchSource(id: string, name: SwitchName): { version: string; source?: SwitchSource } {
  let v = findKernelVersion(id);
  while (v !== undefined) {
    const s = v.sources[name];
    if (s !== undefined) return { version: v.id, source: s };
    const parent = v.derivesFrom !== undefined ? findKernelVersion(v.derivesFrom) : undefined;
    if (parent === undefined || parent.switches[name] !== v.switches[name]) return { version: v.id };
    v = parent;
  }
  return { version: id };
}

/** Switches whose value is 'unknown' in this version. */
export function unknownSwitches(v: KernelVersion): SwitchName[] {
  return (Object.keys(v.switches) as SwitchName[]).filter((k) => v.switches[k] === 'unknown');
}

export interface KernelResolution {
  id: string;
  /** Set when the mapping is not exact: says which distribution numbering was read and what is not known. */
  warning?: string;
  /** The numbering the string was read with. */
  distro: Distro;
}

/**
 * Map a `uname -r` (upstream, Debian, Fedora, Ubuntu, RHEL numbering: uname.ts) to the nearest
 * modeled version it descends from: a stable point of its branch when the string names the
 * upstream point, else the newest mainline release not newer than its base. Undefined when the
 * string is no release or older than every modeled release.
 */
export function resolveKernelRelease(uname: string): KernelResolution | undefined {
  const info = parseUname(uname);
  if (info === undefined) return undefined;
  const want = `linux-${info.upstream.join('.')}`;
  const baseOf = (id: string): string | undefined => findKernelVersion(id)?.base;
  let best: { id: string; key: number[] } | undefined;
  for (const v of KERNEL_VERSIONS) {
    if (v.id.includes('@') || !isAncestorOrSelf(v.id, want, baseOf)) continue;
    const n = parseKernelNumber(v.id);
    if (n === undefined) continue;
    const key = [n[0], n[1], n[2] ?? 0];
    if (best === undefined || key[0] - best.key[0] > 0 || (key[0] === best.key[0] && (key[1] - best.key[1] > 0 || (key[1] === best.key[1] && key[2] > best.key[2]))))
      best = { id: v.id, key };
  }
  if (best === undefined) return undefined;
  const bare = uname.trim().replace(/^linux-/, '');
  if (best.id === want && info.distro === 'upstream') return { id: best.id, distro: info.distro };
  const why = info.note !== '' ? `${info.note}; ` : '';
  return {
    id: best.id,
    distro: info.distro,
    warning: `kernel ${bare}: ${why}using ${best.id}, the nearest modeled version it descends from`,
  };
}
