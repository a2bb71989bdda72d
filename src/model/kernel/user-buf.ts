// A pread/pwrite whose user buffer is itself a BAR mapping of the same device. The kernel's
// copy_to_user / copy_from_user then touches that mapping from kernel mode: a present PTE reaches
// the device directly; a missing one runs vfio-pci's fault handler, and a fault it refuses
// (VM_FAULT_SIGBUS: memory disabled, D3hot, low power) ends the copy with -EFAULT and no signal,
// because a kernel-mode fault is fixed up instead of signaled [S: arch/x86/mm/fault.c do_sigbus ->
// kernelmode_fixup_or_oops]. Order [S: vfio_pci_config_rw / vfio_pci_core_do_io_rw]: a write copies
// from the buffer before touching the device, a read touches the device and then copies out, so a
// read's own -EIO comes first and a write's -EFAULT comes first.
//
// Catalog bug recursive-memory-lock (abafbc551fdd .. bc93b9ae0151, 5.8 / fixed 5.9, 5.8.3): a BAR
// pread/pwrite of a MEM BAR ran the copy with memory_lock already read-held, so a copy that faults
// into vfio_pci_mmap_fault took it a second time: lockdep reports it, and a writer queued in between
// deadlocks both (the interleaving explorer finds that: src/model/kernel/race-phases.ts).

import type { UserBuf } from '../../trace/types.js';
import { step, type Effect, type Outcome, type Step } from '../outcome.js';
import { hazardReason, type Kctx } from './context.js';
import { contended, faultRefusal, findMapping, populate, refusedFault } from './core.js';

export const RECURSIVE_LOCKDEP: Outcome = {
  kind: 'kernel-failure',
  failure: 'lockdep',
  where: 'possible recursive locking detected (memory_lock, vfio_pci_mmap_fault <- vfio_pci_bar_rw)',
  consequence: 'continues',
};

/** Whether the access to `region` holds memory_lock read over its copy (vfio_pci_bar_rw of a MEM BAR, before bc93b9ae0151). */
export function copyHoldsMemoryLock(k: Kctx, region: number): boolean {
  return k.v.bugRecursiveMemoryLock && region <= 5 && k.g.bars[region]?.kind === 'mem';
}

/** The copy of `ev` will fault into vfio-pci (its buffer's page is not populated in the event's process). */
export function bufferFaults(k: Kctx, ev: UserBuf): boolean {
  if (ev.bufBar === undefined) return false;
  const offset = ev.bufOffset ?? 0n;
  const m = findMapping(k, ev.bufBar, offset);
  return m !== undefined && !m.populated.has(Number((offset - m.barOffset) / k.g.pageSize));
}

type Copy = { effects: Effect[]; recursive: boolean } | { fail: Step };

/**
 * The copy to (store) or from (load) the BAR-mapped buffer: effects, or the failing step.
 * `nested`: memory_lock is already read-held by the access (copyHoldsMemoryLock).
 */
function copy(k: Kctx, bar: number, offset: bigint, len: number, store: boolean, nested: boolean): Copy {
  const m = findMapping(k, bar, offset);
  if (m === undefined) return { fail: step({ kind: 'errno', errno: 'EFAULT' }, 'rdwr.user-buf.unmapped-efault') };
  const last = offset + BigInt(Math.max(len, 1)) - 1n;
  if (last >= m.barOffset + m.length)
    return { fail: step({ kind: 'unsupported', reason: 'a user buffer running past the end of its BAR mapping is not modeled' }, 'rdwr.user-buf.crosses-mapping-end') };
  // Storing into a read-only VMA: the fault is refused before vfio-pci sees it.
  if (store && !(m.prot & 0x2)) return { fail: step({ kind: 'errno', errno: 'EFAULT' }, 'rdwr.user-buf.readonly-mapping-efault') };
  const effects: Effect[] = [];
  let recursive = false;
  const first = Number((offset - m.barOffset) / k.g.pageSize);
  const end = Number((last - m.barOffset) / k.g.pageSize);
  for (let page = first; page <= end; page++) {
    if (!m.populated.has(page)) {
      if (contended(k)) {
        // A uaccess fault cannot be retried: v1's contended fault SIGBUSes, i.e. -EFAULT here.
        if (k.v.bugContendedFaultSigbus) return { fail: step({ kind: 'errno', errno: 'EFAULT' }, 'rdwr.user-buf.fault-contended-efault', effects) };
        return { fail: step({ kind: 'blocked' }, 'rdwr.user-buf.fault-waits-for-writer', effects) };
      }
      if (faultRefusal(k) !== undefined) {
        refusedFault(k, m, page);
        return { fail: step({ kind: 'errno', errno: 'EFAULT' }, 'rdwr.user-buf.fault-refused-efault', effects) };
      }
      effects.push(...populate(k, m, page));
      recursive ||= nested;
    }
  }
  effects.push({ kind: 'device-access', what: `bar${bar}+0x${offset.toString(16)}` });
  const hz = hazardReason(k);
  if (hz !== undefined) effects.push({ kind: 'platform-hazard', reason: `user buffer copy: ${hz}` });
  return { effects, recursive };
}

/** The step with the copy's effects; lockdep's report when the copy faulted under the held lock. */
function finish(s: Step, c: { effects: Effect[]; recursive: boolean }, before: boolean): Step {
  const effects = before ? [...c.effects, ...s.effects] : [...s.effects, ...c.effects];
  if (c.recursive) return step(RECURSIVE_LOCKDEP, 'rdwr.user-buf.recursive-memory-lock', effects);
  return { ...s, effects };
}

/**
 * Runs the device access `access` with the copy through a BAR-mapped user buffer around it.
 * `region`: the region the access goes to (decides whether memory_lock is held over the copy).
 */
export function withUserBuf(k: Kctx, ev: UserBuf & { kind: string }, len: number, region: number, access: () => Step): Step {
  if (ev.bufBar === undefined) return access();
  const nested = copyHoldsMemoryLock(k, region);
  const bar = ev.bufBar;
  const offset = ev.bufOffset ?? 0n;
  const write = ev.kind === 'cfg-write' || ev.kind === 'region-write';
  if (write) {
    const c = copy(k, bar, offset, len, false, nested);
    if ('fail' in c) return c.fail;
    return finish(access(), c, true);
  }
  const s = access();
  if (s.outcome.kind !== 'ok' && s.outcome.kind !== 'hazard') return s;
  const c = copy(k, bar, offset, len, true, nested);
  if ('fail' in c) return { ...c.fail, effects: [...s.effects, ...c.fail.effects] };
  return finish(s, c, false);
}
