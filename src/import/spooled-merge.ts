// The second half of a streaming import (issue 19 item 3): the merged events, in trace order, go to
// an EventSpool as the merge hands them out; what only the whole input tells is gathered on the
// way (the earliest stamp, whether KVM was used, whether any device event came) and the late
// changes to events already spooled (a kill, a vCPU's last failed KVM_RUN, a power transition,
// an overlap id whose cluster closed late) are kept as patches by spool index. events() then
// reads the spool back and makes each trace event exactly as numberEvents() does for a merge
// held in memory (merge.ts), translating guest faults (GuestFaults) on the way.
//
// A sequence-aligned merge (align.ts) translates faults over every event it aligned, the
// duplicates it drops too (a dropped QEMU line still moves the BAR placement, a dropped failed
// trapped access still counts): those are spooled as `dropped` and only stepped over. Whether
// the merge ends up 'sequence' or 'single' (one log without events) is known at the end: both
// zero stamps are kept until then (settle). With `spans` (strace -ff) the overlap ids are looked
// up from each call's line span when read back (overlap-spans.ts).

import { isSetupEvent } from '../trace/setup-requests.js';
import type { EventBody, Observed, TraceEvent, VmmExit } from '../trace/types.js';
import { EventSpool } from './event-spool.js';
import { GuestFaults, isKvmEvent, numberWith, type MergedOrder } from './merge.js';
import type { OverlapSpans } from './overlap-spans.js';
import type { QemuEvent } from './qemu-log.js';
import type { ImportedEvent } from './strace-events.js';

/** One spooled event: what numbering and the fault translation read (short keys: it is on disk). */
interface Rec {
  b: EventBody;
  o?: Observed;
  t: number;
  n: bigint | null;
  p?: number;
  /** From the QEMU log. */
  q?: 1;
  f?: ImportedEvent['fault'];
  r?: ImportedEvent['trapped'];
  /** The QEMU event's BAR placement, when it differs from the previous QEMU event's. */
  m?: ReadonlyMap<number, bigint>;
  v: number;
  /** A strace call's line span, when the ids come from OverlapSpans. */
  s?: number;
  e?: number;
  /** Dropped by the merge: stepped over by the fault translation, not in the trace. */
  x?: 1;
}

interface Patch {
  observed?: Observed;
  overlap?: number;
}

export class SpooledMerge {
  private readonly spool = new EventSpool<Rec>();
  private readonly index = new WeakMap<ImportedEvent, number>();
  private readonly overlapIds = new WeakMap<ImportedEvent, number>();
  private readonly patches = new Map<number, Patch>();
  private lastBars: ReadonlyMap<number, bigint> | undefined;
  // The zero stamp (merge.ts epochOf): the earliest of any event, and of strace's alone (the
  // zero of a sequence-aligned merge, whose logs share no clock).
  private epoch: bigint | null = null;
  private straceEpoch: bigint | null = null;
  /** A KVM_RUN or memslot event: guest faults stay the VMM's own, the header says kvm. */
  sawKvm = false;
  /** An event that is neither KVM nor container/group set-up (importer.ts refuseEmpty). */
  sawDeviceEvent = false;
  /** Events in the trace (the dropped ones not counted). */
  count = 0;

  constructor(
    private order: MergedOrder['order'],
    private readonly spans: OverlapSpans | null = null,
  ) {}

  /** How the logs were interleaved, when that was known only once they were read (before events()). */
  settle(order: MergedOrder['order']): void {
    this.order = order;
  }

  /** The next event in trace order. */
  add(e: ImportedEvent): void {
    if (e.ns !== null) {
      if (this.epoch === null || e.ns < this.epoch) this.epoch = e.ns;
      if (e.source === 'strace' && (this.straceEpoch === null || e.ns < this.straceEpoch)) this.straceEpoch = e.ns;
    }
    if (isKvmEvent(e)) this.sawKvm = true;
    else if (!isSetupEvent(e.body)) this.sawDeviceEvent = true;
    this.spool1(e, false);
    this.count++;
  }

