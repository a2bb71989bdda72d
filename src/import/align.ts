// Sequence alignment of the strace events (host side) and the QEMU log events (guest side) when
// the two logs share no clock (docs/importing.md "Merging the two"): each QEMU line of a forwarded
// access is paired with the next unpaired strace pread/pwrite of the same kind, region, offset and
// length (same thread when both know it) within ALIGN_LOOKAHEAD host calls; the pairs are anchors,
// and everything between two anchors keeps its own log's order.
//
// Done over streams: both sides are read as the alignment needs them and an event is handed on as
// soon as nothing can come before it any more. The strace side is held from the first host call a
// QEMU line may still pair with (index p) to ALIGN_LOOKAHEAD host calls past it; the QEMU side
// from the last anchor to the next one. Whole logs are never held (issue 19 item 3).

import type { ForwardKey, QemuEvent } from './qemu-log.js';
import type { ImportedEvent } from './strace-events.js';

/** How far ahead (in strace host ops) a QEMU line looks for its call before it counts as unpaired. */
export const ALIGN_LOOKAHEAD = 512;

/** The bucket of a host pread/pwrite on the device: what a forwarded guest access must equal. */
export function hostKey(ev: ImportedEvent): string | null {
  const b = ev.body;
  switch (b.kind) {
    case 'cfg-read':
      return `cfg-read/7/${b.offset}/${b.len}`;
    case 'cfg-write':
      return `cfg-write/7/${b.offset}/${b.data.length}`;
    case 'region-read':
      return `region-read/${b.region}/${b.offset}/${b.len}`;
    case 'region-write':
      return `region-write/${b.region}/${b.offset}/${b.data.length}`;
    default:
      return null;
  }
}

export function forwardKey(k: ForwardKey): string {
  return `${k.kind}/${k.region}/${k.offset}/${k.len}`;
}

/**
 * Both logs in one order (each log's own order kept); the duplicate of each pair is added to
 * `dropped` (strace's copy, or QEMU's for a host-op fallback) and counted in `stats.pairs`.
 */
export function* alignBySequence(
  strace: Iterable<ImportedEvent>,
  qemu: Iterable<QemuEvent>,
  dropped: Set<ImportedEvent>,
  stats: { pairs: number },
  lookahead = ALIGN_LOOKAHEAD,
): Generator<ImportedEvent> {
  const straceIt = strace[Symbol.iterator]();
  let straceDone = false;
  /** strace events read and not yet handed on, in log order, with their host-op keys. */
  const held: { ev: ImportedEvent; key: string | null }[] = [];
  /** Positions in `held` of the host ops from p on (p = the first one a QEMU line may still pair with). */
  const hostOps: number[] = [];
  const anchorOf = new Map<ImportedEvent, QemuEvent>();
  /** QEMU events read since the last anchor that was handed on. */
  const pendingQemu: QemuEvent[] = [];

  const readStrace = (): boolean => {
    if (straceDone) return false;
    const n = straceIt.next();
    if (n.done) {
      straceDone = true;
      return false;
    }
    const key = hostKey(n.value);
    held.push({ ev: n.value, key });
    if (key !== null) hostOps.push(held.length - 1);
    return true;
  };
  /** Hands on the held strace events before position `upTo`, each anchored one after its QEMU lines. */
  function* release(upTo: number): Generator<ImportedEvent> {
    for (let i = 0; i < upTo; i++) {
      const s = held[i]!.ev;
      const a = anchorOf.get(s);
      if (a !== undefined) {
        anchorOf.delete(s);
        const k = pendingQemu.indexOf(a);
        yield* pendingQemu.splice(0, k + 1);
      }
      yield s;
    }
    held.splice(0, upTo);
    for (let j = 0; j < hostOps.length; j++) hostOps[j]! -= upTo;
  }

  for (const q of qemu) {
    // strace events before the first host op a QEMU line may still pair with are final.
    yield* release(hostOps.length > 0 ? hostOps[0]! : held.length);
    pendingQemu.push(q);
    if (!q.forward) continue;
    const key = forwardKey(q.forward);
    for (let j = 0; j < lookahead; j++) {
      while (j >= hostOps.length && readStrace());
      if (j >= hostOps.length) break;
      const h = held[hostOps[j]!]!;
      if (h.key !== key || (q.tid !== 0 && h.ev.tid !== 0 && q.tid !== h.ev.tid)) continue;
      anchorOf.set(h.ev, q);
      dropped.add(q.fallback ? q : h.ev);
      stats.pairs++;
      // p moves past the pair: everything held before it is final.
      const next = hostOps[j]! + 1;
      hostOps.splice(0, j + 1);
      yield* release(next);
      break;
    }
  }
  while (readStrace());
  yield* release(held.length);
  yield* pendingQemu.splice(0);
}
