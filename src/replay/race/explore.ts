// The interleaving explorer: the events of one race group (same `race` id) run under every order
// the kernel allows. Each event is a list of atomic phases (src/model/race.ts; the kernel model
// splits the operations whose locking matters, every other event is one phase, a memory_lock
// writer holds the lock over a second one); the order of one thread's events is kept. Depth-first,
// threads tried in the order of their first event, so interleaving 0 is the trace order.
//
// Locks follow the kernel's rules: memory_lock is an rwsem where a queued writer blocks new
// readers (a thread that already reads and reads again waits behind it: the recursive-lock
// deadlock); vma_lock is a mutex. A state where no thread can move but some are unfinished is a
// deadlock. Interleavings that reach an identical state (model, locks, positions, results so far)
// are explored once: the partial-order reduction that keeps independent phases from multiplying.

import { deepClone, fingerprint } from '../../model/clone.js';
import type { VfioPciKernelModel } from '../../model/kernel/index.js';
import { kernelPhases } from '../../model/kernel/race-phases.js';
import { renderOutcome, step, type Step } from '../../model/outcome.js';
import { LOCK_NAMES, type LockName, type Phase } from '../../model/race.js';
import type { TraceEvent } from '../../trace/types.js';

/** What the explorer needs of the replay: the models, their snapshots, and one whole event. */
export interface RaceHost {
  kernel: VfioPciKernelModel;
  apply(ev: TraceEvent): Step;
  save(): unknown;
  load(s: unknown): void;
  stateKey(): string;
}

/** Bounds that keep one group's exploration small and deterministic. */
export const MAX_GROUP_EVENTS = 8;
export const MAX_LEAVES = 2048;
export const MAX_NODES = 50_000;

interface LockState {
  readers: number[];
  writer: number;
  queue: number[];
}

interface ThreadState {
  events: number[];
  at: number;
  phase: number;
}

interface EngineState {
  threads: ThreadState[];
  locks: Record<LockName, LockState>;
  /** Locks each event holds (a multiset: a recursive read is held twice). */
  held: LockName[][];
  results: (Step | null)[];
  scratch: Record<string, unknown>[];
}

export interface Exploration {
  /** Complete interleavings run (equivalent ones counted once). */
  explored: number;
  /** The bounds were hit: nothing is known about the group's outcomes. */
  truncated: boolean;
  /** Per interleaving, in exploration order: the step of each event of the group. */
  leaves: Step[][];
  /** The interleaving whose final state the replay continues from. */
  chosen: number;
}


function freshLocks(): Record<LockName, LockState> {
  const fresh = (): LockState => ({ readers: [], writer: -1, queue: [] });
  const out = {} as Record<LockName, LockState>;
  for (const n of LOCK_NAMES) out[n] = fresh();
  return out;
}

/** Thread = the tid (events with tid 0 are a thread each); threads ordered by their first event. */
function threadsOf(events: readonly TraceEvent[]): ThreadState[] {
  const byTid = new Map<number, ThreadState>();
  const out: ThreadState[] = [];
  events.forEach((ev, i) => {
    const t = ev.tid !== 0 ? byTid.get(ev.tid) : undefined;
    if (t !== undefined) t.events.push(i);
    else {
      const nt = { events: [i], at: 0, phase: 0 };
      out.push(nt);
      if (ev.tid !== 0) byTid.set(ev.tid, nt);
    }
  });
  return out;
}

/**
 * The phases of each event: the kernel model's split where it has one, else one atomic phase, or
 * two around a memory_lock write when a dry run from the group's first state shows the event
 * takes it (a config write to COMMAND/PMCSR, a reset, ...).
 */
