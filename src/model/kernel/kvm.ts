// The KVM ioctls a VMM trace carries that the vfio model answers: KVM_SET_USER_MEMORY_REGION's
// sanity checks (virt/kvm/kvm_main.c, the top of __kvm_set_memory_region / kvm_set_memory_region
// [S]): memory_size, guest_phys_addr and userspace_addr must be multiples of the HOST page size,
// checked before a size-0 deletion is recognized. On a 16K/64K host a memslot laid out for 4K
// pages (a sub-page BAR, a region cut around an MSI-X table at 4K) fails here with -EINVAL.

import { step, type Step } from '../outcome.js';
import type { Kctx } from './context.js';

export function setUserMemoryRegion(k: Kctx, gpa: bigint, size: bigint, uaddr: bigint): Step {
  const mask = k.g.pageSize - 1n;
  if ((size & mask) !== 0n || (gpa & mask) !== 0n || (uaddr & mask) !== 0n)
    return step({ kind: 'errno', errno: 'EINVAL' }, 'kvm.memslot.unaligned-einval');
  return step({ kind: 'ok', ret: 0n }, 'kvm.memslot.not-vfio');
}
