// The random campaign's bookkeeping: which sequence indices a shard runs, what one shard's run
// records, and how shards merge into one summary (docs/lab.md "Random differential testing").
// Sequence i belongs to shard (i mod n) + 1 of n: every shard gets an even share of the same
// deterministic sequences, so N sequences split over any n shards are the same N sequences.

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** `--shard i/n` (1 <= i <= n); throws a one-line message for anything else. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1) || !(i >= 1) || i > n) throw new Error(`--shard must be i/n with 1 <= i <= n, not "${text}"`);
  return { index: i, count: n };
}

/** The sequence indices in [0, total) that shard `s` runs, ascending. */
export function shardIndices(total: number, s: Shard = { index: 1, count: 1 }): number[] {
  const out: number[] = [];
  for (let i = s.index - 1; i < total; i += s.count) out.push(i);
  return out;
}

export interface FoundDisagreement {
  index: number;
  signature: string;
  event: string;
  rule: string;
  predicted: string;
  observed: string;
}

export interface SequenceResult {
  index: number;
  /** Events in the sequence, and how many of them the runner executed with a result. */
  events: number;
  executed: number;
  /** Runner problems (an op it could not perform: an access with no live mapping, ...). */
  problems: number;
  disagreements: FoundDisagreement[];
}

/** What one `npm run lab -- --random` shard writes (lab/work/random/<kernel>/<device>/). */
export interface ShardResult {
  kernel: string;
  release: string;
  device: string;
  seed: number;
  total: number;
  shard: string;
  boots: number;
  guestWallMs: number;
  sequences: SequenceResult[];
}

export interface FindingSummary {
  signature: string;
  /** Events that showed it, over all sequences. */
  events: number;
  /** The first sequence that showed it: `seed/index`, and the event's index in it. */
  first: string;
  index: number;
  /**
   * Set by hand after the finding was examined (docs/lab.md): `fixed` (the model rule changed; the
   * found/ trace and a rule test show it), `emu` (an artefact of QEMU's device, with evidence in
   * lab/FINDINGS.md), or left with `reason`.
   */
  status?: 'fixed' | 'emu' | 'open';
  reason?: string;
}

export interface CampaignSummary {
  kernel: string;
  release: string;
  device: string;
  seeds: number[];
  sequences: number;
  events: number;
  executed: number;
  /** Events that disagreed (before any fix), and sequences with at least one. */
  disagreeingEvents: number;
  disagreeingSequences: number;
  findings: FindingSummary[];
  boots: number;
  guestWallMs: number;
}

/**
 * Merges shard results of one kernel and device (any seeds, any shards). A sequence (seed, index)
 * run by two shards counts once (the later file wins): re-running a shard replaces its results.
 */
export function mergeResults(results: readonly ShardResult[]): CampaignSummary {
  if (results.length === 0) throw new Error('no shard results to merge');
  const { kernel, device } = results[0];
  const seqs = new Map<string, { seed: number; r: SequenceResult }>();
  let boots = 0;
  let wall = 0;
  for (const res of results) {
    if (res.kernel !== kernel || res.device !== device)
      throw new Error(`cannot merge ${res.kernel}/${res.device} results into ${kernel}/${device}`);
    boots += res.boots;
    wall += res.guestWallMs;
    for (const r of res.sequences) seqs.set(`${res.seed}/${r.index}`, { seed: res.seed, r });
  }
  const findings = new Map<string, FindingSummary>();
  let events = 0;
  let executed = 0;
  let bad = 0;
  let badSeqs = 0;
  const keys = [...seqs.keys()].sort((a, b) => {
    const [sa, ia] = a.split('/').map(Number);
    const [sb, ib] = b.split('/').map(Number);
    return sa - sb || ia - ib;
  });
  for (const key of keys) {
    const { r } = seqs.get(key)!;
    events += r.events;
    executed += r.executed;
    bad += r.disagreements.length;
    if (r.disagreements.length > 0) badSeqs++;
    for (const d of r.disagreements) {
      const f = findings.get(d.signature);
      if (f) f.events++;
      else findings.set(d.signature, { signature: d.signature, events: 1, first: key, index: d.index });
    }
  }
  return {
    kernel,
    release: results[results.length - 1].release,
    device,
    seeds: [...new Set(results.map((r) => r.seed))].sort((a, b) => a - b),
    sequences: seqs.size,
    events,
    executed,
    disagreeingEvents: bad,
    disagreeingSequences: badSeqs,
    findings: [...findings.values()].sort((a, b) => b.events - a.events || a.signature.localeCompare(b.signature)),
    boots,
    guestWallMs: wall,
  };
}
