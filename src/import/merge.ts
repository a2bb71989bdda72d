// Merging the strace events (host side) and the QEMU log events (guest side) into one ordered list.
//
// Order: by absolute time when both sources have it. Otherwise (strace -tt without a date, a QEMU
// log without -msg timestamp=on, one clock or none) by sequence alignment of what both logs show:
// each QEMU line of a forwarded access is paired with the next unpaired strace pread/pwrite of the
// same kind, region, offset and length (same thread when both know it), in order on both sides;
// the pairs are anchors and everything between two anchors keeps its own log's order. Duplicates: a guest access that QEMU served by a pread/pwrite on the device fd
// appears twice, as the guest event (QEMU log) and as the host call (strace). The VMM model
// re-derives the host call from the guest event, so strace's copy is dropped: a host call of the
// same kind, region, offset and length, from the same thread when both know it, within 1 s, on
// the side of the trace line QEMU puts it: QEMU traces a config write before its pwrite
// (vfio_pci_write_config), and a config read or a trapped region access after its pread/pwrite
// returned, so the match is the earliest unpaired call after the line, or the latest unpaired one
// before it. Pairing by nearest time instead mismatched repeated reads of one register (a line
// 1.5 ms before the next pread but 112 ms after its own). A QEMU host-op fallback (trapped access with no guest address known) is dropped
// in favour of strace's copy, which carries the real return value.
// Likewise the type1 MAP_DMA / UNMAP_DMA of the device's own BAR mappings (strace-events.ts marks
// them `barDma`): QEMU's DMA listener issues them when the guest turns memory decode on or off,
// and the VMM model derives them from that guest config write, so with the guest side merged in
// strace's copies are dropped. Guest RAM mappings stay: no guest event stands for them.
// Overlap: strace calls whose [entry, return] line spans intersect ran concurrently; each such
// cluster gets one overlap id (EventMeta.overlap).

import { UserError } from '../errors.js';
import type { TraceEvent } from '../trace/types.js';
import type { ForwardKey, QemuEvent } from './qemu-log.js';
import type { ImportedEvent } from './strace-events.js';
import { alignBySequence, forwardKey, hostKey } from './align.js';

// On QEMU's own thread nothing runs between the host call and its trace line but QEMU itself, yet
// under nested TCG with strace attached a real capture showed 112 ms between them: the window is
// generous because the side of the line and the thread already pin the match.
export const WINDOW_NS = 1_000_000_000n;

/** Whether QEMU writes the trace line after the host call it makes for the access returned. */
function tracedAfterCall(k: ForwardKey): boolean {
  return k.kind !== 'cfg-write';
}

/** Assign overlap ids to clusters of strace calls in flight together. Returns the number of clusters. */
export function markOverlaps(events: ImportedEvent[]): Map<ImportedEvent, number> {
  const ids = new Map<ImportedEvent, number>();
  const sorted = events.filter((e) => e.source === 'strace').sort((a, b) => a.startLine - b.startLine || a.endLine - b.endLine);
  let cluster: ImportedEvent[] = [];
  let end = -1;
  let next = 1;
  const flush = (): void => {
    if (cluster.length > 1) {
      for (const e of cluster) ids.set(e, next);
      next++;
    }
  };
  for (const e of sorted) {
    if (cluster.length > 0 && e.startLine < end) {
      cluster.push(e);
      end = Math.max(end, e.endLine);
    } else {
      flush();
      cluster = [e];
      end = e.endLine;
    }
  }
  flush();
  return ids;
}

export interface MergeResult {
  events: TraceEvent[];
  droppedForwards: number;
  /** How the two logs were interleaved. */
  order: 'single' | 'time' | 'sequence';
  /** Faults in a BAR mapping that became the guest access at the BAR's guest address. */
  guestFaults: number;
}

/**
 * The merge before numbering: the events in trace order (duplicates dropped) and their overlap
 * ids. numberEvents() turns it into trace events one at a time, so the importer writes each one as
 * it is made instead of holding a second copy of the whole trace.
 */
export interface MergedOrder {
  ordered: ImportedEvent[];
  overlap: Map<ImportedEvent, number>;
  droppedForwards: number;
  /** How the two logs were interleaved. */
  order: 'single' | 'time' | 'sequence';
  /** Faults in a BAR mapping that became the guest access at the BAR's guest address. */
  guestFaults: number;
}

/**
 * A failed trapped BAR access (see ImportedEvent.trapped) while the guest had the BAR placed is
 * the guest's access.
 * A fault in a BAR mapping while the guest had that BAR placed is the guest's access that died:
 * QEMU handed the mapping to the guest (TCG touches it on the vCPU thread). The body becomes a
 * 1-byte guest read at BAR base + offset (width and direction are not in the capture); the
 * VMM's death stays on it, the host-side signal details go (the guest saw no signal).
 */
