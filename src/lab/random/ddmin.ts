// Delta debugging (Zeller & Hildebrandt's ddmin) with batched tests: every candidate of one round
// (the n chunks and their n complements) is handed to the test at once, because in the lab one
// test means one guest boot and a boot runs any number of sequences for about the cost of one.
// The result is 1-minimal: removing any single item makes the test pass.

/** Says, for each candidate, whether it still shows the failure. */
export type BatchTest<T> = (candidates: T[][]) => Promise<boolean[]>;

export interface DdminResult<T> {
  items: T[];
  /** Batches run (= lab boots when the test boots the lab). */
  rounds: number;
  /** Candidates tested in all. */
  tested: number;
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((xs.length - start) / (n - i));
    out.push(xs.slice(start, end));
    start = end;
  }
  return out.filter((c) => c.length > 0);
}

/**
 * Shrinks `items` (which must fail the test) to a 1-minimal failing subsequence, order kept.
 * `maxRounds` bounds the boots; the best sequence found so far is returned when it runs out.
 */
export async function ddmin<T>(items: T[], test: BatchTest<T>, opts: { maxRounds?: number } = {}): Promise<DdminResult<T>> {
  const maxRounds = opts.maxRounds ?? 64;
  let cur = items.slice();
  let n = 2;
  let rounds = 0;
  let tested = 0;
  while (cur.length >= 2 && rounds < maxRounds) {
    const parts = chunks(cur, Math.min(n, cur.length));
    const complements = parts.length > 2 ? parts.map((_, i) => parts.filter((_, j) => j !== i).flat()) : [];
    const cands = [...parts, ...complements];
    const verdict = await test(cands);
    rounds++;
    tested += cands.length;
    const sub = parts.findIndex((_, i) => verdict[i]);
    if (sub >= 0) {
      cur = parts[sub];
      n = 2;
      continue;
    }
    const comp = complements.findIndex((_, i) => verdict[parts.length + i]);
    if (comp >= 0) {
      cur = complements[comp];
      n = Math.max(n - 1, 2);
      continue;
    }
    if (parts.length >= cur.length) break;
    n = Math.min(n * 2, cur.length);
  }
  return { items: cur, rounds, tested };
}
