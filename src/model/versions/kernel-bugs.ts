// The kernel-bug catalog as DATA: vfio-pci / vfio type1 bugs with a user-visible effect, each a
// behavior switch (`bug<Name>`, true while the bug is in the kernel) like any other switch of
// kernel.ts. A version has the bug when one of the versions that introduced it is its ancestor (or
// itself) and none of the versions that fixed it is: mainline releases are ordered, a stable point
// release `linux-X.Y.Z` descends from `linux-X.Y` and the earlier points of its branch, a series
// version from its base and the earlier versions of its series.
//
// Evidence tags as in kernel.ts: S = read in kernel source, P = read in a patch / mail / stable log,
// M = inferred, not confirmed. Where a commit id or a point release could not be confirmed the
// entry says so in its evidence and note; no id here is made up.

import type { Evidence } from './kernel.js';

export const BUG_SWITCHES = [
  'bugConcurrentVmaFault',
  'bugRecursiveMemoryLock',
  'bugIoeventfdSleepInAtomic',
  'bugVfMmioBlocking',
  'bugContendedFaultSigbus',
  'bugNoCommandMemoryIgnored',
  'bugForkUntrackedPtes',
  'bugIntxMaskUnlocked',
  'bugFirstEcapPermsOob',
  'bugHugeFaultUnalignedPfn',
  'bugHugeFaultAddressOrder',
  'bugType1PfnmapIgnoresProt',
  'bugIntxNullTrigger',
  'bugSmeEncryptedBarPte',
  'bugMmapRegionIndexUnchecked',
  'bugIntxAutoEnable',
] as const;

export type BugSwitch = (typeof BUG_SWITCHES)[number];

export type BugSwitches = Record<BugSwitch, boolean>;

export interface BugCommit {
  /** Short commit id as the Fixes: tags write it; '' when not known. */
  commit: string;
  subject: string;
  evidence: Evidence;
  note?: string;
}

/** A version where the bug comes or goes: a release, a stable point or a series version. */
export interface BugPoint {
  version: string;
  evidence: Evidence;
  note?: string;
  /**
   * The commit that does it here when it is not the entry's introducedBy/fixedBy: a stable
   * backport of the cause under its own id, or the revert of a backported cause.
   */
  commit?: BugCommit;
}

export interface KernelBug {
  switch: BugSwitch;
  /** Short name, used in trace folders (`traces/bugs/<fix commit>-<slug>/`). */
  slug: string;
  title: string;
  introducedBy: BugCommit;
  fixedBy: BugCommit;
  /**
   * Versions that first carry the bug: a mainline release and/or stable points (a backport of the
   * cause). A version has the bug when the nearest of these and `fixedIn` in its ancestry is one
   * of these: so a branch can take a cause, revert it, and take it again.
   */
  introducedIn: BugPoint[];
  /** Versions that first carry the fix (or a revert of the cause): the mainline release, then the stable points. */
  fixedIn: BugPoint[];
  /** The event pattern that makes it fire. */
  trigger: string;
  /** What the user sees. */
  outcome: string;
  /** The report (mail, bugzilla) the entry comes from. */
  report: string;
}

