// Overlap ids (merge.ts markOverlaps) assigned as the strace calls stream by, holding only the
// calls whose cluster can still grow (issue 19 item 3). markOverlaps sorts every call by its
// [startLine, endLine] span and numbers the clusters of intersecting spans in that order; here a
// call is placed once no later call can start before it: the strace reader says the lowest line a
// later call can start on (a call still in flight, else the next line), so a call that starts
// below that is in its final place in the sort, and a cluster ends when that line passes its end.
// The ids are the same as markOverlaps gives for the whole log.

import type { ImportedEvent } from './strace-events.js';

interface Span {
  start: number;
  end: number;
  ev: ImportedEvent;
}

export class OverlapStream {
  // Calls not yet placed, in (start, end, arrival) order.
  private pending: Span[] = [];
  private cluster: ImportedEvent[] = [];
  private clusterEnd = -1;
  private next = 1;

  /** `assign(ev, id)` gets each call of a cluster of more than one, when the cluster is complete. */
  constructor(private readonly assign: (ev: ImportedEvent, id: number) => void) {}

  /** A strace call's event, in the converter's order (QEMU events are not calls: ignored). */
  add(ev: ImportedEvent): void {
    if (ev.source !== 'strace') return;
    const s: Span = { start: ev.startLine, end: ev.endLine, ev };
    let i = this.pending.length;
    while (i > 0 && (this.pending[i - 1]!.start > s.start || (this.pending[i - 1]!.start === s.start && this.pending[i - 1]!.end > s.end))) i--;
    this.pending.splice(i, 0, s);
  }

  /** Every later call starts at `lowWater` or after (Infinity: no more calls). */
  advance(lowWater: number): void {
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.start < lowWater) {
      this.place(this.pending[n]!);
      n++;
    }
    if (n > 0) this.pending.splice(0, n);
    // No later call can start inside the open cluster: it is complete.
    if (this.cluster.length > 0 && this.clusterEnd <= lowWater) this.flush();
  }

  /** At the end of the log. */
  finish(): void {
    this.advance(Infinity);
    this.flush();
  }

  private place(s: Span): void {
    if (this.cluster.length > 0 && s.start < this.clusterEnd) {
      this.cluster.push(s.ev);
      this.clusterEnd = Math.max(this.clusterEnd, s.end);
      return;
    }
    this.flush();
    this.cluster = [s.ev];
    this.clusterEnd = s.end;
  }

  private flush(): void {
    if (this.cluster.length > 1) {
      for (const e of this.cluster) this.assign(e, this.next);
      this.next++;
    }
    this.cluster = [];
    this.clusterEnd = -1;
  }
}
