// VMM versions as DATA. Model code asks `v.switches.unmapWhenNotD0`, never compares version ids.
// Each switch names the source it was read from (commit, PR, mailing-list series), so a golden that
// changes between two versions points at the switch (and the source) that differs.
//
// Sources: /work/shared/reference/vmm-and-tracing.md §2 (QEMU), §3 (OpenVMM), §4 (cloud-hypervisor);
// qemu/qemu hw/vfio/pci.c + hw/pci/pci.c; microsoft/openvmm vm/devices/pci/vfio_assigned_device/src/lib.rs.

export type VmmFamily = 'qemu' | 'openvmm' | 'cloud-hypervisor';

/** How the VMM forwards a guest config write that is narrower than a dword. */
export type PartialConfigWrite =
  /** Forward exactly the bytes the guest wrote (QEMU's vfio_pci_write_config, cloud-hypervisor). */
  | 'as-written'
  /**
   * The VMM's device sees whole dwords: the bus reads the dword through the device's own read path,
   * merges the guest's bytes and writes the whole dword (OpenVMM before #3751, `pci_cfg_write(offset, u32)`).
   */
  | 'dword-rmw'
  /** Byte-enabled dword writes: only the enabled bytes are forwarded (OpenVMM #3751/#3856). */
  | 'byte-enables';

/** Where the VMM does its own bookkeeping for PMCSR (the guest's D-state). */
export type PmcsrHandling =
  /** Forwarded, not tracked: the VMM keeps BARs mapped whatever the D-state (QEMU < 10.0, CH, OpenVMM < #3609). */
  | 'forward-only'
  /**
   * QEMU >= 10.0: forwarded first (vfio_pci_write_config always pwrites first), then pci_pm_update()
   * validates the transition in the emulated PMCSR and pci_update_mappings() unmaps BARs when not D0.
   */
  | 'qemu-pm-emulation'
  /**
   * OpenVMM >= #3609: intercepted. Leaving D0: unmap BARs, then forward. Entering D0: forward first,
   * remap only if the write succeeded. D1/D2 also unmap (stricter than vfio-pci).
   */
  | 'openvmm-intercept';

export interface VmmSwitches {
  /** BAR MMIO is mapped into the guest (KVM memslot over the vfio mmap); false = every access trapped (pread/pwrite). */
  directMapBars: boolean;
  /** The guest BAR placement is only live while COMMAND.MEM is set (false: mapped once placed, never unmapped). */
  unmapOnMseClear: boolean;
  /** BARs are removed from the guest while the VMM's D-state is not D0. */
  unmapWhenNotD0: boolean;
  pmcsr: PmcsrHandling;
  /** Invalid D-state transitions are rejected in the VMM's view (QEMU pci_pm_update). */
  rejectBadPmTransitions: boolean;
  /** Before a device reset the VMM writes PMCSR back to D0 (QEMU vfio_pci_pre_reset, 10.0). */
  forceD0BeforeReset: boolean;
  partialConfigWrite: PartialConfigWrite;
  /** A PMCSR write whose byte enables miss PowerState (bits 1:0) is silently dropped (OpenVMM HEAD after #3751). */
  dropPmcsrWithoutStateBits: boolean;
  /** BAR register writes are also forwarded to the kernel (QEMU forwards every config write). */
  forwardBarWrites: boolean;
  /** The MSI-X capability's control word is emulated and never forwarded (OpenVMM). */
  msixControlNotForwarded: boolean;
  /** A BAR mmap failure at start-up is fatal (OpenVMM from_device bails) instead of falling back to trapping. */
  barMmapFailureFatal: boolean;
  /** What a guest read of an address no BAR claims returns: 'zero' (QEMU unassigned_mem_read) or 'ones'. */
  unassignedRead: 'zero' | 'ones';
  /**
   * A direct-mapped BAR placed in the guest is also mapped for peer-to-peer DMA through the type1
   * container (VFIO_IOMMU_MAP_DMA of the BAR mmap at the guest address), and unmapped with it;
   * failures are reported and ignored (QEMU's VFIO memory listener).
   */
  p2pDmaMapBars: boolean;
  /**
   * Where the VMM's BAR mmaps land (what decides huge faults, kernel/huge-fault.ts): 'kernel' =
   * mmap(NULL): the kernel's choice, modeled 2M- but not 1G-aligned; 'size-pow2-1g' = aligned to the
   * largest power of two dividing the mapped size, at most 1G (QEMU 9.2+ vfio_region_mmap).
   */
  barMmapAlign: 'kernel' | 'size-pow2-1g';
  /** A failed KVM_SET_USER_MEMORY_REGION: 'abort' (QEMU kvm_set_phys_mem: "error registering slot", abort()) or 'unknown'. */
  memslotFailure: 'abort' | 'unknown';
  /**
   * A BAR smaller than the host page: 'expand-when-aligned' = QEMU's vfio_sub_page_bar_update_mapping
   * grows the mmapped region to a page when the guest places the BAR host-page aligned (a memslot),
   * otherwise no memslot can hold it and QEMU loads/stores through its own mmap; 'as-other-bars'.
   */
  subPageBar: 'expand-when-aligned' | 'as-other-bars';
}

