// A k-way merge of sequences that are each already in order: one ordered sequence, pulling one
// item at a time from each source (bounded memory: k items held, whatever the sources' lengths).
// `strace -ff -o F` writes one file per task, each in its own time order (a task's calls are
// sequential); the import reads them side by side through this instead of sorting them whole.

/**
 * The items of `sources` in `before` order. Stable: of items equal under `before`, the one of the
 * lower-numbered source comes first, and each source keeps its own order. `primed`, when given,
 * runs once every source's first item has been pulled, before the first item is handed out.
 */
export function* kWayMerge<T>(sources: Iterable<T>[], before: (a: T, b: T) => boolean, primed?: () => void): Generator<T> {
  interface Head {
    item: T;
    src: number;
    it: Iterator<T>;
  }
  const heap: Head[] = [];
  const first = (a: Head, b: Head): boolean => before(a.item, b.item) || (!before(b.item, a.item) && a.src < b.src);
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!first(heap[i]!, heap[p]!)) return;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && first(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && first(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  try {
    sources.forEach((s, src) => {
      const it = s[Symbol.iterator]();
      const n = it.next();
      if (!n.done) {
        heap.push({ item: n.value, src, it });
        up(heap.length - 1);
      }
    });
    primed?.();
    while (heap.length > 0) {
      const top = heap[0]!;
      yield top.item;
      const n = top.it.next();
      if (n.done) {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          down(0);
        }
      } else {
        top.item = n.value;
        down(0);
      }
    }
  } finally {
    // Given up early (a peek at the first item, an error): the sources still open close now (a
    // file reader holds its descriptor and buffer until then).
    for (const h of heap) h.it.return?.();
  }
}
