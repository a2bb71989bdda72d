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

export interface KernelBug {
  switch: BugSwitch;
  /** Short name, used in trace folders (`traces/bugs/<fix commit>-<slug>/`). */
  slug: string;
  title: string;
  introducedBy: BugCommit;
  fixedBy: BugCommit;
  /** Versions that first carry the bug: a mainline release and/or stable points (a backport of the cause). */
  introducedIn: { version: string; evidence: Evidence; note?: string }[];
  /** Versions that first carry the fix: the mainline release, then the stable points. */
  fixedIn: { version: string; evidence: Evidence; note?: string }[];
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
];

export function findBug(sw: BugSwitch): KernelBug {
  const b = KERNEL_BUGS.find((x) => x.switch === sw);
  if (b === undefined) throw new Error(`kernel bug catalog: no entry for ${sw}`);
  return b;
}

export function isBugSwitch(name: string): name is BugSwitch {
  return (BUG_SWITCHES as readonly string[]).includes(name);
}
