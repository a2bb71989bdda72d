// Bench rows for the interleaving explorer (issue 14 item 6): how many interleavings it explores
// per second over the catalog's race traces, and what one racing pair costs on a long trace (the
// explorer snapshots and restores the whole model per interleaving, so its cost grows with what
// the replay holds, not with the trace length before the pair).

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadTrace } from '../src/trace/index.js';
import type { TraceEvent, TraceHeader } from '../src/trace/types.js';
import { Replayer } from '../src/replay/engine.js';
import { RaceStepper } from '../src/replay/race/stepper.js';
import { median } from './measure.js';

export interface RaceRow {
  what: string;
  value: string;
  target: string;
  verdict: string;
}

/** The model versions a trace's .versions file lists (comments and blank lines dropped). */
function listedVersions(pb: string): string[] {
  const file = pb.replace(/\.pb$/, '.versions');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');
}

/** Replays `events` under `kernel` through the race stepper; returns the interleavings explored. */
function replayRacing(header: TraceHeader, events: readonly TraceEvent[], kernel: string): number {
  const r = new Replayer(header, { kernel, vmm: null });
  const st = new RaceStepper(r, null, 'bench');
  events.forEach((ev, i) => {
    if (ev.overlap === 0 && !st.holding) r.apply(ev);
    else st.push(i, ev);
  });
  st.end();
  return st.stats.explored;
}

/** The catalog's traces that contain a race group, each with its listed versions. */
async function raceTraces(root: string): Promise<{ header: TraceHeader; events: TraceEvent[]; versions: string[] }[]> {
  const dir = join(root, 'traces', 'bugs');
  const out: { header: TraceHeader; events: TraceEvent[]; versions: string[] }[] = [];
  for (const f of readdirSync(dir).sort()) {
    for (const file of readdirSync(join(dir, f)).filter((x) => x.endsWith('.pb'))) {
      const path = join(dir, f, file);
      const t = await loadTrace(path);
      const events = t.events as TraceEvent[];
      if (!events.some((e) => e.overlap !== 0)) continue;
      out.push({ header: t.header, events, versions: listedVersions(path) });
    }
  }
  return out;
}

export async function raceRows(root: string, runs: number): Promise<RaceRow[]> {
  const rows: RaceRow[] = [];
  const traces = await raceTraces(root);
  if (traces.length === 0) return rows;
  let explored = 0;
  const m = await median(runs, () => {
    explored = 0;
    for (const t of traces) for (const v of t.versions) explored += replayRacing(t.header, t.events, v);
    return explored;
  });
  rows.push({
    what: `interleavings explored per second of whole replays: ${traces.length} catalog race traces under their listed versions (${explored} per pass)`,
    value: `${Math.round(explored / m.wallS)} /s`,
    target: '',
    verdict: '',
  });

  // One racing pair (a reset's zap against a fault, as in contended-fault-sigbus) after n plain
  // accesses, against the same trace without the pair.
  const base = traces[0];
  const setup = base.events.slice(0, 3).map((e) => ({ ...e, overlap: 0, tid: 0 }));
  const n = 100_000;
  const plain: TraceEvent[] = [...setup];
  for (let i = 0; i < n; i++) plain.push({ ...base.events[2], seq: BigInt(i + 10), kind: 'mem-read', bar: 0, offset: BigInt((i * 8) % 0x20000), len: 4, overlap: 0, tid: 0 } as TraceEvent);
  const pair: TraceEvent[] = [
    { ...plain[3], seq: BigInt(n + 20), kind: 'ioctl', op: 'reset', tid: 101, overlap: 1 } as TraceEvent,
    { ...plain[3], seq: BigInt(n + 21), kind: 'mem-read', bar: 0, offset: 0x8n, len: 4, tid: 102, overlap: 1 } as TraceEvent,
  ];
  const kernel = 'linux-5.8';
  const without = await median(runs, () => (replayRacing(base.header, plain, kernel), plain.length));
  const withPair = await median(runs, () => (replayRacing(base.header, [...plain, ...pair], kernel), plain.length + 2));
  const extraMs = (withPair.wallS - without.wallS) * 1000;
  rows.push({
    what: `one racing pair (reset vs fault, ${kernel}) after ${n} plain accesses`,
    value: `${extraMs.toFixed(1)} ms over ${(without.wallS * 1000).toFixed(0)} ms without it`,
    target: '',
    verdict: '',
  });
  return rows;
}