export const KERNEL_BUGS: readonly KernelBug[] = [
  {
    switch: 'bugConcurrentVmaFault',
    slug: 'concurrent-vma-fault',
    title: 'concurrent first faults on one BAR VMA both remap it: BUG in remap_pfn_range',
    introducedBy: { commit: '11c4cd07ba11', subject: 'vfio-pci: Fault mmaps to enable vma tracking', evidence: 'P', note: 'Fixes: tag of the fix' },
    fixedBy: {
      commit: '6a45ece4c9af',
      subject: 'vfio/pci: Handle concurrent vma faults',
      evidence: 'P',
      note: 'v3 on kvm@ 29 Jun 2021 (Fixes: 11c4cd07ba11, Reported-by Zeng Tao); linux-next "Merging vfio/next (6a45ece4c9af ...)"',
    },
    introducedIn: [
      { version: 'linux-5.8', evidence: 'S' },
      { version: 'block-disabled-mmio@v1', evidence: 'P', note: 'the fault-time whole-VMA remap is patch 2 of the series (v1 "add to vma list only on fault")' },
    ],
    fixedIn: [
      { version: 'linux-5.14', evidence: 'M', note: 'queued in vfio/next after v3 (Jun 2021); first release inferred' },
      { version: 'linux-5.10.50', evidence: 'M', note: 'the 5.10.y stable-rc push of 11 Jul 2021 carries the backport [P]; that it is 5.10.50 is inferred' },
    ],
    trigger: 'two threads fault the same not-yet-populated BAR VMA at once (race=N on both accesses); the second io_remap_pfn_range finds the PTEs the first installed',
    outcome: 'kernel BUG at remap_pfn_range (mm/memory.c BUG_ON, "Internal error: Oops - BUG"): the faulting thread is killed',
    report: 'Zeng Tao, kvm@ Mar 2021 (arm64 trace "kernel BUG at mm/memory.c:2177", remap_pfn_range+0x214 <- vfio_pci_mmap_fault)',
  },
  {
    switch: 'bugRecursiveMemoryLock',
    slug: 'recursive-memory-lock',
    title: 'pread/pwrite of a BAR with the user buffer in a BAR mapping takes memory_lock recursively',
    introducedBy: {
      commit: 'abafbc551fdd',
      subject: 'vfio-pci: Invalidate mmaps and block MMIO access on disabled memory',
      evidence: 'P',
      note: 'Fixes: tag of the fix; CVE-2020-12888',
    },
    fixedBy: {
      commit: 'bc93b9ae0151',
      subject: 'vfio-pci: Avoid recursive read-lock usage',
      evidence: 'P',
      note: 'vfio-v5.9-rc2 pull ("Fix lockdep issue reported for recursive read-lock"); Reported-by Zhiyi Guo. Also makes ioeventfd writes test memory enable (dropped while disabled)',
    },
    introducedIn: [
      { version: 'linux-5.8', evidence: 'S' },
      { version: 'block-disabled-mmio@v1', evidence: 'P', note: 'memory_lock held across the user copy in every posted version of the series' },
    ],
    fixedIn: [
      { version: 'linux-5.9', evidence: 'P', note: 'pulled for v5.9-rc2' },
      {
        version: 'linux-5.8.3',
        evidence: 'M',
        note: '5.8.y backport c49fa6397b6d [P: quoted in kernel bugzilla 209253 comment 5]; the point release is inferred from the Aug 2020 stable cycle',
      },
    ],
    trigger: 'a BAR pread/pwrite whose user buffer (buf=) lies in a not-yet-faulted BAR mapping: copy_to/from_user faults into vfio_pci_mmap_fault with memory_lock already read-held; a memory_lock writer racing it (race=N) queues between the two read acquisitions',
    outcome: 'lockdep: possible recursive locking (memory_lock), the call completes; with a writer queued in between the reader waits behind it for ever: deadlock, the VMM hangs',
    report: 'Zhiyi Guo (Red Hat), fix posted 5 Aug 2020 on kvm@',
  },
  {
    switch: 'bugIoeventfdSleepInAtomic',
    slug: 'ioeventfd-sleep-in-atomic',
    title: 'ioeventfd handler takes memory_lock (a sleeping lock) with interrupts off',
    introducedBy: { commit: 'bc93b9ae0151', subject: 'vfio-pci: Avoid recursive read-lock usage', evidence: 'P', note: 'Fixes: tag of the fix; bisected to its 5.8.y backport c49fa6397b6d in bugzilla 209253' },
    fixedBy: {
      commit: '38565c93c8a1',
      subject: 'vfio/pci: Implement ioeventfd thread handler for contended memory lock',
      evidence: 'P',
      note: 'upstream 38565c93c8a1306dc5f245572a545fbea908ac41 in the Nov 2020 stable review; Link bugzilla 209253, Reported-by Ian Pilcher. The subject line is [M] (the mails read show the body only)',
    },
    introducedIn: [
      { version: 'linux-5.9', evidence: 'P' },
      { version: 'linux-5.8.3', evidence: 'M', note: 'with the backport of bc93b9ae0151 (see recursive-memory-lock)' },
    ],
    fixedIn: [
      { version: 'linux-5.10', evidence: 'M', note: 'posted 30 Oct 2020 as a 5.10-rc fix' },
      { version: 'linux-5.9.9', evidence: 'M', note: 'stable review of 17 Nov 2020 carries it [P]; the point release is inferred' },
    ],
    trigger: 'a registered ioeventfd fires (eventfd-signal) while a memory_lock writer holds the lock (race=N): the handler runs under the eventfd wait-queue spinlock with interrupts disabled',
    outcome: 'WARN "BUG: sleeping function called from invalid context" from down_read in vfio_pci_ioeventfd_handler; the write still happens',
    report: 'kernel bugzilla 209253 (Ian Pilcher, Justin Gatzen)',
  },
  {
    switch: 'bugVfMmioBlocking',
    slug: 'vf-mmio-blocking',
    title: 'SR-IOV VFs faulted/-EIO on BAR access: the VF COMMAND.MEM reads 0',
    introducedBy: {
      commit: 'abafbc551fdd',
      subject: 'vfio-pci: Invalidate mmaps and block MMIO access on disabled memory',
      evidence: 'P',
      note: 'Fixes: tag of the fix; the block-disabled-mmio series v1-v3 as posted lack the VF handling',
    },
    fixedBy: {
      commit: 'ebfa440ce38b',
      subject: 'vfio/pci: Fix SR-IOV VF handling with MMIO blocking',
      evidence: 'P',
      note: 'commit text: a VF "memory enable bit is not set in config space after pci_enable_device() ... no need however to ever fault a user on a VF"; named as "bugfix ebfa440ce38b" by M. Rosato',
    },
    introducedIn: [{ version: 'block-disabled-mmio@v1', evidence: 'P' }],
    fixedIn: [{ version: 'linux-5.8', evidence: 'M', note: 'both the cause and the fix are in the 5.8 cycle; stable backport points not confirmed' }],
    trigger: 'a VF (quirks is_virtfn) is opened and its BAR accessed before the user sets COMMAND.MEM (which a VF does not implement)',
    outcome: 'SIGBUS on the mapping, -EIO on pread/pwrite, where the PF gives ok',
    report: 'commit ebfa440ce38b (Alex Williamson, Jun 2020)',
  },
  {
    switch: 'bugContendedFaultSigbus',
    slug: 'contended-fault-sigbus',
    title: 'a BAR fault racing a zap (a memory_lock writer) gets SIGBUS instead of waiting',
    introducedBy: {
      commit: '',
      subject: 'vfio-pci: Invalidate mmaps and block MMIO access on disabled memory (v1)',
      evidence: 'P',
      note: 'v1 of the block-disabled-mmio series (kvm@ Apr 2020): the fault handler only trylocks memory_lock; a posted version, never merged, so no commit id',
    },
    fixedBy: {
      commit: 'abafbc551fdd',
      subject: 'vfio-pci: Invalidate mmaps and block MMIO access on disabled memory',
      evidence: 'P',
      note: 'fixed from v2 on (cover letter kvm/msg215016: "a caller who does not allow retry will no longer receive a SIGBUS on contention"); abafbc551fdd is the version merged for 5.8',
    },
    introducedIn: [{ version: 'block-disabled-mmio@v1', evidence: 'P' }],
    fixedIn: [{ version: 'block-disabled-mmio@v2', evidence: 'P', note: 'v2 cover letter: the locking in 3/ substantially changed to avoid the retry scenario' }],
    trigger: 'a BAR access that faults (first touch or after a zap) while another thread writes COMMAND (zap + memory_lock write) or resets the device (race=N on both)',
    outcome: 'SIGBUS BUS_ADRERR on the access (a MAP_DMA fixup of the mapping: -EFAULT) in the interleavings where the writer holds memory_lock; ok where the fault runs first',
    report: 'v2 cover letter of the series (Alex Williamson, kvm@ May 2020)',
  },
  {
    switch: 'bugNoCommandMemoryIgnored',
    slug: 'no-command-memory',
    title: 'functions whose COMMAND.MEM is hard-wired 0 without is_virtfn (s390 VFs) are blocked as if memory were disabled',
    introducedBy: { commit: 'abafbc551fdd', subject: 'vfio-pci: Invalidate mmaps and block MMIO access on disabled memory', evidence: 'P', note: 'Fixes: tag of the fix' },
    fixedBy: {
      commit: '515ecd5368f1',
      subject: 'vfio/pci: Decouple PCI_COMMAND_MEMORY bit checks from is_virtfn',
      evidence: 'P',
      note: 'v5 3/3 of "PCI/IOV: Mark VFs as not implementing PCI_COMMAND_MEMORY" (M. Rosato, Sep 2020; needs 12856e7acde4 for pdev->no_command_memory): "some bare-metal hypervisors lack Memory Space Enable bit emulation for devices not setting is_virtfn (s390)"',
    },
    introducedIn: [
      { version: 'linux-5.8', evidence: 'S' },
      { version: 'block-disabled-mmio@v1', evidence: 'P' },
    ],
    fixedIn: [
      { version: 'linux-5.10', evidence: 'P', note: 'in the vfio pull for v5.10 (shortlog: Matthew Rosato, 9 commits)' },
      {
        version: 'linux-5.8.17',
        evidence: 'M',
        note: 'the 5.8 stable review of 27 Oct 2020 carries it ("[PATCH 5.8 438/633]", upstream 515ecd5368f1) [P]; that it is 5.8.17 is inferred from the review date; 5.4.y review 266/408 the same day',
      },
    ],
    trigger: 'a function with quirk no-command-memory that is not is_virtfn (an s390 zPCI VF) is opened and its BAR accessed before (or without) a COMMAND.MEM the hardware cannot hold',
    outcome: 'SIGBUS BUS_ADRERR on the mapping, -EIO on pread/pwrite, COMMAND reads MEM=0; fixed versions emulate MEM (set at open) and allow the access',
    report: 'M. Rosato, "s390 pass-through VFs becoming suddenly unusable by vfio" (cover letter v5, linux-pci@/kvm@ Sep 2020)',
  },
  {
    switch: 'bugForkUntrackedPtes',
    slug: 'fork-untracked-ptes',
    title: 'fork copies BAR PTEs after vm_ops->open: the child keeps mappings no zap reaches',
    introducedBy: {
      commit: '35e351780fa9',
      subject: 'fork: defer linking file vma until vma is fully initialized',
      evidence: 'P',
      note: 'A. Rasmussen, stable@ 17 Jul 2024: "switched the ordering of vm_ops->open() and copy_page_range() on fork. This is a bug for VFIO ... open() is trying to guarantee that the entire range is zapped ... this guarantee is violated"',
    },
    fixedBy: {
      commit: 'aac6db75a9fc',
      subject: 'vfio/pci: Use unmap_mapping_range()',
      evidence: 'P',
      note: 'with b7c5e64fecfa "vfio: Create vfio_fs_type with inode per device" and d71a989cf5d9 "vfio/pci: Insert full vma on mmap\'d MMIO fault" (6.10); the zap covers every VMA of the device inode, forked or not',
    },
    introducedIn: [
      { version: 'linux-6.9', evidence: 'P', note: 'mainline (not modeled); 6.8.y got it in the review of 23 Apr 2024 ("[PATCH 6.8 152/158]")' },
      {
        version: 'linux-6.6.30',
        evidence: 'M',
        note: 'the 6.6 stable review of 30 Apr 2024 carries it ("[PATCH 6.6 110/186]") [P]; the point is inferred from the review date. T. Kukul (stable@ 2 Apr 2026): the 6.6 backport cec11fa2eb51 "only moved hugetlb_dup_vma_private() and vm_ops->open()" [P], i.e. exactly the ->open-before-copy_page_range order this bug is about',
      },
      {
        version: 'linux-6.1.91',
        evidence: 'P',
        note: 'queued on top of "Linux 6.1.90" (linux-stable-rc queue/6.1 pushes of 29 Apr and 3 May 2024); L. Rumancik, stable@ 3 Jun 2024: "The original backport didn\'t move the code to link the vma into the MT" (Fixes: 0c42f7e039ab), so ->open moved before copy_page_range as in 6.6',
        commit: { commit: '0c42f7e039ab', subject: 'fork: defer linking file vma until vma is fully initialized (6.1.y backport)', evidence: 'P' },
      },
      {
        version: 'linux-6.1.192',
        evidence: 'L',
        note: 'lab fork-userbuf#7 and fork-untouched#11/#16 on Debian 6.1.0-57 (6.1.192): a child forked after the parent touched its mapping keeps the copied PTEs through every zap, while a child forked before (which faults its own PTEs in, onto vma_list) SIGBUSes after the parent\'s zap like the parent. So the ordering is back, not a different zap path (6.1\'s vma_list zap reaches every mm). When 6.1.y (or Debian) took the ordering again after the 6.1.95 revert is not established [M]',
        commit: { commit: '', subject: 'fork: ->open before copy_page_range again (6.1.y or Debian; not identified)', evidence: 'L' },
      },
    ],
    fixedIn: [
      { version: 'linux-6.10', evidence: 'P', note: 'mainline (not modeled; first modeled release after it: 6.12)' },
      {
        version: 'linux-6.1.95',
        evidence: 'P',
        note: '6.1.95-rc1 review shortlog (19 Jun 2024): Sam James, Revert "fork: defer linking file vma until vma is fully initialized": the cause goes, the vfio fix never came to 6.1.y',
        commit: { commit: '', subject: 'Revert "fork: defer linking file vma until vma is fully initialized" (6.1.y)', evidence: 'P', note: 'the 6.1.y revert\'s id was not read' },
      },
      {
        version: 'linux-6.6.35',
        evidence: 'M',
        note: 'T. Kukul (stable@ 2 Apr 2026): dd782da47076 "Sam James reverted the incomplete backport" on 6.6.y [P]; "6.6 stable has remained unfixed since July 2024" (the fork fix, so the vfio-visible order, stayed out until 6.6.134). The point is inferred from the 6.1.95 review of the same day',
        commit: { commit: 'dd782da47076', subject: 'Revert "fork: defer linking file vma until vma is fully initialized" (6.6.y)', evidence: 'P' },
      },
      {
        version: 'linux-6.6.134',
        evidence: 'P',
        note: 'OSV CVE-2024-27022 lists 6.6.y affected below 6.6.134, the point that took "[PATCH 6.6.y 1-4/4]" (T. Kukul, 2 Apr 2026: vfio_fs_type, aac6db75a9fc, d71a989cf5d9, then the fork change): the order returns with the vfio fix, so 6.6.134 stays bug-free',
      },
    ],
    trigger: 'a process with a populated BAR mapping forks (fork child=N); the parent then clears COMMAND.MEM, resets or enters low power (a zap); the child accesses its copy (pid=N)',
    outcome: 'the child\'s access reaches the device through the surviving PTE while memory decode is off (the hazard CVE-2020-12888 is about: an unsupported request, on some platforms a host fault); the parent SIGBUSes as designed',
    report: 'A. Rasmussen, "[PATCH 6.6] fork: defer linking file vma until vma is fully initialized" thread, stable@ Jul 2024; T. Kukul, "[PATCH 6.6.y 0/4] Fix CVE-2024-27022: fork/hugetlb race with vfio prerequisites", stable@ Apr 2026; lab fork-userbuf and fork-untouched on 6.1.192',
  },
  {
    switch: 'bugIntxMaskUnlocked',
    slug: 'intx-mask-race',
    title: 'DisINTx written in config space races SET_IRQS tearing INTx down: the mask path uses a freed context',
    introducedBy: {
      commit: '89e1f7d4c66d',
      subject: 'vfio: Add PCI device driver',
      evidence: 'M',
      note: 'the driver as added in 3.6 (OSV CVE-2024-26810: affected >=3.6); the subject as the Fixes: tag of fe9a7082684e, same series, writes it [P]',
    },
    fixedBy: {
      commit: '810cd4bb5345',
      subject: 'vfio/pci: Lock external INTx masking ops',
      evidence: 'P',
      note: 'CVE-2024-26810: "irq_type is updated holding igate, therefore testing is_intx() requires holding igate. For example clearing DisINTx from config space can otherwise race changes of the interrupt configuration"',
    },
    introducedIn: [{ version: 'linux-5.7', evidence: 'M', note: 'the cause (3.6) predates every modeled version' }],
    fixedIn: [
      { version: 'linux-6.9', evidence: 'P', note: 'mainline (vfio pull for 6.9, Mar 2024; not modeled, first modeled release after it: 6.12)' },
      { version: 'linux-5.10.215', evidence: 'P', note: 'OSV CVE-2024-26810 (<5.10.215) and the 5.10.215 announcement shortlog (Alex Williamson, 7 commits)' },
      { version: 'linux-5.15.154', evidence: 'P', note: 'OSV CVE-2024-26810 (<5.15.154)' },
      { version: 'linux-6.1.84', evidence: 'P', note: 'OSV CVE-2024-26810 (<6.1.84)' },
      { version: 'linux-6.6.24', evidence: 'P', note: 'OSV CVE-2024-26810 (<6.6.24)' },
    ],
    trigger: 'INTx enabled (SET_IRQS INTx trigger eventfd); one thread writes COMMAND flipping DisINTx (cfg-write 0x04/0x05) while another disables INTx (SET_IRQS INTx count=0), race=N on both',
    outcome: 'in the interleaving where the disable runs between the write\'s is_intx() test and its mask/unmask, the mask path dereferences the freed INTx context: kernel BUG (NULL pointer dereference / use-after-free) in the INTx mask/unmask, the writing thread killed; other interleavings ok',
    report: 'CVE-2024-26810 (kernel CNA, Apr 2024); the 2024 vfio INTx/eventfd series (A. Williamson, 7 commits)',
  },
  {
    switch: 'bugFirstEcapPermsOob',
    slug: 'hidden-first-ecap',
    title: 'reading a hidden first extended capability with an unknown ID indexes ecap_perms out of bounds',
    introducedBy: {
      commit: '89e1f7d4c66d',
      subject: 'vfio: Add PCI device driver',
      evidence: 'M',
      note: 'OSV CVE-2024-53214: affected >= 3.6; the subject as the Fixes: tag of fe9a7082684e writes it [P]',
    },
    fixedBy: {
      commit: 'fe4bf8d0b671',
      subject: 'vfio/pci: Properly hide first-in-list PCIe extended capability',
      evidence: 'P',
      note: 'CVE-2024-53214 (Avihai Horon): "pci_config_map is set to the capability ID during initialization but the capability ID is not properly checked later when used in vfio_config_do_rw(). This leads to the following warning and to an out-of-bounds access to ecap_perms array"',
    },
    introducedIn: [{ version: 'linux-5.7', evidence: 'M', note: 'the cause (3.6) predates every modeled version' }],
    fixedIn: [
      { version: 'linux-6.13', evidence: 'P', note: 'mainline (merged for 6.13-rc1; not modeled, first modeled release after it: 6.19)' },
      { version: 'linux-5.10.231', evidence: 'P', note: 'OSV CVE-2024-53214 (<5.10.231)' },
      { version: 'linux-5.15.174', evidence: 'P', note: 'OSV CVE-2024-53214 (<5.15.174)' },
      { version: 'linux-6.1.120', evidence: 'P', note: 'OSV CVE-2024-53214 (<6.1.120)' },
      { version: 'linux-6.6.64', evidence: 'P', note: 'OSV CVE-2024-53214 (<6.6.64)' },
      { version: 'linux-6.12.2', evidence: 'P', note: 'OSV CVE-2024-53214 (<6.12.2; also 6.11.11, not modeled)' },
    ],
    trigger: 'a PCIe function whose first extended capability (at 0x100) has an ID above PCI_EXT_CAP_ID_MAX (vfio hides it); the user reads the dword at 0x100 (as a guest\'s lspci does)',
    outcome: 'WARN at vfio_pci_config_rw (WARN_ON(cap_id > PCI_EXT_CAP_ID_MAX)) and an out-of-bounds read of ecap_perms: the pread returns, its data undefined; fixed versions return the anchor (ID and version 0, next pointer kept)',
    report: 'CVE-2024-53214 (kernel CNA, Dec 2024): the WARNING trace from "simx-qemu-syste" on 6.12.0, vfio_pci_config_rw+0x395 <- vfio_pci_rw <- __x64_sys_pread64',
  },
  {
    switch: 'bugHugeFaultUnalignedPfn',
    slug: 'huge-fault-unaligned-pfn',
    title: 'huge_fault builds a PMD/PUD from a PFN not aligned to the order: the block maps the wrong device range',
    introducedBy: { commit: 'f9e54c3a2f5b', subject: 'vfio/pci: implement huge_fault support', evidence: 'P', note: 'Fixes: tag of the fix' },
    fixedBy: {
      commit: '09dfc8a5f2ce',
      subject: 'vfio/pci: Fallback huge faults for unaligned pfn',
      evidence: 'P',
      note: 'A. Williamson, kvm@/linux-pci@ 2 Jan 2025 (Cc regressions@): "The PFN must also be aligned to the fault order to insert a huge pfnmap. Test the alignment and fallback when unaligned."',
    },
    introducedIn: [{ version: 'linux-6.12', evidence: 'S', note: 'f9e54c3a2f5b as quoted in the bugzilla 219619 thread' }],
    fixedIn: [
      { version: 'linux-6.13', evidence: 'P', note: 'mainline (not modeled; first modeled release after it: 6.19)' },
      { version: 'linux-6.12.10', evidence: 'M', note: 'the 6.12 stable review of 15 Jan 2025 carries it ("[PATCH 6.12 087/189]") [P]; that it is 6.12.10 is inferred from the review date' },
    ],
    trigger: 'a BAR mmap whose address is aligned to a PMD/PUD block but whose BAR offset (the PFN) is not: QEMU 9.1 mmaps 2M- but not 1G-aligned, a 1G BAR at an unaligned pgoff; the first touch of such a block',
    outcome: 'the huge entry maps the aligned-down device range: every access through it lands PFN-mod-block bytes lower (HAZARD, misdirected; "screen graphics artifacts" in the report); fixed versions fall back to a smaller entry',
    report: 'kernel bugzilla 219619 "vfio-pci: screen graphics artifacts after 6.12 kernel upgrade" (Athul Krishna, precification@posteo.de; regressions@ Jan 2025)',
  },
  {
    switch: 'bugHugeFaultAddressOrder',
    slug: 'huge-fault-order',
    title: 'huge_fault maps a block only for a fault at its first address: other faults in it fall back and race the aligned one',
    introducedBy: {
      commit: '09dfc8a5f2ce',
      subject: 'vfio/pci: Fallback huge faults for unaligned pfn',
      evidence: 'P',
      note: 'Fixes: tag of the fix; the address test itself is f9e54c3a2f5b\'s (6.12.0), which the model carries from 6.12 on',
    },
    fixedBy: {
      commit: 'c1d9dac0db16',
      subject: 'vfio/pci: Align huge faults to order',
      evidence: 'P',
      note: '"as any fault to an aligned page results in the same mapping, the race condition suspected in the VM_FAULT_OOM is avoided" (Reported-by Adolfo, bugzilla 220057; Co-developed-by Peter Xu; Cc stable)',
    },
    introducedIn: [{ version: 'linux-6.12', evidence: 'S' }],
    fixedIn: [
      { version: 'linux-6.15', evidence: 'P', note: 'vfio-v6.15-rc6 (not modeled; first modeled release after it: 6.19)' },
      { version: 'linux-6.12.29', evidence: 'M', note: 'the 6.12 stable review of 12 May 2025 carries it ("[PATCH 6.12 009/184]", also 6.14 009/197) [P]; that it is 6.12.29 is inferred from the review date' },
    ],
    trigger: 'the first fault in a PMD/PUD-sized block of a BAR mapping comes at an address that is not the block\'s first (a guest touching the middle of a BAR, KVM faulting in the page it needs)',
    outcome: 'the fault falls back to a PTE and the block stays PTE-mapped until munmap (fallback(barN,pmd:address) in the log) where fixed versions map the whole block; the VM_FAULT_OOM of a racing aligned fault ("kvm run failed Bad address", bugzilla 220057) is suspected by the fix and not modeled [M]',
    report: 'kernel bugzilla 220057 (Adolfo, 2025): QEMU "kvm run failed Bad address" on 6.12+/6.14 with a GPU passed through',
  },
  {
    switch: 'bugType1PfnmapIgnoresProt',
    slug: 'type1-pfnmap-prot',
    title: 'type1 MAP_DMA with WRITE of a read-only BAR mapping succeeds where its PTEs are present',
    introducedBy: {
      commit: '5cbf3264bc71',
      subject: 'vfio/type1: Fix VA->PA translation for PFNMAP VMAs in vaddr_get_pfn()',
      evidence: 'P',
      note: 'Fixes: tag of the fix (S. Christopherson, Apr 2020: follow_pfn() for VM_PFNMAP vmas); first modeled release carrying it [M]',
    },
    fixedBy: {
      commit: '07956b6269d3',
      subject: 'vfio/type1: Use follow_pte()',
      evidence: 'P',
      note: '"follow_pfn() doesn\'t make sure that we\'re using the correct page protections, get the pte with follow_pte() so that we can test protections and get the pfn from the pte." (A. Williamson, Feb 2021)',
    },
    introducedIn: [{ version: 'linux-5.7', evidence: 'M', note: 'posted 16 Apr 2020 as a 5.7-rc fix; also in the CVE-2020-12888 backports' }],
    fixedIn: [
      { version: 'linux-5.12', evidence: 'M', note: 'mainline: v2 posted Feb 2021, after the 5.11 release (not modeled; first modeled release after it: 5.14)' },
      { version: 'linux-5.10.20', evidence: 'M', note: 'the 5.10 stable review of 1 Mar 2021 carries it ("[PATCH 5.10 444/663]") [P]; that it is 5.10.20 is inferred from the review date (5.11: review of 5 Mar 2021, 020/104; 4.4/4.9/4.19: FAILED to apply)' },
    ],
    trigger: 'a BAR mmapped PROT_READ whose PTEs are present (touched), then VFIO_IOMMU_MAP_DMA of it with READ|WRITE (the IOMMU mapping of a P2P BAR a VMM sets up)',
    outcome: 'MAP_DMA succeeds and the IOMMU maps the read-only BAR pages writable (a device can DMA-write what the process may only read); fixed versions -EFAULT, as for pages not yet present',
    report: 'A. Williamson, "[PATCH] vfio/type1: Use follow_pte()" (kvm@ 12 Feb 2021, v2 16 Feb; reviewed by J. Gunthorpe, C. Huck, P. Xu)',
  },
  {
    switch: 'bugIntxNullTrigger',
    slug: 'intx-null-trigger',
    title: 'INTx without a trigger eventfd: a SET_IRQS loopback signals a NULL eventfd',
    introducedBy: {
      commit: '89e1f7d4c66d',
      subject: 'vfio: Add PCI device driver',
      evidence: 'M',
      note: 'the INTx trigger/loopback code is the driver\'s own (3.6); the subject as the Fixes: tag of fe9a7082684e (same series) writes it [P], that 18c198c96a81 names the same commit is [M]',
    },
    fixedBy: {
      commit: '18c198c96a81',
      subject: 'vfio/pci: Create persistent INTx handler',
      evidence: 'P',
      note: 'CVE-2024-26812: "the eventfd for INTx signaling can be deconfigured, which unregisters the IRQ handler but still allows eventfds to be signaled with a NULL context through the SET_IRQS ioctl or through unmask irqfd if the device interrupt is pending" (NVD text as quoted by the CVE pages); the fix ties the handler to the INTx context and tests the trigger in the signal wrapper. 5.10.215-rc1 review shortlog lists it with its series',
    },
    introducedIn: [{ version: 'linux-5.7', evidence: 'M', note: 'the cause (3.6) predates every modeled version' }],
    fixedIn: [
      { version: 'linux-6.9', evidence: 'M', note: 'mainline, with 810cd4bb5345 in the vfio pull for 6.9 (NVD ranges end at 6.7.12 and 6.8.3); not modeled, first modeled release after it: 6.12' },
      { version: 'linux-5.10.215', evidence: 'P', note: '"[PATCH 5.10 000/294] 5.10.215-rc1 review" (11 Apr 2024) lists "vfio/pci: Create persistent INTx handler" with the series; 5.4.274 (13 Apr 2024) too' },
      { version: 'linux-5.15.154', evidence: 'M', note: 'the series went to every stable branch in the same cycle (810cd4bb5345: OSV CVE-2024-26810 <5.15.154) [P]; that this patch is in the same point is inferred' },
      { version: 'linux-6.1.84', evidence: 'M', note: 'as 5.15.154: 810cd4bb5345 <6.1.84 [P]; A. Williamson\'s "[PATCH 6.1.y 0/7] vfio: Interrupt eventfd hardening" (29 Mar 2024) re-did the series for 6.1.y' },
      { version: 'linux-6.6.24', evidence: 'M', note: 'as 5.15.154: 810cd4bb5345 <6.6.24 [P]' },
    ],
    trigger: 'INTx enabled (SET_IRQS INTx TRIGGER with an eventfd), then its trigger deconfigured (SET_IRQS INTx TRIGGER DATA_EVENTFD count=1 fds=-1: INTx stays the IRQ type), then a loopback SET_IRQS INTx TRIGGER DATA_NONE count=1 while INTx is not virtually disabled',
    outcome: 'kernel BUG (NULL pointer dereference in eventfd_signal from vfio_send_intx_eventfd): the calling thread is killed; fixed versions return 0 and signal nothing',
    report: 'CVE-2024-26812 (kernel CNA, Apr 2024); the 2024 vfio INTx/eventfd series (A. Williamson, posted 8 Mar 2024, 7 commits)',
  },
  {
    switch: 'bugSmeEncryptedBarPte',
    slug: 'sme-encrypted-bar-pte',
    title: 'on an AMD SME host the fault handler maps the BAR encrypted (remap_pfn_range, not io_remap_pfn_range)',
    introducedBy: { commit: '11c4cd07ba11', subject: 'vfio-pci: Fault mmaps to enable vma tracking', evidence: 'P', note: 'Fixes: tag of the fix' },
    fixedBy: {
      commit: '7b06a56d468b',
      subject: 'vfio-pci: Use io_remap_pfn_range() for PCI IO memory',
      evidence: 'P',
      note: 'J. Gunthorpe, tested by T. Lendacky (AMD): f8f6ae5d077a ("mm: always have io_remap_pfn_range() set pgprot_decrypted()") lets drivers map BAR space to userspace on SME systems; "Since vfio_pci_mmap_fault() is working with PCI memory mapped BAR space it should be calling io_remap_pfn_range() otherwise it will not work on SME systems"',
    },
    introducedIn: [
      { version: 'linux-5.8', evidence: 'S' },
      { version: 'block-disabled-mmio@v1', evidence: 'P', note: 'the fault-time remap is the series\' own' },
    ],
    fixedIn: [
      { version: 'linux-5.11', evidence: 'M', note: 'in the vfio commits of the 5.11 merge window (Dec 2020) [P: commit lists]; not modeled, first modeled release after it: 5.14' },
      {
        version: 'linux-5.10.4',
        evidence: 'M',
        note: 'the 5.10 stable review of 28 Dec 2020 carries it ("[PATCH 5.10 274/717]") [P]; that it is 5.10.4 is inferred from the review date (also 4.9 090/175, 4.14 128/242, 4.19 193/346, 5.4 207/453 the same day)',
      },
    ],
    trigger: 'a host booted with mem_encrypt=on (kernel-cmdline in the header) on AMD SME hardware; any access through a BAR mapping the fault handler populated',
    outcome: 'the access does not reach the device register as written (HAZARD; the commit says BAR mmaps "will not work on SME systems"); fixed versions: ok. Without mem_encrypt=on nothing changes',
    report: 'commit 7b06a56d468b (J. Gunthorpe, Nov 2020, Tested-by T. Lendacky)',
  },
  {
    switch: 'bugMmapRegionIndexUnchecked',
    slug: 'mmap-region-index-oob',
    title: 'mmap of a device-specific region index past num_regions reads vdev->region out of bounds',
    introducedBy: { commit: 'a15b1883fee1', subject: 'vfio_pci: Allow mapping extra regions', evidence: 'P', note: 'Fixes: tag of the fix (4.x); predates every modeled version' },
    fixedBy: {
      commit: '909290786ea3',
      subject: 'vfio/pci: Add missing range check in vfio_pci_mmap',
      evidence: 'P',
      note: 'Christian A. Ehrhardt, kvm@ Apr 2021 (reviewed by D. Gibson, C. Huck): "When mmaping an extra device region verify that the region index derived from the mmap offset is valid."',
    },
    introducedIn: [{ version: 'linux-5.7', evidence: 'M', note: 'the cause predates every modeled version' }],
    fixedIn: [
      { version: 'linux-5.12', evidence: 'M', note: 'mainline in the 5.12-rc8 week (commit lists beside the 5.12-rc7 fixes) [P]; not modeled, first modeled release after it: 5.14' },
      { version: 'linux-5.10.32', evidence: 'P', note: '"Linux 5.10.32-rc1" review shortlog lists it (Apr 2021); 5.4 the same week ("[PATCH 5.4 47/73]", 19 Apr 2021)' },
    ],
    trigger: 'mmap of the device fd at the offset of a region index past the device-specific regions (index >= VFIO_PCI_NUM_REGIONS + num_regions; on a device with none, any index >= 10)',
    outcome: 'the kernel reads region->ops through a pointer just above NULL (vdev->region is NULL when the device has no device-specific regions): kernel oops in vfio_pci_mmap, the mmapping thread is killed; with regions, an out-of-bounds heap read. Fixed versions: -EINVAL',
    report: 'Christian A. Ehrhardt, "[PATCH] vfio/pci: Add missing range check in vfio_pci_mmap" (kvm@ 10 Apr 2021)',
  },
  {
    switch: 'bugIntxAutoEnable',
    slug: 'intx-auto-enable-depth',
    title: 'exclusive INTx is auto-enabled by request_irq: an interrupt before vfio masks it disables the line twice',
    introducedBy: { commit: '89e1f7d4c66d', subject: 'vfio: Add PCI device driver', evidence: 'P', note: 'Fixes: tag of the fix' },
    fixedBy: {
      commit: 'fe9a7082684e',
      subject: 'vfio/pci: Disable auto-enable of exclusive INTx IRQ',
      evidence: 'P',
      note: 'CVE-2024-27437: "for devices requiring masking at the irqchip for INTx, ie. devices without DisINTx support, the IRQ is enabled in request_irq() and subsequently disabled as necessary to align with the masked status flag. This presents a window where the interrupt could fire between these events, resulting in the IRQ incrementing the disable depth twice. This would be unrecoverable for a user since the masked flag prevents nested enables through vfio." Fix: IRQF_NO_AUTOEN, then enable_irq when not masked',
    },
    introducedIn: [{ version: 'linux-5.7', evidence: 'M', note: 'the cause (3.6) predates every modeled version' }],
    fixedIn: [
      { version: 'linux-6.9', evidence: 'M', note: 'mainline with the series (vfio pull for 6.9); not modeled, first modeled release after it: 6.12' },
      { version: 'linux-5.10.215', evidence: 'P', note: '"[PATCH 5.10 ...] vfio/pci: Disable auto-enable of exclusive INTx IRQ" (upstream fe9a7082684e) in the 5.10.215-rc1 review (11 Apr 2024)' },
      { version: 'linux-5.15.154', evidence: 'M', note: 'the series in the same cycle (810cd4bb5345: OSV CVE-2024-26810 <5.15.154) [P]; inferred for this patch' },
      { version: 'linux-6.1.84', evidence: 'M', note: 'A. Williamson, "[PATCH 6.1.y 0/7]" (29 Mar 2024): "This corrects the backport of commit fe9a7082684e", adapted to the eventfd-context array of 6.1 [P]; the point is inferred' },
      { version: 'linux-6.6.24', evidence: 'M', note: 'with the series (810cd4bb5345 <6.6.24) [P]; inferred for this patch' },
    ],
    trigger: 'INTx on a function without DisINTx masking (vfio_pci.nointxmask=1 in the header, or a device that cannot mask): the device raises INTx (device-irq index=0) while SET_IRQS enables INTx with a trigger (race=N), between request_irq and the masked check',
    outcome: 'the IRQ line is disabled twice; the user\'s unmask enables it once and clears the masked flag, so the line stays disabled: later interrupts stay pending (`pending(intx)`, no `signal(intx)`) and the device\'s INTx is dead for the VM; fixed versions deliver the interrupt when the line is enabled',
    report: 'CVE-2024-27437 (kernel CNA, Apr 2024); the 2024 vfio INTx/eventfd series (A. Williamson, 7 commits)',
  },
];

export function findBug(sw: BugSwitch): KernelBug {
  const b = KERNEL_BUGS.find((x) => x.switch === sw);
  if (b === undefined) throw new Error(`kernel bug catalog: no entry for ${sw}`);
  return b;
}

export function isBugSwitch(name: string): name is BugSwitch {
  return (BUG_SWITCHES as readonly string[]).includes(name);
}
