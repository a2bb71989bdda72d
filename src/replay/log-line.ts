// The outcome log: one stable, diffable line per event. Goldens are made of these lines, so any
// change here changes every golden (run `vfio-replay check --update` and review the diff).
//
//   #0012 host  cfg-write 0x04 len=2 val=0x0000          => ok zap(bar0) [config.command.mse-clear-zaps]
//   #0013 host  mem-read bar0+0x8 len=4                  => SIGBUS BUS_ADRERR [fault.memory-disabled]  != observed: ok
//
// Columns: event index (0-based, position in the trace), side, the event as the text twin writes it
// (without seq/t/tid/observed; `pid=N` and `race=N` kept because the process and race rules depend
// on them), `=>`, the
// predicted outcome, the effects in the order the model reported them, the rule that decided, and
// the divergence mark when the observation disagrees (see src/replay/compare.ts), then the device
// note when the observation showed the hardware otherwise and the model adopted it
// (src/model/kernel/learn.ts):
//
//   #0007 host  cfg-read 0xcc len=2                          => ok ret=2 data=0000 [config.read]  device: device refuses D3hot, stays in D0 (PMCSR reads D0)

import { renderEffect, renderOutcome, type Step } from '../model/outcome.js';

const EVENT_COLUMN = 44;
// Hot path (one call per event in a replay of millions): padding by slicing a constant string and
// plain concatenation, no arrays, no padStart/padEnd.
const SPACES = ' '.repeat(EVENT_COLUMN);

export function indexLabel(index: number): string {
  if (index >= 1000) return '#' + index;
  if (index >= 100) return '#0' + index;
  if (index >= 10) return '#00' + index;
  return '#000' + index;
}

/**
 * `desc` is the text-twin form of the event (describeEvent). Guest events are labeled by side, so
 * their `guest-` prefix is dropped.
 */
export function renderLine(index: number, guest: boolean, desc: string, overlap: number, s: Step, divergence: string | null, note: string | null = null, pid = 0): string {
  let ev = guest && desc.startsWith('guest-') ? desc.slice(6) : desc;
  // The process matters as much as the race mark: a forked child has its own VMAs and fds.
  if (pid !== 0) ev += ' pid=' + pid;
  if (overlap !== 0) ev += ' race=' + overlap;
  if (ev.length < EVENT_COLUMN) ev += SPACES.slice(ev.length);
  let line = indexLabel(index) + (guest ? ' guest ' : ' host  ') + ev + ' => ' + renderOutcome(s.outcome);
  const effects = s.effects;
  for (let i = 0; i < effects.length; i++) line += ' ' + renderEffect(effects[i]);
  line += ' [' + s.rule + ']';
  if (divergence !== null) line += '  != observed: ' + divergence;
  if (note !== null) line += '  device: ' + note;
  return line;
}

/** The index a log line starts with, or -1 for header/summary lines. */
export function lineIndex(line: string): number {
  if (!line.startsWith('#')) return -1;
  const n = Number.parseInt(line.slice(1, line.indexOf(' ') > 0 ? line.indexOf(' ') : undefined), 10);
  return Number.isNaN(n) ? -1 : n;
}

/** The rule a log line names (`[rule]` after `=>`), or '' when none. */
export function lineRule(line: string): string {
  let mark = line.indexOf('  != observed: ');
  if (mark < 0) mark = line.indexOf('  device: ');
  const body = mark < 0 ? line : line.slice(0, mark);
  if (body.indexOf(' => ') < 0 || !body.endsWith(']')) return '';
  const open = body.lastIndexOf(' [');
  return open < 0 ? '' : body.slice(open + 2, body.length - 1);
}
