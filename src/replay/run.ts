// Streams one trace through the engine. Memory stays bounded whatever the trace size: events are
// not kept; only the last K rendered lines (for the first divergence's context) and a few
// references (the first divergence, the last state change before it).

import type { Step } from '../model/outcome.js';
import { renderLine } from './log-line.js';
import type { TraceEvent, TraceHeader } from '../trace/types.js';
import { UserError } from '../errors.js';
import { Replayer, type ModelSelection } from './engine.js';
import { selectVersions, type VersionRequest } from './select-versions.js';
import { tracePacketsSync } from './trace-source.js';
import { describeEvent } from '../trace/text-print.js';
import { RaceStepper, type RaceStats, type Stepped } from './race/stepper.js';

export interface ReplayOptions extends VersionRequest {
  /** Lines of context kept before the first divergence (default 5). */
  context?: number;
  /** Device notes count as divergences (`--strict-device`). */
  strictDevice?: boolean;
  /** Replay interleaving K of every race group instead of all of them (src/replay/race/). */
  interleaving?: number;
}

export interface ReplayStart {
  header: TraceHeader;
  /** 1 for the first header; a concatenated trace has more (each resets the models). */
  headerNumber: number;
  selection: ModelSelection;
  warnings: string[];
}

export interface ReplayObserver {
  start?(s: ReplayStart): void;
  /**
   * Called once per event, in order. Keep it cheap: it is the hot path. `note` = the device note;
   * `r` = the replayer that stepped it (its models' read-only views show the state after the event).
   */
  event(line: string, index: number, ev: TraceEvent, s: Step, divergence: string | null, note: string | null, r: Replayer): void;
  /** Called every few thousand events and at the end, so an observer can wait for a slow stdout. */
  flush?(): Promise<void> | void;
  /** Checked after each flush: true ends the replay early (the reader of the output went away). */
  stopped?(): boolean;
}

export interface Divergence {
  index: number;
  line: string;
  rule: string;
  /** Up to K lines before it, oldest first. */
  context: string[];
  /** The last line before it whose event changed state (had effects): usually the cause. */
  lastChange: string | null;
}

export interface ReplaySummary {
  path: string;
  selection: ModelSelection;
  warnings: string[];
  events: number;
  host: number;
  guest: number;
  divergences: number;
  unsupported: number;
  /** Observations that showed the hardware otherwise than the model (adopted; not divergences). */
  deviceNotes: number;
  first: Divergence | null;
  firstDeviceNote: { index: number; line: string; note: string } | null;
  firstUnsupported: { index: number; line: string; rule: string } | null;
  /** Outcomes unsupported because an earlier ioctl's arguments were not captured (opaque.ts). */
  afterOpaque: number;
  firstOpaque: { seq: bigint; name: string } | null;
  /** Race groups explored and the interleavings run (src/replay/race/). */
  races: RaceStats;
}

const FLUSH_EVERY = 4096;