function faultsToGuest(order: ImportedEvent[], lastBars: ReadonlyMap<number, bigint> | null): number {
  const g = new GuestFaults(sawKvm(order), lastBars);
  for (const e of order) g.step(e);
  return g.count;
}

/** Whether the trace has KVM calls: then no fault in a BAR mapping is the guest's (GuestFaults). */
export function sawKvm(events: Iterable<ImportedEvent>): boolean {
  for (const e of events) if (isKvmEvent(e)) return true;
  return false;
}

export function isKvmEvent(e: { body: { kind: string } }): boolean {
  return e.body.kind === 'kvm-run' || e.body.kind === 'memslot';
}

/** faultsToGuest one event at a time, in trace order (the streaming import knows `kvm` up front). */
export class GuestFaults {
  private bars: ReadonlyMap<number, bigint> | null = null;
  /** Events turned into the guest's access. */
  count = 0;

  constructor(
    // Under KVM a guest access never faults in the VMM (KVM_RUN returns EFAULT instead): a fault
    // there is the VMM's own access. Only without KVM (TCG) does the vCPU thread touch the mapping.
    private readonly kvm: boolean,
    private readonly lastBars: ReadonlyMap<number, bigint> | null,
  ) {}

  step(e: ImportedEvent): void {
    if (this.kvm) return;
    if (e.source === 'qemu') this.bars = (e as QemuEvent).bars ?? this.bars;
    const bars = this.bars;
    if (e.trapped) {
      const t = e.trapped;
      const tbase = bars?.get(t.bar);
      if (tbase === undefined) return;
      // The guest saw what QEMU made of the failure (all-ones for a read), not the host's errno.
      const gpa = BigInt.asUintN(64, tbase + t.offset);
      e.body = t.write === null ? { kind: 'guest-mmio-read', gpa, len: t.len } : { kind: 'guest-mmio-write', gpa, len: t.len, value: t.write };
      delete e.observed;
      delete e.trapped;
      this.count++;
      return;
    }
    if (!e.fault) return;
    const base = (bars ?? this.lastBars)?.get(e.fault.bar);
    if (base === undefined) return;
    const { signal: _signal, ...rest } = e.observed ?? {};
    e.body = { kind: 'guest-mmio-read', gpa: BigInt.asUintN(64, base + e.fault.offset), len: 1 };
    if (Object.keys(rest).length > 0) e.observed = rest;
    else delete e.observed;
    delete e.fault;
    this.count++;
  }
}

/**
 * The strace call a QEMU line at `qns` forwarded, among `list[from..]` (calls of the line's kind,
 * region, offset and length, in stamp order): walking away from the line on QEMU's side of it, the
 * first call not in `dropped` of the same thread inside WINDOW_NS; null if none.
 */
export function pairedCall(list: readonly ImportedEvent[], from: number, q: QemuEvent, qns: bigint, dropped: ReadonlySet<ImportedEvent>): ImportedEvent | null {
  let lo = from;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.ns! < qns) lo = mid + 1;
    else hi = mid;
  }
  // lo: the first call at or after the line.
  let best: ImportedEvent | null = null;
  const take = (s: ImportedEvent): boolean => {
    const dt = s.ns! > qns ? s.ns! - qns : qns - s.ns!;
    if (dt > WINDOW_NS) return true; // sorted: everything further out is outside the window too
    if (!dropped.has(s) && (q.tid === 0 || s.tid === 0 || q.tid === s.tid)) {
      best = s;
      return true;
    }
    return false;
  };
  if (tracedAfterCall(q.forward!)) {
    // Calls stamped at the same microsecond as the line count as before it.
    let i = lo;
    while (i < list.length && list[i]!.ns! === qns) i++;
    for (i = i - 1; i >= from && !take(list[i]!); i--);
  } else {
    for (let i = lo; i < list.length && !take(list[i]!); i++);
  }
  return best;
}

/** The merge, numbered: the whole trace's events (see mergeOrder for the arguments). */
export function mergeEvents(...args: Parameters<typeof mergeOrder>): MergeResult {
  const m = mergeOrder(...args);
  return { events: [...numberEvents(m)], droppedForwards: m.droppedForwards, order: m.order, guestFaults: m.guestFaults };
}

