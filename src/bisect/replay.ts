// Replays an in-memory trace at one version point through the replay engine, keeping per event
// what bisect compares (outcome, effects) and shows (the outcome-log line, exactly as `replay`
// prints it). Bisect replays the same trace up to ceil(log2 N)+2 times, so it decodes it once.

import { renderEffect, renderOutcome } from '../model/outcome.js';
import { renderLine } from '../replay/log-line.js';
import { Replayer } from '../replay/engine.js';
import { RaceStepper, type Stepped } from '../replay/race/stepper.js';
import { describeEvent } from '../trace/index.js';
import { isGuestEvent, type Trace } from '../trace/types.js';
import type { EventResult, ReplayFn, VersionPoint, VersionRun } from './types.js';

export function replayAt(trace: Trace, point: VersionPoint): VersionRun {
  const replayer = new Replayer(trace.header, { kernel: point.kernel, vmm: point.vmm });
  const events: EventResult[] = [];
  // Race groups are explored as `replay` explores them (their events get the set of outcomes);
  // each event is judged right after its step, as in run.ts (judging lets the model learn).
  const races = new RaceStepper(replayer, null, '');
  const judge = ({ index: i, ev, step: s }: Stepped): void => {
    const guest = isGuestEvent(ev);
    const desc = describeEvent(ev);
    const divergence = replayer.judge(ev, s);
    const line = renderLine(i, guest, desc, ev.overlap, s, divergence, replayer.note, ev.pid ?? 0);
    events.push({
      index: i,
      line,
      what: (guest ? 'guest ' : 'host ') + (guest && desc.startsWith('guest-') ? desc.slice(6) : desc),
      kind: s.outcome.kind,
      outcome: renderOutcome(s.outcome),
      effects: s.effects.map(renderEffect),
      rule: s.rule,
      versionUnknown: s.outcome.kind === 'unsupported' && s.outcome.versionUnknown === true,
    });
  };
  trace.events.forEach((ev, i) => {
    if (ev.overlap === 0 && !races.holding) judge({ index: i, ev, step: replayer.apply(ev) });
    else races.push(i, ev).forEach(judge);
  });
  races.end().forEach(judge);
  return { point, events };
}

/** A ReplayFn over one trace, counting the replays it performs (for the report and the benchmark). */
export function traceReplayer(trace: Trace): ReplayFn & { count: () => number } {
  let n = 0;
  const fn = (point: VersionPoint): VersionRun => {
    n++;
    return replayAt(trace, point);
  };
  return Object.assign(fn, { count: () => n });
}
