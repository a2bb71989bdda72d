// The data behind the HTML report and the Perfetto export: one replay of a trace under one model
// selection, event by event, with the device's state after each event in lanes (power, MEM/IO
// decode, each BAR's user mapping, runtime low power, each DMABUF, the VMM's guest mapping of each
// BAR). The state comes from the kernel model's read-only view and from the effects every step
// reports; nothing is re-derived from version ids.
// It is an observer of the same replay loop `replay` and `check` run (src/replay/run.ts), so what
// the report shows is what they judge: device traits learned from observations (device notes,
// not divergences), race groups explored, outcomes after an opaque ioctl, the same log lines.

import { renderEffect, renderOutcome, type Effect, type Step } from '../model/outcome.js';
import type { ModelSelection, Replayer } from '../replay/engine.js';
import { replayFile, type ReplaySummary } from '../replay/run.js';
import { describeEvent } from '../trace/text-print.js';
import { isGuestEvent, type TraceEvent } from '../trace/types.js';

export interface TimelineEvent {
  index: number;
  side: 'host' | 'guest';
  tid: number;
  tsNs: string;
  what: string;
  line: string;
  outcome: string;
  kind: string;
  effects: string[];
  rule: string;
  /** The observation the prediction disagrees with, or null. */
  divergence: string | null;
  /** What the observation showed of the device that the model then adopted (not a divergence), or null. */
  note: string | null;
}

export interface Lane {
  name: string;
  /** The lane's value after each event ('' = nothing to show). */
  values: string[];
}

export interface Timeline {
  selection: ModelSelection;
  events: TimelineEvent[];
  lanes: Lane[];
  /** The replay's summary: counts, races explored, outcomes after opaque ioctls. */
  summary: ReplaySummary;
}

type BarMap = 'mapped' | 'live' | 'zapped';

/** Lane state, updated from one step's effects. */
class LaneState {
  readonly bars = new Map<number, BarMap>();
  readonly addrs = new Map<string, number>();
  readonly guest = new Map<number, 'mapped' | 'unmapped'>();
  readonly dmabufs = new Map<number, 'live' | 'revoked'>();
  lowPower = false;

  apply(ev: TraceEvent, ok: boolean, effects: readonly Effect[]): void {
    if (ok && ev.kind === 'mmap' && ev.region < 6) {
      this.bars.set(ev.region, 'mapped');
      this.addrs.set(ev.addr.toString(), ev.region);
    }
    if (ok && ev.kind === 'munmap') {
      const bar = this.addrs.get(ev.addr.toString());
      if (bar !== undefined) this.bars.delete(bar);
    }
    for (const e of effects) {
      switch (e.kind) {
        case 'forward': {
          // A VMM maps BARs itself at start-up: "mmap bar0 len=0x20000 => ok".
          const m = /^mmap bar(\d) .*=> ok/.exec(e.what);
          if (m !== null && !this.bars.has(Number(m[1]))) this.bars.set(Number(m[1]), 'mapped');
          break;
        }
        case 'populate':
          this.bars.set(e.bar, 'live');
          break;
        case 'zap':
          for (const b of e.bars) if (this.bars.has(b)) this.bars.set(b, 'zapped');
          break;
        case 'guest-map':
          this.guest.set(e.bar, 'mapped');
          break;
        case 'guest-unmap':
          this.guest.set(e.bar, 'unmapped');
          break;
        case 'dmabuf-export':
          this.dmabufs.set(e.dmabuf, 'live');
          break;
        case 'revoke':
          this.dmabufs.set(e.dmabuf, 'revoked');
          break;
        case 'unrevoke':
          this.dmabufs.set(e.dmabuf, 'live');
          break;
        case 'low-power':
          this.lowPower = e.what === 'enter';
          break;
        default:
          break;
      }
    }
  }
}

/** Replays `file` (a .pb or its text twin) under `selection` and records every event and the lanes. */
export async function buildTimeline(file: string, selection: ModelSelection): Promise<Timeline> {
  const st = new LaneState();
  const events: TimelineEvent[] = [];
  const rows: Record<string, string>[] = [];
  const event = (line: string, index: number, ev: TraceEvent, s: Step, divergence: string | null, note: string | null, r: Replayer): void => {
    const guest = isGuestEvent(ev);
    const desc = describeEvent(ev);
    events.push({
      index,
      side: guest ? 'guest' : 'host',
      tid: ev.tid,
      tsNs: ev.tsNs.toString(),
      what: guest && desc.startsWith('guest-') ? desc.slice(6) : desc,
      line,
      outcome: renderOutcome(s.outcome),
      kind: s.outcome.kind,
      effects: s.effects.map(renderEffect),
      rule: s.rule,
      divergence,
      note,
    });
    st.apply(ev, s.outcome.kind === 'ok', s.effects);
    const view = r.kernel.view;
    const cmd = view.isOpen ? Number(view.peekConfig(4, 2)) : 0;
    const row: Record<string, string> = {
      power: view.powerState,
      'MEM decode': view.isOpen ? (cmd & 2 ? 'on' : 'off') : '',
      'IO decode': view.isOpen ? (cmd & 1 ? 'on' : 'off') : '',
      'low power': st.lowPower ? 'engaged' : '',
    };
    for (const [bar, m] of st.bars) row[`BAR${bar} mmap`] = m;
    for (const [id, d] of st.dmabufs) row[`dma-buf ${id}`] = d;
    for (const [bar, g] of st.guest) row[`guest BAR${bar}`] = g;
    rows.push(row);
  };
  const summary = await replayFile(file, { kernel: selection.kernel, vmm: selection.vmm }, { event });
  // Lanes in a fixed order; a lane that never shows anything is left out.
  const names = new Set<string>(['power', 'MEM decode', 'IO decode']);
  for (const row of rows) for (const k of Object.keys(row)) if (k.startsWith('BAR')) names.add(k);
  names.add('low power');
  for (const row of rows) for (const k of Object.keys(row)) if (k.startsWith('dma-buf')) names.add(k);
  for (const row of rows) for (const k of Object.keys(row)) if (k.startsWith('guest')) names.add(k);
  const lanes = [...names]
    .map((name) => ({ name, values: rows.map((row) => row[name] ?? '') }))
    .filter((l) => l.values.some((v) => v !== ''));
  return { selection, events, lanes, summary };
}
