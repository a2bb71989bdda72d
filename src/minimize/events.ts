// Event-level passes of `minimize`: whole groups first (a thread, every guest event, every read),
// then ddmin over single events, then repeated accesses folded into one. Each pass returns the
// smallest candidate it found that still holds; pinned events (the one the goal is about) stay.

import { describeEvent } from '../trace/text-print.js';
import { isGuestEvent, type TraceEvent } from '../trace/types.js';
import { ddmin } from './ddmin.js';
import type { Candidate } from './goal.js';
import type { Session } from './session.js';

const READS = new Set(['cfg-read', 'region-read', 'mem-read', 'guest-cfg-read', 'guest-mmio-read']);

/** The candidate restricted to the events whose original index is in `keep`. */
export function restrict(c: Candidate, keep: ReadonlySet<number>): Candidate {
  const events: TraceEvent[] = [];
  const origin: number[] = [];
  for (let i = 0; i < c.events.length; i++) {
    if (!keep.has(c.origin[i])) continue;
    events.push(c.events[i]);
    origin.push(c.origin[i]);
  }
  return { header: c.header, events, origin };
}

/** Tries dropping every unpinned event `drop` selects, all at once. */
function dropWhere(c: Candidate, s: Session, pinned: ReadonlySet<number>, drop: (e: TraceEvent) => boolean): Candidate {
  const keep = new Set<number>();
  let dropped = 0;
  c.events.forEach((e, i) => {
    if (pinned.has(c.origin[i]) || !drop(e)) keep.add(c.origin[i]);
    else dropped++;
  });
  if (dropped === 0) return c;
  const next = restrict(c, keep);
  return s.holds(next) ? next : c;
}

export function dropGroups(c: Candidate, s: Session, pinned: ReadonlySet<number>): Candidate {
  const tids = [...new Set(c.events.map((e) => e.tid))];
  if (tids.length > 1) for (const tid of tids) c = dropWhere(c, s, pinned, (e) => e.tid === tid);
  c = dropWhere(c, s, pinned, (e) => isGuestEvent(e));
  c = dropWhere(c, s, pinned, (e) => READS.has(e.kind));
  return c;
}

export function ddminEvents(c: Candidate, s: Session, pinned: ReadonlySet<number>): Candidate {
  const free = c.origin.filter((o) => !pinned.has(o));
  // Dropping every free event at once is the cheapest possible win: try it before splitting.
  const bare = restrict(c, pinned);
  if (free.length > 0 && s.holds(bare)) return bare;
  const kept = ddmin(free, (items) => s.holds(restrict(c, new Set([...items, ...pinned]))));
  return restrict(c, new Set([...kept, ...pinned]));
}

/** Repeated accesses (the same event text) folded to their last occurrence, then their first. */
export function mergeRepeats(c: Candidate, s: Session, pinned: ReadonlySet<number>): Candidate {
  const groups = new Map<string, number[]>();
  c.events.forEach((e, i) => {
    const key = describeEvent(e);
    const g = groups.get(key) ?? [];
    g.push(c.origin[i]);
    groups.set(key, g);
  });
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    for (const survivor of [group[group.length - 1], group[0]]) {
      const keep = new Set(c.origin.filter((o) => !group.includes(o) || o === survivor || pinned.has(o)));
      const next = restrict(c, keep);
      if (next.events.length < c.events.length && s.holds(next)) {
        c = next;
        break;
      }
    }
  }
  return c;
}
