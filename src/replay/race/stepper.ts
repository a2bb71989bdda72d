// Between the event stream and the replay engine: events without a race id go straight through;
// the events of a race group (consecutive events sharing one non-zero `race` id) are held until
// the group ends and then explored together (explore.ts). Each gets the set of outcomes its
// interleavings give, or with `--interleaving K` the outcome of interleaving K; the replay goes on
// from the state that interleaving (0 = trace order by default) left.

import { UserError } from '../../errors.js';
import { deepClone, fingerprint } from '../../model/clone.js';
import { VfioPciKernelModel, type KernelState } from '../../model/kernel/index.js';
import { step, type Step } from '../../model/outcome.js';
import type { TraceEvent } from '../../trace/types.js';
import type { Replayer } from '../engine.js';
import { MAX_GROUP_EVENTS, MAX_LEAVES, explore, mergeLeaves, type RaceHost } from './explore.js';

export interface RaceStats {
  /** Race groups explored. */
  groups: number;
  /** Interleavings run over all groups. */
  explored: number;
  /** `--interleaving K`, or null for all of them. */
  interleaving: number | null;
}

export type Stepped = { index: number; ev: TraceEvent; step: Step };

/** Own fields of an object except the shared ones, as a deep copy. */
function fields(o: object, skip: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o)) if (!skip.has(key)) out[key] = (o as Record<string, unknown>)[key];
  return out;
}

const SHARED = new Set(['kernel']);

function hostOf(r: Replayer): RaceHost | null {
  if (!(r.kernel instanceof VfioPciKernelModel)) return null;
  const kernel = r.kernel;
  const vmm = r.vmm as unknown as object | null;
  const opaque = r.opaque as unknown as object;
  type Saved = { kernel: KernelState; vmm: Record<string, unknown> | null; opaque: Record<string, unknown> };
  return {
    kernel,
    apply: (ev) => r.apply(ev),
    save: (): Saved => ({ kernel: kernel.saveState(), vmm: vmm === null ? null : deepClone(fields(vmm, SHARED)), opaque: deepClone(fields(opaque, SHARED)) }),
    load: (s): void => {
      const saved = s as Saved;
      kernel.loadState(saved.kernel);
      if (vmm !== null && saved.vmm !== null) Object.assign(vmm, deepClone(saved.vmm));
      Object.assign(opaque, deepClone(saved.opaque));
    },
    stateKey: () => kernel.stateKey() + (vmm === null ? '' : fingerprint(fields(vmm, SHARED))) + fingerprint(fields(opaque, SHARED)),
  };
}

export class RaceStepper {
  readonly stats: RaceStats;
  private group: { index: number; ev: TraceEvent }[] = [];

  constructor(
    private readonly replayer: Replayer,
    interleaving: number | null,
    private readonly file: string,
    stats?: RaceStats,
  ) {
    this.stats = stats ?? { groups: 0, explored: 0, interleaving };
  }

  /** Whether racing events are waiting for the end of their group. */
  get holding(): boolean {
    return this.group.length > 0;
  }

  /** The events ready to be reported after `ev` arrives (none while a group is still open). */
  push(index: number, ev: TraceEvent): Stepped[] {
    const out: Stepped[] = [];
    if (this.group.length > 0 && ev.overlap !== this.group[0].ev.overlap) out.push(...this.end());
    if (ev.overlap !== 0) this.group.push({ index, ev });
    else out.push({ index, ev, step: this.replayer.apply(ev) });
    return out;
  }

  /** Closes the open group (end of trace or a new header). */
  end(): Stepped[] {
    const g = this.group;
    this.group = [];
    if (g.length === 0) return [];
    const host = hostOf(this.replayer);
    if (g.length === 1 || host === null) return g.map(({ index, ev }) => ({ index, ev, step: this.replayer.apply(ev) }));
    this.stats.groups++;
    if (g.length > MAX_GROUP_EVENTS) return this.tooLarge(g, `more than ${MAX_GROUP_EVENTS} events`);
    const want = this.stats.interleaving;
    const x = explore(
      host,
      g.map((e) => e.ev),
      want,
    );
    if (x.truncated) return this.tooLarge(g, `more than ${MAX_LEAVES} interleavings`);
    this.stats.explored += x.explored;
    if (want !== null && want >= x.explored)
      throw new UserError(`--interleaving ${want}: the race group at event #${g[0].index} (race=${g[0].ev.overlap}) has ${x.explored} interleavings (0..${x.explored - 1})`, {
        file: this.file,
        event: g[0].index,
      });
    return g.map(({ index, ev }, i) => ({ index, ev, step: want === null ? mergeLeaves(x, i) : x.leaves[want][i] }));
  }

  private tooLarge(g: { index: number; ev: TraceEvent }[], why: string): Stepped[] {
    // Nothing is claimed about the group; the events still run in trace order for the state after it.
    return g.map(({ index, ev }) => {
      this.replayer.apply(ev);
      return { index, ev, step: step({ kind: 'unsupported', reason: `race group too large to explore (${why})` }, 'race.group-too-large') };
    });
  }
}
