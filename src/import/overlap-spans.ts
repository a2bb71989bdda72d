// Overlap ids (merge.ts markOverlaps) for strace calls whose line spans cannot be placed as they
// stream by: `strace -ff` writes one file per task and each file numbers its own lines, so a call
// read late (from a file that is behind) can start on any line. OverlapStream needs the calls in
// line order; this needs nothing held per call.
//
// markOverlaps sorts every call by [startLine, endLine] and numbers the clusters of intersecting
// spans. A call on one line (a point: start = end) never starts a cluster that another call joins,
// so the clusters of more than one call are the merged runs of the multi-line calls (spans, few:
// a call in flight at the end, an interrupted one), each with the points strictly inside it. Kept:
// the spans, and one bit per line number for "a point starts here". The ids are known once the
// input is read (finish), and each call's id is then looked up from its span (idOf).

interface Cluster {
  start: number;
  end: number;
  /** 0: a cluster of one call (no id). */
  id: number;
}

export class OverlapSpans {
  private bits = new Uint8Array(1024);
  private readonly spans: { start: number; end: number }[] = [];
  private clusters: Cluster[] | null = null;

  /** A strace call's line span (every call, also those the merge drops later: they count). */
  add(start: number, end: number): void {
    if (this.clusters) throw new Error('OverlapSpans: add after finish');
    if (end > start) {
      this.spans.push({ start, end });
      return;
    }
    const byte = start >> 3;
    if (byte >= this.bits.length) {
      let n = this.bits.length * 2;
      while (n <= byte) n *= 2;
      const bigger = new Uint8Array(n);
      bigger.set(this.bits);
      this.bits = bigger;
    }
    this.bits[byte]! |= 1 << (start & 7);
  }

  /** Whether a point starts on a line in (lo, hi). */
  private pointInside(lo: number, hi: number): boolean {
    for (let l = lo + 1; l < hi; l++) {
      const byte = l >> 3;
      if (byte >= this.bits.length) return false;
      // A whole empty byte at a time.
      if ((l & 7) === 0 && this.bits[byte] === 0) {
        l += 7;
        continue;
      }
      if (this.bits[byte]! & (1 << (l & 7))) return true;
    }
    return false;
  }

  /** After the last call: the clusters and their ids, numbered in markOverlaps' order. */
  finish(): void {
    if (this.clusters) return;
    const spans = this.spans.sort((a, b) => a.start - b.start || a.end - b.end);
    const clusters: Cluster[] = [];
    let next = 1;
    for (let i = 0; i < spans.length; ) {
      const start = spans[i]!.start;
      let end = spans[i]!.end;
      let n = 1;
      for (i++; i < spans.length && spans[i]!.start < end; i++, n++) end = Math.max(end, spans[i]!.end);
      const id = n > 1 || this.pointInside(start, end) ? next++ : 0;
      clusters.push({ start, end, id });
    }
    this.clusters = clusters;
  }

  /** The overlap id of the call on [start, end] (0: none). */
  idOf(start: number, end: number): number {
    const cs = this.clusters;
    if (!cs) throw new Error('OverlapSpans: idOf before finish');
    // A span belongs to the cluster it starts in (or starts); a point only to one it is strictly
    // inside: a point on a cluster's first line sorts before the span it starts with.
    const span = end > start;
    let lo = 0;
    let hi = cs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (span ? cs[mid]!.start <= start : cs[mid]!.start < start) lo = mid + 1;
      else hi = mid;
    }
    const c = cs[lo - 1];
    return c !== undefined && start < c.end ? c.id : 0;
  }
}
