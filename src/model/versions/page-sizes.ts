// Host page sizes (the trace header's `page-size=`, issue 16 item 3) as DATA: what the model does
// with each and how it knows. The rules take every page-granular decision from the header's value
// (docs/power-pages-processes.md "Page size"); what differs per size is the evidence. `vfio-replay
// versions` prints this table.
//
// Evidence tags as in kernel.ts (L lab, S source, P patch/mail, M inferred).

import type { Evidence } from './kernel.js';

export interface PageSizeInfo {
  bytes: number;
  /** Where it is met (architecture, kernel flavour). */
  where: string;
  /** How the model's page-size rules are known for it. */
  evidence: Evidence;
  /** The lab run or the reason there is none. */
  note: string;
}

/** The rules whose outcome depends on the page size (named for the docs and `versions`). */
export const PAGE_SIZE_RULES =
  'mmap.unaligned-offset, mmap.past-bar-end, mmap.bar-not-mappable (sub-page BAR), mmap.munmap-unaligned-einval, kvm.memslot.unaligned-einval, vmm.sub-page-bar-userspace, huge-fault sizes (PMD = PAGE_SIZE/8 pages)';

export const PAGE_SIZES: readonly PageSizeInfo[] = [
  {
    bytes: 4096,
    where: 'x86_64; arm64 4K kernels (Debian linux-image-*-arm64)',
    evidence: 'L',
    note: 'every x86 lab run (traces/lab/<k>/, 6.1/6.12/7.2); 2M PMD and 1G PUD faults: ivshmem-huge on 6.12/7.2',
  },
  {
    bytes: 16384,
    where: 'arm64 16K kernels (Debian linux-image-*-arm64-16k; Apple silicon hosts)',
    evidence: 'L',
    note: 'aarch64 lab, 6.12.117 arm64-16k: traces/lab/6.12/arm64-16k/page-size (offset and length granularity, a 4K munmap removing a 16K page, the one-page MSI-X BAR) and ivshmem-huge-16k (32M PMDs, no PUD); sub-page BARs and memslots not run (no such BAR at 16K, no KVM under TCG)',
  },
  {
    bytes: 65536,
    where: 'arm64 64K kernels (RHEL/Ubuntu -64k flavours; server arm64 hosts)',
    evidence: 'S',
    note:
      'source-only: Debian ships no 64K arm64 flavour (trixie arm64 has arm64, arm64-16k, cloud-arm64, rt-arm64; no package name with 64k), ' +
      'the lab reaches Debian\'s archive only (no other distribution\'s kernel can be fetched), and a cross build of a 64K kernel ' +
      '(linux-source-6.12 is cached, the cross compiler installed) was not started: on these 2 shared cores a kernel build runs at ~4-5 objects a minute (the iommufd kernel\'s trimmed build took hours). ' +
      'The same rules as at 16K, scaled: a 64K page makes the e1000e\'s 16K MSI-X BAR3 a sub-page BAR and the PMD 512M',
  },
];
