// Zeller's delta debugging (ddmin), complement form: split the items into n chunks, try dropping
// each chunk; on success keep the smaller list and coarsen, else refine until chunks are single
// items. The result is 1-minimal: no single remaining item can be dropped.

/** `keep` returns true when the trace made of exactly these items still shows the goal. */
export function ddmin<T>(items: readonly T[], keep: (items: T[]) => boolean): T[] {
  let cur = [...items];
  let n = 2;
  while (cur.length >= 2) {
    const size = Math.ceil(cur.length / n);
    let reduced = false;
    for (let start = 0; start < cur.length; start += size) {
      const complement = cur.slice(0, start).concat(cur.slice(start + size));
      if (keep(complement)) {
        cur = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  if (cur.length === 1 && keep([])) return [];
  return cur;
}
