// What the interleaving explorer (src/replay/race/) and the models agree on: an event of a race
// is a list of phases, each atomic, split where the real code takes or drops a lock. A phase names
// the locks it takes when it starts (blocking: it runs only once they are free; `try`: it always
// runs and is told whether it got them) and the ones it drops when it ends; `run` returns the
// event's step when the event is finished, or null to go on with the next phase.

import type { Step } from './outcome.js';

/**
 * memory_lock = vdev->memory_lock (rwsem); vma_lock = vdev->vma_lock (mutex, 5.8-6.9 vma_list);
 * igate = vdev->igate (mutex: SET_IRQS, and since 810cd4bb5345 the INTx mask paths from config
 * space); dmabuf_resv = the reservation lock of the exported dma-bufs, taken by the revoke inside a
 * zap (6.19+), separately from memory_lock.
 */
export type LockName = 'memory_lock' | 'vma_lock' | 'igate' | 'dmabuf_resv';

export const LOCK_NAMES: readonly LockName[] = ['memory_lock', 'vma_lock', 'igate', 'dmabuf_resv'];

export interface LockNeed {
  lock: LockName;
  /** A mutex is taken as 'write'. */
  mode: 'read' | 'write';
  /** down_read_trylock / mutex_trylock: never blocks; `granted` tells the phase. */
  try?: boolean;
}

export interface PhaseCtx {
  /** Whether this phase's `try` acquisition of `lock` succeeded. */
  granted(lock: LockName): boolean;
  /** Per-event scratch that survives between phases (restored with the explorer's state). */
  scratch: Record<string, unknown>;
}

export interface Phase {
  /** Short name for the explorer's trace of an interleaving (`fault walk`, `fault remap`). */
  name: string;
  acquire: LockNeed[];
  release: LockName[];
  run(ctx: PhaseCtx): Step | null;
}