export interface VmmVersion {
  id: string;
  family: VmmFamily;
  title: string;
  /** Where the behavior of this version was read. */
  source: string;
  switches: VmmSwitches;
  /** Per switch: why it has this value in this version (commit, PR, file). */
  notes: Partial<Record<keyof VmmSwitches, string>>;
}

const QEMU_BASE: VmmSwitches = {
  directMapBars: true,
  unmapOnMseClear: true,
  unmapWhenNotD0: false,
  pmcsr: 'forward-only',
  rejectBadPmTransitions: false,
  forceD0BeforeReset: false,
  partialConfigWrite: 'as-written',
  dropPmcsrWithoutStateBits: false,
  forwardBarWrites: true,
  msixControlNotForwarded: false,
  barMmapFailureFatal: false,
  unassignedRead: 'zero',
  p2pDmaMapBars: true,
  barMmapAlign: 'kernel',
  memslotFailure: 'abort',
  subPageBar: 'expand-when-aligned',
};

const OPENVMM_BASE: VmmSwitches = {
  directMapBars: false,
  unmapOnMseClear: true,
  unmapWhenNotD0: false,
  pmcsr: 'forward-only',
  rejectBadPmTransitions: false,
  forceD0BeforeReset: false,
  partialConfigWrite: 'dword-rmw',
  dropPmcsrWithoutStateBits: false,
  forwardBarWrites: false,
  msixControlNotForwarded: true,
  barMmapFailureFatal: false,
  unassignedRead: 'ones',
  p2pDmaMapBars: false,
  barMmapAlign: 'kernel',
  memslotFailure: 'unknown',
  subPageBar: 'as-other-bars',
};

