// Value passes of `minimize`: written values shrunk (zero first, then one set bit cleared at a
// time, highest first, so the bits that matter are what remains) and BAR/region offsets moved to
// 0. Guest physical addresses are left alone: they are where the VMM placed the BAR.

import { leBytes, leValue } from '../trace/text-lex.js';
import type { TraceEvent } from '../trace/types.js';
import type { Candidate } from './goal.js';
import type { Session } from './session.js';

function withEvent(c: Candidate, i: number, e: TraceEvent): Candidate {
  const events = c.events.slice();
  events[i] = e;
  return { header: c.header, events, origin: c.origin };
}

/** The written value of an event as a number, and how to put a new one back; null = none. */
function writtenValue(e: TraceEvent): { value: bigint; with: (v: bigint) => TraceEvent } | null {
  switch (e.kind) {
    case 'mem-write':
    case 'guest-cfg-write':
    case 'guest-mmio-write':
      return { value: e.value, with: (v) => ({ ...e, value: v }) };
    case 'cfg-write':
    case 'region-write':
      return { value: leValue(e.data), with: (v) => ({ ...e, data: leBytes(v, e.data.length) }) };
    default:
      return null;
  }
}

function withOffsetZero(e: TraceEvent): TraceEvent | null {
  switch (e.kind) {
    case 'mem-read':
    case 'mem-write':
    case 'region-read':
    case 'region-write':
      return e.offset === 0n ? null : { ...e, offset: 0n };
    default:
      return null;
  }
}

export function shrinkValues(c: Candidate, s: Session): Candidate {
  for (let i = 0; i < c.events.length; i++) {
    const moved = withOffsetZero(c.events[i]);
    if (moved !== null) {
      const next = withEvent(c, i, moved);
      if (s.holds(next)) c = next;
    }
    const w = writtenValue(c.events[i]);
    if (w === null || w.value === 0n) continue;
    const zero = withEvent(c, i, w.with(0n));
    if (s.holds(zero)) {
      c = zero;
      continue;
    }
    let value = w.value;
    for (let bit = BigInt(value.toString(2).length - 1); bit >= 0n; bit--) {
      const mask = 1n << bit;
      if ((value & mask) === 0n) continue;
      const next = withEvent(c, i, w.with(value & ~mask));
      if (s.holds(next)) {
        c = next;
        value &= ~mask;
      }
    }
  }
  return c;
}