export async function replayFile(path: string, opts: ReplayOptions, observer: ReplayObserver): Promise<ReplaySummary> {
  const k = Math.max(0, opts.context ?? 5);
  const ring: string[] = new Array<string>(k);
  let ringPos = 0;
  let ringLen = 0;
  let lastChange: string | null = null;

  let replayer: Replayer | null = null;
  let selection: ModelSelection | null = null;
  let warnings: string[] = [];
  let headers = 0;
  const sum: ReplaySummary = {
    path,
    selection: { kernel: '', vmm: null },
    warnings: [],
    events: 0,
    host: 0,
    guest: 0,
    divergences: 0,
    unsupported: 0,
    deviceNotes: 0,
    first: null,
    firstDeviceNote: null,
    firstUnsupported: null,
    afterOpaque: 0,
    firstOpaque: null,
    races: { groups: 0, explored: 0, interleaving: opts.interleaving ?? null },
  };
  const strict = opts.strictDevice === true;
  let sinceFlush = 0;
  let races: RaceStepper | null = null;
  let stop = false;

  // Everything a stepped event feeds: counts, divergence, device note, context ring, the observer.
  // Synchronous (the loop awaits only at flushes): true when it is time to flush.
  const report = (r: Replayer, index: number, ev: TraceEvent, s: Step): boolean => {
    const guest = ev.kind.charCodeAt(0) === 103; /* 'g' */
    if (guest) sum.guest++;
    else sum.host++;
    const divergence = ev.observed === undefined ? null : r.judge(ev, s, strict);
    const note = ev.observed === undefined ? null : r.note;
    const line = renderLine(index, guest, describeEvent(ev), ev.overlap, s, divergence, note, ev.pid ?? 0);
    if (note !== null) {
      if (sum.deviceNotes === 0) sum.firstDeviceNote = { index, line, note };
      sum.deviceNotes++;
    }
    if (divergence !== null) {
      if (sum.divergences === 0) {
        const context: string[] = [];
        for (let i = 0; i < ringLen; i++) context.push(ring[(ringPos - ringLen + i + k) % k]);
        sum.first = { index, line, rule: s.rule, context, lastChange };
      }
      sum.divergences++;
    }
    if (s.outcome.kind === 'unsupported') {
      if (sum.unsupported === 0) sum.firstUnsupported = { index, line, rule: s.rule };
      sum.unsupported++;
    }
    if (sum.divergences === 0) {
      if (k > 0) {
        ring[ringPos] = line;
        ringPos = (ringPos + 1) % k;
        if (ringLen < k) ringLen++;
      }
      if (s.effects.length > 0) lastChange = line;
    }
    sum.events++;
    observer.event(line, index, ev, s, divergence, note, r);
    if (++sinceFlush < FLUSH_EVERY) return false;
    sinceFlush = 0;
    return true;
  };
  const flush = async (): Promise<void> => {
    await observer.flush?.();
    if (observer.stopped?.() === true) stop = true;
  };
  const drain = async (r: Replayer, xs: Stepped[]): Promise<void> => {
    for (const x of xs) if (!stop && report(r, x.index, x.ev, x.step)) await flush();
  };

  // A synchronous loop over the packets (awaiting only at flushes): see tracePacketsSync.
  for (const p of await tracePacketsSync(path)) {
    if (p.type === 'header') {
      headers++;
      if (selection === null) {
        const chosen = selectVersions(p.header, opts, path);
        selection = chosen.selection;
        warnings = chosen.warnings;
      }
      if (races !== null && replayer !== null) await drain(replayer, races.end());
      races = null;
      if (replayer !== null) {
        sum.afterOpaque += replayer.opaque.count;
        sum.firstOpaque ??= replayer.opaque.first;
      }
      replayer = new Replayer(p.header, selection);
      observer.start?.({ header: p.header, headerNumber: headers, selection, warnings });
      // A header prints lines too: count it toward the flush, or a trace of millions of header
      // packets would hold all their output until the end (issue 19: 522 MB).
      if (++sinceFlush >= FLUSH_EVERY) {
        sinceFlush = 0;
        await flush();
        if (stop) break;
      }
      continue;
    }
    if (replayer === null) throw new UserError('event before the trace header', { file: path, event: p.index, offset: p.offset });
    const ev = p.event;
    // Events without a race id take the direct path (the common case, kept as it was).
    if (ev.overlap === 0 && (races === null || !races.holding)) {
      if (report(replayer, p.index, ev, replayer.apply(ev))) await flush();
    } else {
      races ??= new RaceStepper(replayer, opts.interleaving ?? null, path, sum.races);
      await drain(replayer, races.push(p.index, ev));
    }
    if (stop) break;
  }
  if (races !== null && replayer !== null && !stop) await drain(replayer, races.end());
  if (selection === null) throw new UserError('trace has no header', { file: path });
  if (replayer !== null) {
    sum.afterOpaque += replayer.opaque.count;
    sum.firstOpaque ??= replayer.opaque.first;
  }
  await observer.flush?.();
  sum.selection = selection;
  sum.warnings = warnings;
  return sum;
}