function programs(host: RaceHost, events: readonly TraceEvent[]): Phase[][] {
  const k = host.kernel.k;
  return events.map((ev) => {
    const run = (): Step => host.apply(ev);
    const split = kernelPhases(k, ev, run);
    if (split !== null) return split;
    const before = host.save();
    k.lockLog = [];
    k.race = { memoryLockWriter: false };
    const dry = host.apply(ev);
    const writer = k.lockLog.includes('memory_lock');
    const revokes = dry.effects.some((e) => e.kind === 'revoke');
    k.lockLog = undefined;
    k.race = undefined;
    host.load(before);
    if (!writer) return [{ name: 'atomic', acquire: [], release: [], run }];
    if (revokes) return writerRevoking(run);
    return [
      {
        name: 'writer.locked',
        acquire: [{ lock: 'memory_lock', mode: 'write' }],
        release: [],
        run: (ctx) => {
          ctx.scratch.step = run();
          return null;
        },
      },
      { name: 'writer.unlock', acquire: [], release: ['memory_lock'], run: (ctx) => ctx.scratch.step as Step },
    ];
  });
}

function grantable(l: LockState, mode: 'read' | 'write', t: number): boolean {
  if (mode === 'write') return l.writer === -1 && l.readers.length === 0;
  return l.writer === -1 && !l.queue.some((q) => q !== t);
}

type Action = { kind: 'run'; thread: number } | { kind: 'enqueue'; thread: number };

export function explore(host: RaceHost, events: readonly TraceEvent[], want: number | null): Exploration {
  const progs = programs(host, events);
  const k = host.kernel.k;
  let st: EngineState = {
    threads: threadsOf(events),
    locks: freshLocks(),
    held: events.map(() => []),
    results: events.map(() => null),
    scratch: events.map(() => ({})),
  };
  const leaves: Step[][] = [];
  const seen = new Set<string>();
  const target = want ?? 0;
  let chosenState: { model: unknown } | null = null;
  let nodes = 0;
  let truncated = false;

  const current = (t: ThreadState): { ev: number; phase: Phase } | null => {
    if (t.at >= t.events.length) return null;
    const ev = t.events[t.at];
    return { ev, phase: progs[ev][t.phase] };
  };

  const actions = (): Action[] => {
    const out: Action[] = [];
    st.threads.forEach((t, i) => {
      const c = current(t);
      if (c === null) return;
      const blocking = c.phase.acquire.filter((n) => n.try !== true);
      if (blocking.every((n) => grantable(st.locks[n.lock], n.mode, i))) out.push({ kind: 'run', thread: i });
      else if (blocking.some((n) => n.lock === 'memory_lock' && n.mode === 'write') && !st.locks.memory_lock.queue.includes(i))
        out.push({ kind: 'enqueue', thread: i });
    });
    return out;
  };

  const releaseOne = (ev: number, thread: number, lock: LockName): void => {
    const h = st.held[ev];
    const at = h.indexOf(lock);
    if (at < 0) return;
    h.splice(at, 1);
    const l = st.locks[lock];
    if (l.writer === thread) l.writer = -1;
    else {
      const r = l.readers.indexOf(thread);
      if (r >= 0) l.readers.splice(r, 1);
    }
  };

  const perform = (a: Action): void => {
    const t = st.threads[a.thread];
    if (a.kind === 'enqueue') {
      st.locks.memory_lock.queue.push(a.thread);
      return;
    }
    const c = current(t)!;
    const got = new Set<LockName>();
    for (const n of c.phase.acquire) {
      const l = st.locks[n.lock];
      if (!grantable(l, n.mode, a.thread)) continue; // a failed trylock (blocking ones are grantable here)
      if (n.mode === 'write') l.writer = a.thread;
      else l.readers.push(a.thread);
      l.queue = l.queue.filter((q) => q !== a.thread);
      st.held[c.ev].push(n.lock);
      got.add(n.lock);
    }
    const mem = st.locks.memory_lock;
    k.race = { memoryLockWriter: (mem.writer !== -1 && mem.writer !== a.thread) || mem.queue.some((q) => q !== a.thread) };
    k.meta = events[c.ev];
    const r = c.phase.run({ granted: (lock) => got.has(lock), scratch: st.scratch[c.ev] });
    k.race = undefined;
    for (const lock of c.phase.release) releaseOne(c.ev, a.thread, lock);
    if (r === null) {
      t.phase++;
      return;
    }
    st.results[c.ev] = r;
    for (const lock of [...st.held[c.ev]]) releaseOne(c.ev, a.thread, lock);
    t.at++;
    t.phase = 0;
  };

  const leaf = (): void => {
    const stuck = st.threads.filter((t) => t.at < t.events.length);
    const steps = st.results.map((r, i) => {
      if (r !== null) return r;
      const t = stuck.find((x) => x.events.includes(i))!;
      if (t.events[t.at] !== i) return step({ kind: 'blocked' }, 'race.thread-deadlocked-before');
      const locks = [...new Set(current(t)!.phase.acquire.map((n) => n.lock))];
      return step({ kind: 'kernel-failure', failure: 'deadlock', where: locks.join(','), consequence: 'vmm-hung' }, 'race.deadlock');
    });
    if (leaves.length === target) chosenState = { model: host.save() };
    leaves.push(steps);
  };

  const dfs = (): void => {
    if (truncated) return;
    if (++nodes > MAX_NODES || leaves.length >= MAX_LEAVES) {
      truncated = true;
      return;
    }
    const key = host.stateKey() + fingerprint(st);
    if (seen.has(key)) return;
    seen.add(key);
    const acts = actions();
    if (acts.length === 0) {
      leaf();
      return;
    }
    const model = host.save();
    const engine = deepClone(st);
    for (const a of acts) {
      host.load(model);
      st = deepClone(engine);
      perform(a);
      dfs();
    }
  };

  const start = host.save();
  dfs();
  if (chosenState !== null) host.load((chosenState as { model: unknown }).model);
  else host.load(start);
  return { explored: leaves.length, truncated, leaves, chosen: target };
}

