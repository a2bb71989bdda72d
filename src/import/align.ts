// Sequence alignment of the strace events (host side) and the QEMU log events (guest side) when
// the two logs share no clock (docs/importing.md "Merging the two"): each QEMU line of a forwarded
// access is paired with the next unpaired strace pread/pwrite of the same kind, region, offset and
// length (same thread when both know it) within ALIGN_LOOKAHEAD host calls; the pairs are anchors,
// and everything between two anchors keeps its own log's order.
//
// Done over streams: both sides are read as the alignment needs them and an event is handed on as
// soon as nothing can come before it any more. The strace side is held from the first host call a
// QEMU line may still pair with (index p) to ALIGN_LOOKAHEAD host calls past it; the QEMU side
// from the last anchor to the next one (once strace is read to its end, none). Whole logs are
// never held (issue 19 item 3), but QEMU lines that never pair wait for the next anchor.

import type { ForwardKey, QemuEvent } from './qemu-log.js';
import type { ImportedEvent } from './strace-events.js';

/** How far ahead (in strace host ops) a QEMU line looks for its call before it counts as unpaired. */
export const ALIGN_LOOKAHEAD = 512;
/**
 * A pair that skips strace host ops is taken only when the next CONFIRM forwarded QEMU lines pair
 * on after its call too (two thirds of them, each within CONFIRM_REACH host ops of the last): a
 * QEMU log that began before strace (strace attached to a running VMM) holds QEMU's own start-up
 * accesses, whose calls strace never saw, and a far later call of the same key must not swallow
 * them (and every strace event between) as one pair.
 */
export const CONFIRM = 6;
export const CONFIRM_REACH = 16;

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

  const qemuIt = qemu[Symbol.iterator]();
  let qemuDone = false;
  /** QEMU events read ahead (for a confirmation) and not yet taken by the loop. */
  const ahead: QemuEvent[] = [];
  const readQemu = (): QemuEvent | undefined => {
    if (qemuDone) return undefined;
    const n = qemuIt.next();
    if (n.done) {
      qemuDone = true;
      return undefined;
    }
    return n.value;
  };
  const fits = (q: QemuEvent, j: number, key: string): boolean => {
    while (j >= hostOps.length && readStrace());
    if (j >= hostOps.length) return false;
    const h = held[hostOps[j]!]!;
    return h.key === key && (q.tid === 0 || h.ev.tid === 0 || q.tid === h.ev.tid);
  };
  /** Whether the QEMU lines after the current one pair on after host op j (see CONFIRM). */
  const confirmed = (j: number): boolean => {
    const next = ahead.filter((q) => q.forward);
    while (next.length < CONFIRM) {
      const q = readQemu();
      if (q === undefined) break;
      ahead.push(q);
      if (q.forward) next.push(q);
    }
    const tried = next.slice(0, CONFIRM);
    let at = j + 1;
    let ok = 0;
    for (const q of tried) {
      const key = forwardKey(q.forward!);
      for (let k = at; k < at + CONFIRM_REACH; k++) {
        if (!fits(q, k, key)) continue;
        ok++;
        at = k + 1;
        break;
      }
    }
    return tried.length === 0 || ok * 3 >= tried.length * 2;
  };

  for (let q = ahead.shift() ?? readQemu(); q !== undefined; q = ahead.shift() ?? readQemu()) {
    // strace events before the first host op a QEMU line may still pair with are final.
    yield* release(hostOps.length > 0 ? hostOps[0]! : held.length);
    pendingQemu.push(q);
    // strace read to its end and handed on: nothing can anchor any more, the rest of the QEMU log
    // goes out as it is read (instead of all of it waiting for the end).
    if (straceDone && held.length === 0) {
      yield* pendingQemu.splice(0);
      continue;
    }
    if (!q.forward) continue;
    const key = forwardKey(q.forward);
    for (let j = 0; j < lookahead; j++) {
      while (j >= hostOps.length && readStrace());
      if (j >= hostOps.length) break;
      if (!fits(q, j, key)) continue;
      if (j > 0 && !confirmed(j)) continue;
      const h = held[hostOps[j]!]!;
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
