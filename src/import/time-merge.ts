// The time merge of merge.ts (mergeOrder, both logs stamped) over two streams instead of two
// whole lists (issue 19 item 3). Same result, event for event: each QEMU line that forwarded an
// access drops strace's copy of the host call (or its own copy, for a host-op fallback) by the
// same rule and in the same order (QEMU's log order); the type1 DMA calls of BAR mappings are
// dropped once the QEMU log showed a guest event; the rest comes out as a stable sort by stamp,
// strace first on equal stamps.
//
// What is held: each side is sorted through a WindowSort (window-sort.ts: an input more out of
// order than `window` events throws WindowExceeded), and a strace call waits until no QEMU line
// still to come can be within PAIR_WINDOW_NS of it, QEMU lines wait until strace has been read
// PAIR_WINDOW_NS past them: a second of each log, give or take the window.

import type { QemuEvent } from './qemu-log.js';
import type { ImportedEvent } from './strace-events.js';
import { forwardKey, hostKey } from './align.js';
import { pairedCall, WINDOW_NS } from './merge.js';
import { WindowSort } from './window-sort.js';

/** How far from its QEMU line strace's copy of a host call can be (merge.ts). */
const PAIR_WINDOW_NS = WINDOW_NS;

const key = (e: ImportedEvent): bigint => e.ns ?? 0n;

/** Candidates of one (kind, region, offset, length): in stamp order, the oldest first. */
interface Bucket {
  list: ImportedEvent[];
  head: number;
}

export interface TimeMergeStats {
  droppedForwards: number;
  /** Set when either log had to be sorted (an event came after one stamped later). */
  reordered: boolean;
}

export function* timeMerge(strace: Iterable<ImportedEvent>, qemu: Iterable<QemuEvent>, window: number, stats: TimeMergeStats): Generator<ImportedEvent> {
  const sRaw = strace[Symbol.iterator]();
  const qRaw = qemu[Symbol.iterator]();
  const sSort = new WindowSort<ImportedEvent>(key, window, 'strace log');
  const qSort = new WindowSort<QemuEvent>(key, window, 'QEMU log');
  let sRawDone = false;
  let qRawDone = false;
  // strace events taken from sSort that a QEMU line may still pair: in stamp order.
  const held: ImportedEvent[] = [];
  let heldHead = 0;
  let sLast: bigint | null = null; // key of the last strace event taken from sSort
  const buckets = new Map<string, Bucket>();
  const dropped = new Set<ImportedEvent>();
  let sawGuestEvent = false; // a QEMU event that is not a host-op fallback

  /** Moves the next strace event (in stamp order) into `held`; false when strace is done. */
  const pullS = (): boolean => {
    while (!sSort.canTake()) {
      if (sRawDone) {
        if (sSort.size === 0) return false;
        break;
      }
      const n = sRaw.next();
      if (n.done) {
        sRawDone = true;
        sSort.end();
      } else sSort.push(n.value);
    }
    const s = sSort.take();
    sLast = key(s);
    held.push(s);
    const k = hostKey(s);
    if (k !== null && s.ns !== null) {
      const b = buckets.get(k);
      if (b) b.list.push(s);
      else buckets.set(k, { list: [s], head: 0 });
    }
    return true;
  };
  const sDone = (): boolean => sRawDone && sSort.size === 0;

  /** Reads the next QEMU line's event, pairs it as mergeOrder does, puts it in qSort. */
  const pullQ = (): void => {
    const n = qRaw.next();
    if (n.done) {
      qRawDone = true;
      qSort.end();
      return;
    }
    const q = n.value;
    if (!q.fallback) sawGuestEvent = true;
    if (q.forward && q.ns !== null) {
      const qns = q.ns;
      // Every strace call within the window of the line must be at hand.
      while (!sDone() && (sLast === null || sLast <= qns + PAIR_WINDOW_NS)) if (!pullS()) break;
      pair(q, qns);
    }
    qSort.push(q);
  };

  const pair = (q: QemuEvent, qns: bigint): void => {
    const b = buckets.get(forwardKey(q.forward!));
    if (!b) return;
    // Calls that left `held` are older than any window of a line still to come: not looked at.
    const best = pairedCall(b.list, b.head, q, qns, dropped);
    if (best === null) return;
    stats.droppedForwards++;
    if (q.fallback) dropped.add(q);
    else dropped.add(best);
  };

  /** Whether the oldest held strace event is past any pairing and any DMA-drop decision. */
  const settled = (s: ImportedEvent): boolean => {
    if (qRawDone) return true;
    if (s.barDma && !sawGuestEvent) return false;
    if (s.ns === null || hostKey(s) === null) return true;
    const low = qSort.floor; // every QEMU line still to come is stamped at or after this
    return low !== null && s.ns + PAIR_WINDOW_NS < low;
  };

  const releaseS = (): ImportedEvent => {
    const s = held[heldHead]!;
    heldHead++;
    if (heldHead >= 1024 && heldHead * 2 >= held.length) {
      held.splice(0, heldHead);
      heldHead = 0;
    }
    const k = hostKey(s);
    if (k !== null && s.ns !== null) {
      const b = buckets.get(k)!;
      b.head++;
      if (b.head === b.list.length) buckets.delete(k);
      else if (b.head >= 256 && b.head * 2 >= b.list.length) {
        b.list.splice(0, b.head);
        b.head = 0;
      }
    }
    return s;
  };

  for (;;) {
    if (heldHead === held.length && !sDone()) {
      pullS();
      continue;
    }
    const s = heldHead < held.length ? held[heldHead]! : undefined;
    const sOk = s !== undefined && settled(s);
    if (s !== undefined && sOk) {
      if (s.barDma && sawGuestEvent) {
        releaseS();
        stats.droppedForwards++;
        continue;
      }
      if (dropped.has(s)) {
        releaseS();
        dropped.delete(s);
        continue;
      }
    }
    const qOk = qSort.canTake();
    const q = qOk ? qSort.peek() : undefined;
    if (q !== undefined && dropped.has(q)) {
      qSort.take();
      dropped.delete(q);
      continue;
    }
    if (s === undefined) {
      // strace is done: the rest of QEMU's events.
      if (q !== undefined) yield qSort.take();
      else if (qSort.done) {
        stats.reordered = sSort.reordered || qSort.reordered;
        return;
      }
      else pullQ();
      continue;
    }
    if (sOk && q !== undefined) {
      yield key(s) <= key(q) ? releaseS() : qSort.take();
      continue;
    }
    if (sOk) {
      // QEMU's next event is not known yet: s goes first if nothing QEMU can still give is earlier.
      const low = qSort.floor;
      const first = qSort.peekKey();
      if (qSort.done || (low !== null && key(s) <= low && (first === undefined || key(s) <= first))) {
        yield releaseS();
        continue;
      }
    } else if (q !== undefined && key(q) < key(s)) {
      yield qSort.take();
      continue;
    }
    pullQ();
  }
}