/**
 * A memory_lock writer that revokes exported dma-bufs: the zap and revoke run inside the dma-buf
 * reservation lock (vfio_pci_dma_buf_move takes each dma-buf's resv under memory_lock), a lock
 * point of its own that an importer's map/unmap also takes.
 */
function writerRevoking(run: () => Step): Phase[] {
  return [
    { name: 'writer.locked', acquire: [{ lock: 'memory_lock', mode: 'write' }], release: [], run: () => null },
    {
      name: 'writer.revoke',
      acquire: [{ lock: 'dmabuf_resv', mode: 'write' }],
      release: ['dmabuf_resv'],
      run: (ctx) => {
        ctx.scratch.step = run();
        return null;
      },
    },
    { name: 'writer.unlock', acquire: [], release: ['memory_lock'], run: (ctx) => ctx.scratch.step as Step },
  ];
}

/** One step per event from all interleavings: the set of outcomes when they differ (`may: ...`). */
export function mergeLeaves(x: Exploration, index: number): Step {
  const chosen = x.leaves[x.chosen]?.[index] ?? x.leaves[0][index];
  const byOutcome = new Map<string, { outcome: Step['outcome']; rules: Set<string> }>();
  for (const l of x.leaves) {
    const s = l[index];
    const key = renderOutcome(s.outcome);
    const e = byOutcome.get(key) ?? { outcome: s.outcome, rules: new Set<string>() };
    e.rules.add(s.rule);
    byOutcome.set(key, e);
  }
  const keys = [...byOutcome.keys()].sort();
  const rules = keys.map((key) => [...byOutcome.get(key)!.rules].sort().join(',')).join('|');
  if (keys.length === 1) return { outcome: chosen.outcome, rule: rules, effects: chosen.effects };
  return { outcome: { kind: 'may', outcomes: keys.map((key) => byOutcome.get(key)!.outcome) }, rule: rules, effects: chosen.effects };
}