export const VMM_VERSIONS: readonly VmmVersion[] = [
  {
    id: 'qemu-7.2',
    family: 'qemu',
    title: 'QEMU before 10.0 (no PCI PM emulation)',
    source: 'qemu/qemu v7.2 hw/vfio/pci.c, hw/pci/pci.c',
    switches: { ...QEMU_BASE },
    notes: {
      memslotFailure: 'accel/kvm/kvm-all.c kvm_set_phys_mem: "%s: error registering slot: %s" then abort() [src]',
      subPageBar:
        'hw/vfio/pci.c vfio_sub_page_bar_update_mapping (in v7.2 and current source): a BAR smaller than qemu_real_host_page_size whose guest ' +
        'address is host-page aligned is expanded to a page; otherwise the RAM-device region is not a KVM memslot (kvm_align_section) [src]',
      unmapOnMseClear: 'pci_update_mappings(): pci_bar_address() is PCI_BAR_UNMAPPED without COMMAND.MEM (always)',
      pmcsr: 'PowerState not writable in the emulated config: BARs stay KVM memslots in D3hot (reference §2.3; lab/vmm/FINDINGS.md d3hot-read: killed by SIGBUS, exit 135 under TCG)',
      p2pDmaMapBars:
        'vfio listener region_add of the BAR RAM-device sections: VFIO_IOMMU_MAP_DMA; lab/vmm/FINDINGS.md ' +
        'd3hot-mem-on-read: MEM on in D3hot maps BAR0/1/3 (BAR3 without its MSI-X table page), MAP_DMA -EFAULT, ignored',
      unassignedRead:
        'system/memory.c unassigned_mem_read() returns 0 and kvm_cpu_exec copies it into the MMIO exit [src]; ' +
        'measured on qemu-system-x86_64 7.2.22 TCG, -machine pc and q35: an e1000e BAR0 read after MEM=0 and ' +
        'a read of unclaimed 0xfd000000 both return 0x00000000 (lab/vmm/inner guest, `mem 0; rd 0 0x8; ra 0xfd000000`)',
    },
  },
  {
    id: 'qemu-10.0',
    family: 'qemu',
    title: 'QEMU 10.0 (PCI power management series, Williamson 2025-02)',
    source: 'qemu-devel "PCI power management" v2 2025-02-25, pulled 2025-03-06 (QEMU 10.0)',
    switches: {
      ...QEMU_BASE,
      unmapWhenNotD0: true,
      pmcsr: 'qemu-pm-emulation',
      rejectBadPmTransitions: true,
      forceD0BeforeReset: true,
      barMmapAlign: 'size-pow2-1g',
    },
    notes: {
      barMmapAlign:
        'hw/vfio/region.c vfio_region_mmap: align = MIN(1 << ctz64(mmap size), 1 GiB), a PROT_NONE anonymous reservation ' +
        'trimmed to the alignment, then MAP_FIXED; since QEMU 9.2 (A. Williamson, bugzilla 219619 thread: "QEMU 9.2 provides ' +
        'us with proper 1GB alignment"; "We\'re getting 2MB alignment on the mmap by default")',
      unmapWhenNotD0: 'hw/pci: pci_update_mappings() treats BARs as unmapped if pci_pm_state(d) != D0',
      rejectBadPmTransitions: 'pci_pm_update(): D1/D2 need PMC support; from non-D0 only deeper or D0',
      forceD0BeforeReset: 'vfio/pci: Re-order pre-reset: vfio_pci_pre_reset() writes PMCSR D0 first',
    },
  },
  {
    id: 'openvmm-3248',
    family: 'openvmm',
    title: 'OpenVMM #3248 (initial VFIO assignment: all BAR MMIO trapped)',
    source: 'microsoft/openvmm PR #3248 (2026-04-16)',
    switches: { ...OPENVMM_BASE },
    notes: {
      directMapBars: 'every BAR access is an MMIO intercept proxied with pread/pwrite; failure fills !0',
      unassignedRead: 'vmotherboard io_ranges: no claimant -> MissingDev::mmio_read fills !0 [src]',
    },
  },
  {
    id: 'openvmm-3336',
    family: 'openvmm',
    title: 'OpenVMM #3336 (direct-mapped BARs; PMCSR not tracked: the #3609 bug)',
    source: 'microsoft/openvmm PR #3336 (2026-04-21)',
    switches: { ...OPENVMM_BASE, directMapBars: true, barMmapFailureFatal: true },
    notes: {
      directMapBars: 'mmappable BAR areas map_to_guest() when MMIO is enabled; MSI-X table/PBA pages stay trapped',
      unmapWhenNotD0: 'only COMMAND.MEM clear unmaps: a guest D3hot leaves stale memslots over zapped vfio mmaps',
    },
  },
  {
    id: 'openvmm-3609',
    family: 'openvmm',
    title: 'OpenVMM #3609 (unmap BARs on PM transitions)',
    source: 'microsoft/openvmm PR #3609 (eac22966a, 2026-06-03)',
    switches: {
      ...OPENVMM_BASE,
      directMapBars: true,
      barMmapFailureFatal: true,
      unmapWhenNotD0: true,
      pmcsr: 'openvmm-intercept',
    },
    notes: {
      pmcsr: 'pci_cfg_write at pm_csr_offset: leaving D0 unmap then forward; entering D0 forward then remap',
    },
  },
  {
    id: 'openvmm-3751',
    family: 'openvmm',
    title: 'OpenVMM #3751 (partial-DWORD config accesses)',
    source: 'microsoft/openvmm PR #3751 (2026-06-23) / #3856',
    switches: {
      ...OPENVMM_BASE,
      directMapBars: true,
      barMmapFailureFatal: true,
      unmapWhenNotD0: true,
      pmcsr: 'openvmm-intercept',
      partialConfigWrite: 'byte-enables',
      dropPmcsrWithoutStateBits: true,
    },
    notes: {
      partialConfigWrite: 'pci_cfg_write(offset, ByteEnabledDwordWrite): only enabled bytes reach the device',
      dropPmcsrWithoutStateBits: 'PMCSR branch: `if valid_mask & 0x3 != 0 {..}` then `return Ok` unconditionally',
    },
  },
  {
    id: 'cloud-hypervisor',
    family: 'cloud-hypervisor',
    title: 'cloud-hypervisor (forwards COMMAND and PMCSR, never unmaps)',
    source: 'cloud-hypervisor pci/src/vfio.rs VfioCommon::write_config_register',
    switches: {
      ...QEMU_BASE,
      unmapOnMseClear: false,
      forwardBarWrites: false,
      barMmapFailureFatal: true,
      p2pDmaMapBars: false,
    },
    notes: {
      unmapOnMseClear: 'BAR mmaps are KVM memslots from map_mmio_regions() on; only move_bar() moves them',
      barMmapFailureFatal: 'map_mmio_regions(): a failed sparse-area mmap returns VfioPciError::MmapArea',
      unassignedRead: '[inf] an MMIO exit nobody claims leaves the exit buffer as is; modeled as 0',
    },
  },
];

/** Ordered lists for `bisect`: oldest first. */
export const VMM_ORDER: Readonly<Record<'qemu' | 'openvmm', readonly string[]>> = {
  qemu: ['qemu-7.2', 'qemu-10.0'],
  openvmm: ['openvmm-3248', 'openvmm-3336', 'openvmm-3609', 'openvmm-3751'],
};

export function vmmVersionIds(): string[] {
  return VMM_VERSIONS.map((v) => v.id);
}

export function findVmmVersion(id: string): VmmVersion | undefined {
  return VMM_VERSIONS.find((v) => v.id === id);
}