  /** An event the merge dropped, in its place in the merge (see the top). */
  addDropped(e: ImportedEvent): void {
    this.spool1(e, true);
  }

  private spool1(e: ImportedEvent, dropped: boolean): void {
    const rec: Rec = { b: e.body, t: e.tid, n: e.ns, v: this.overlapIds.get(e) ?? 0 };
    if (dropped) rec.x = 1;
    if (this.spans && e.source === 'strace') {
      rec.s = e.startLine;
      rec.e = e.endLine;
    }
    if (e.observed) rec.o = e.observed;
    if (e.pid !== undefined) rec.p = e.pid;
    if (e.fault) rec.f = e.fault;
    if (e.trapped) rec.r = e.trapped;
    if (e.source === 'qemu') {
      rec.q = 1;
      const bars = (e as QemuEvent).bars;
      if (bars !== this.lastBars) {
        if (bars !== undefined) rec.m = bars;
        this.lastBars = bars;
      }
    }
    this.index.set(e, this.spool.append(rec));
  }

  /** An event's `observed` changed after it was made: patched in if it is already spooled. */
  readonly edited = (e: ImportedEvent): void => {
    const i = this.index.get(e);
    if (i === undefined) return; // still on its way here (or dropped): it carries the change itself
    this.patches.set(i, { ...this.patches.get(i), ...(e.observed ? { observed: e.observed } : {}) });
  };

  /** A strace call's overlap id (OverlapStream). */
  readonly overlap = (e: ImportedEvent, id: number): void => {
    const i = this.index.get(e);
    if (i === undefined) this.overlapIds.set(e, id);
    else this.patches.set(i, { ...this.patches.get(i), overlap: id });
  };

  /**
   * The trace events, numbered (read the spool once more per call). `lastExit` goes on the last
   * event unless it has one (the VMM log's `kvm run failed`); `done` gets the fault translation's
   * count and the kinds after a complete read.
   */
  *events(lastBars: ReadonlyMap<number, bigint> | null, lastExit: VmmExit | null, done?: (guestFaults: number, kinds: Map<string, number>) => void): Generator<TraceEvent> {
    const faults = new GuestFaults(this.sawKvm, lastBars);
    const kinds = new Map<string, number>();
    const count = this.count;
    const patches = this.patches;
    const order = this.order;
    const spool = this.spool;
    const spans = this.spans;
    spans?.finish();
    function* imported(): Generator<ImportedEvent> {
      let bars: ReadonlyMap<number, bigint> | undefined;
      let i = 0; // spool index (patches)
      let k = 0; // trace index
      for (const r of spool.records()) {
        const p = patches.get(i);
        const observed = p?.observed ?? r.o;
        const e: QemuEvent = { body: r.b, tid: r.t, ns: r.n, startLine: 0, endLine: 0, line: 0, source: r.q ? 'qemu' : 'strace' };
        if (observed) e.observed = observed;
        if (r.p !== undefined) e.pid = r.p;
        if (r.f) e.fault = r.f;
        if (r.r) e.trapped = r.r;
        if (r.q) {
          if (r.m) bars = r.m;
          if (bars !== undefined) e.bars = bars;
        }
        faults.step(e);
        i++;
        if (r.x) continue;
        if (k === count - 1 && lastExit && !e.observed?.vmmExit) e.observed = { ...e.observed, vmmExit: lastExit };
        kinds.set(e.body.kind, (kinds.get(e.body.kind) ?? 0) + 1);
        overlap = p?.overlap ?? (spans && r.s !== undefined ? spans.idOf(r.s, r.e!) : r.v);
        k++;
        yield e;
      }
    }
    // numberWith asks for the overlap id of the event it just took: the one imported() yielded last.
    let overlap = 0;
    yield* numberWith(imported(), order, order === 'sequence' ? this.straceEpoch : this.epoch, () => overlap);
    done?.(faults.count, kinds);
  }

  close(): void {
    this.spool.close();
  }
}