/** mergeEvents without the numbering (see MergedOrder). */
export function mergeOrder(
  strace: ImportedEvent[],
  straceAbsolute: boolean,
  qemu: QemuEvent[],
  qemuAbsolute: boolean,
  files: { strace: string; qemu: string },
  lastBars: ReadonlyMap<number, bigint> | null = null,
): MergedOrder {
  const both = strace.length > 0 && qemu.length > 0;
  const dropped = new Set<ImportedEvent>();
  let droppedForwards = 0;
  if (both && !(straceAbsolute && qemuAbsolute)) {
    const stats = { pairs: 0 };
    const order = [...alignBySequence(strace, qemu, dropped, stats)];
    const pairs = stats.pairs;
    if (qemu.some((q) => !q.fallback)) for (const s of strace) if (s.barDma) dropped.add(s);
    const guestFaults = faultsToGuest(order, lastBars);
    const kept = order.filter((e) => !dropped.has(e));
    return { ordered: kept, overlap: markOverlaps(strace), droppedForwards: pairs + strace.filter((s) => s.barDma && dropped.has(s)).length, order: 'sequence', guestFaults };
  }
  void files;
  // Candidates by (kind, region, offset, length), each list sorted by time: a lookup is a binary
  // search and a short walk outwards, not a scan of the whole strace log per QEMU line.
  const buckets = new Map<string, ImportedEvent[]>();
  for (const s of strace) {
    const k = hostKey(s);
    if (k === null || s.ns === null) continue;
    const list = buckets.get(k);
    if (list) list.push(s);
    else buckets.set(k, [s]);
  }
  for (const list of buckets.values()) list.sort((a, b) => (a.ns! < b.ns! ? -1 : a.ns! > b.ns! ? 1 : 0));
  for (const q of qemu) {
    if (!q.forward || q.ns === null) continue;
    const list = buckets.get(forwardKey(q.forward));
    if (!list) continue;
    const best = pairedCall(list, 0, q, q.ns, dropped);
    if (best === null) continue;
    droppedForwards++;
    if (q.fallback) dropped.add(q);
    else dropped.add(best);
  }
  if (qemu.some((q) => !q.fallback)) {
    for (const s of strace) {
      if (s.barDma) {
        dropped.add(s);
        droppedForwards++;
      }
    }
  }
  const overlap = markOverlaps(strace);
  // Stable order: by time (both absolute), else each source alone in its own order.
  const all: ImportedEvent[] = [...strace, ...qemu].filter((e) => !dropped.has(e));
  const indexed = all.map((e, i) => ({ e, i }));
  if (both) {
    indexed.sort((a, b) => {
      const d = (a.e.ns ?? 0n) - (b.e.ns ?? 0n);
      return d < 0n ? -1 : d > 0n ? 1 : a.i - b.i;
    });
  }
  const ordered = indexed.map(({ e }) => e);
  const guestFaults = faultsToGuest(ordered, lastBars);
  return { ordered, overlap, droppedForwards, order: both ? 'time' : 'single', guestFaults };
}

/**
 * Final numbering. Time since the first stamp; in a sequence-aligned merge the two logs' clocks are
 * not one scale, so only strace's stamps count and the others carry the previous event's time.
 */
export function* numberEvents({ ordered, overlap, order }: MergedOrder): Generator<TraceEvent> {
  yield* numberWith(ordered, order, epochOf(ordered, order), (e) => overlap.get(e) ?? 0);
}

/** Whether an event's stamp counts for the trace's clock (see numberEvents). */
export function timed(e: ImportedEvent, order: MergedOrder['order']): boolean {
  return e.ns !== null && (order !== 'sequence' || e.source === 'strace');
}

/** The trace's zero: the earliest stamp that counts (null: none). */
export function epochOf(events: Iterable<ImportedEvent>, order: MergedOrder['order']): bigint | null {
  let epoch: bigint | null = null;
  for (const e of events) if (timed(e, order) && (epoch === null || e.ns! < epoch)) epoch = e.ns;
  return epoch;
}

/** numberEvents with the zero known (the streaming import finds it while spooling). */
export function* numberWith(events: Iterable<ImportedEvent>, order: MergedOrder['order'], epoch: bigint | null, overlapOf: (e: ImportedEvent) => number): Generator<TraceEvent> {
  let prev = 0n;
  let seq = 0;
  for (const e of events) {
    let ts = timed(e, order) && epoch !== null ? e.ns! - epoch : order === 'sequence' ? prev : 0n;
    if (order === 'sequence' && ts < prev) ts = prev;
    prev = ts;
    yield {
      ...e.body,
      seq: BigInt(seq++),
      tsNs: ts,
      tid: e.tid,
      ...(e.pid !== undefined && e.pid > 0 ? { pid: e.pid } : {}),
      overlap: overlapOf(e),
      ...(e.observed ? { observed: e.observed } : {}),
    } as TraceEvent;
  }
}
