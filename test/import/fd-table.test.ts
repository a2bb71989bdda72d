// The importer's fd table (src/import/fd-table.ts) against a reference model of the kernel's: fd
// numbers of a process point at open file descriptions; dup/dup2/dup3/F_DUPFD add numbers for one
// description, fork copies the table (same descriptions), threads share it, execve drops the
// close-on-exec numbers, and a description is closed for a process only with its last number there.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRESH_NAMES, FdTable, type Closed, type OpenFile } from '../../src/import/fd-table.js';
import type { FdKind } from '../../src/import/ioctl-names.js';

const sel = { iommuGroup: 12, cdev: null, bdf: '0000:01:00.0' };
const info = (kind: FdKind) => ({ kind, vcpu: -1, group: kind === 'group' ? 12 : -1, ours: kind === 'device' });

describe('fd table: aliases', () => {
  it('dup2 onto a fixed number keeps the file and its name; closing the first number closes nothing', () => {
    const t = new FdTable(sel);
    t.created(1, 5, info('iommufd'), '/dev/iommu');
    expect(t.dup(1, 5, '/dev/iommu', 100, false)).toBeNull();
    const c = t.close(1, 5)!;
    expect(c.lastInProcess).toBe(false);
    expect(c.released).toBe(false);
    expect(t.resolve(1, 100, '/dev/iommu')).toMatchObject({ kind: 'iommufd', fd: 100, name: 5 });
    expect(t.nameOf(1, 100)).toBe(5);
    const last = t.close(1, 100)!;
    expect(last).toMatchObject({ lastInProcess: true, released: true, fd: 100 });
  });

  it('dup2 onto an open number closes what it had (maybe its last number)', () => {
    const t = new FdTable(sel);
    t.created(1, 6, info('group'), '/dev/vfio/12');
    t.created(1, 100, info('other'), '/dev/null');
    const closed = t.dup(1, 6, '/dev/vfio/12', 100, false)!;
    expect(closed.file.info.path).toBe('/dev/null');
    expect(closed).toMatchObject({ fd: 100, lastInProcess: true, released: true });
  });

  it('a number never seen (opened before the capture) is named where first seen', () => {
    const t = new FdTable(sel);
    t.dup(1, 30, '/dev/vfio/devices/vfio0', 40, true);
    expect(t.resolve(1, 40, null)).toMatchObject({ kind: 'device', name: 30 });
    expect(t.cloexec(1, 40)).toBe(true);
    expect(t.cloexec(1, 30)).toBe(false);
  });

  it('a set-up file opened at the number an alias-kept one is named by gets a fresh name', () => {
    const t = new FdTable(sel);
    t.created(1, 7, info('container'), null);
    t.dup(1, 7, null, 100, false);
    t.close(1, 7);
    const g = t.created(1, 7, info('group'), null);
    expect(g.name).toBe(FRESH_NAMES);
    expect(t.renamed).toBe(1);
    expect(t.newestContainer()).toBe(7);
    // A file of another namespace (the device) keeps its number: the model does not key it by number.
    t.close(1, 7);
    expect(t.created(1, 7, info('device'), null).name).toBe(7);
  });

  it('fork copies the table, a thread shares it; a child closing its copy is its own last close', () => {
    const t = new FdTable(sel);
    t.created(1, 9, info('device'), null, true);
    t.cloned(1, 2, false);
    t.cloned(1, 3, true);
    expect(t.close(2, 9)).toMatchObject({ lastInProcess: true, released: false });
    expect(t.resolve(3, 9, null).kind).toBe('device');
    expect(t.close(3, 9)).toMatchObject({ lastInProcess: true, released: true });
    expect(t.resolve(1, 9, null).kind).toBe('other');
  });

  it("a child gone for the device (exited, or exec'd without a VFIO fd) has no numbers, not the VMM's", () => {
    const t = new FdTable(sel);
    t.created(1, 9, info('device'), null, true);
    t.cloned(1, 2, false);
    t.exited(2);
    expect(t.resolve(2, 9, null).kind).toBe('other');
    expect(t.close(2, 9)).toBeNull();
    expect(t.resolve(1, 9, null).kind).toBe('device');
    expect(t.open(1)[0]![1].refs).toBe(1);
  });

  it('execve drops the close-on-exec numbers only', () => {
    const t = new FdTable(sel);
    t.created(1, 5, info('group'), null);
    t.dup(1, 5, null, 6, true);
    t.created(1, 7, info('container'), null, true);
    t.setCloexec(1, 7, false);
    const dropped = t.exec(1);
    expect(dropped.map((c) => c.fd)).toEqual([6]);
    expect(dropped[0]!.lastInProcess).toBe(false);
    expect(t.open(1).map(([fd]) => fd)).toEqual([5, 7]);
  });
});

// ---- the reference model and the property ---------------------------------------------------

type Op =
  | { op: 'open'; task: number; kind: FdKind; cloexec: boolean }
  | { op: 'dup'; task: number; pick: number }
  | { op: 'dup2'; task: number; pick: number; to: number }
  | { op: 'dup3'; task: number; pick: number; to: number }
  | { op: 'dupfd'; task: number; pick: number; min: number; cloexec: boolean }
  | { op: 'setfd'; task: number; pick: number; on: boolean }
  | { op: 'close'; task: number; pick: number }
  | { op: 'fork'; task: number }
  | { op: 'thread'; task: number }
  | { op: 'exec'; task: number };

const task = fc.nat(5);
const pick = fc.nat(20);
const fdNum = fc.integer({ min: 0, max: 12 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('open' as const), task, kind: fc.constantFrom<FdKind>('device', 'group', 'container', 'iommufd', 'other'), cloexec: fc.boolean() }),
  fc.record({ op: fc.constant('dup' as const), task, pick }),
  fc.record({ op: fc.constant('dup2' as const), task, pick, to: fdNum }),
  fc.record({ op: fc.constant('dup3' as const), task, pick, to: fdNum }),
  fc.record({ op: fc.constant('dupfd' as const), task, pick, min: fdNum, cloexec: fc.boolean() }),
  fc.record({ op: fc.constant('setfd' as const), task, pick, on: fc.boolean() }),
  fc.record({ op: fc.constant('close' as const), task, pick }),
  fc.record({ op: fc.constant('fork' as const), task }),
  fc.record({ op: fc.constant('thread' as const), task }),
  fc.record({ op: fc.constant('exec' as const), task }),
);

interface RefSlot {
  desc: number;
  cloexec: boolean;
}

/** The kernel's view, kept the plain way: tables of (description, flag), refs counted on demand. */
class Reference {
  readonly tables = new Map<number, Map<number, RefSlot>>([[0, new Map()]]);
  readonly taskTable = new Map<number, number>([[1, 0]]);
  private nextTable = 1;
  private nextDesc = 1;

  table(tid: number): Map<number, RefSlot> {
    return this.tables.get(this.taskTable.get(tid)!)!;
  }
  lowestFree(tid: number, min = 0): number {
    const t = this.table(tid);
    let fd = min;
    while (t.has(fd)) fd++;
    return fd;
  }
  refs(desc: number): number {
    let n = 0;
    for (const t of this.tables.values()) for (const s of t.values()) if (s.desc === desc) n++;
    return n;
  }
  open(tid: number, cloexec: boolean): number {
    const fd = this.lowestFree(tid);
    this.table(tid).set(fd, { desc: this.nextDesc++, cloexec });
    return fd;
  }
  /** Removes `fd`; what the table must report. */
  close(tid: number, fd: number): { lastInProcess: boolean; released: boolean } | null {
    const t = this.table(tid);
    const s = t.get(fd);
    if (!s) return null;
    t.delete(fd);
    return { lastInProcess: ![...t.values()].some((x) => x.desc === s.desc), released: this.refs(s.desc) === 0 };
  }
  dup(tid: number, from: number, to: number, cloexec: boolean) {
    const s = this.table(tid).get(from)!;
    const closed = from === to ? null : this.close(tid, to);
    if (from !== to) this.table(tid).set(to, { desc: s.desc, cloexec });
    return closed;
  }
  fork(tid: number, child: number, share: boolean): void {
    if (share) {
      this.taskTable.set(child, this.taskTable.get(tid)!);
      return;
    }
    const id = this.nextTable++;
    this.tables.set(id, new Map([...this.table(tid)].map(([fd, s]) => [fd, { ...s }])));
    this.taskTable.set(child, id);
  }
  exec(tid: number): { fd: number; lastInProcess: boolean; released: boolean }[] {
    const t = this.table(tid);
    const out = [];
    for (const fd of [...t.keys()].sort((a, b) => a - b)) if (t.get(fd)!.cloexec) out.push({ fd, ...this.close(tid, fd)! });
    return out;
  }
}

const brief = (c: Closed | null) => (c === null ? null : { lastInProcess: c.lastInProcess, released: c.released });

describe('fd table against the reference model', () => {
  it('random open/dup/dup2/dup3/F_DUPFD/F_SETFD/close/fork/thread/execve: same files, flags, refcounts and closes', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const t = new FdTable(sel);
        const ref = new Reference();
        const tids = [1];
        let nextTid = 2;
        // Reference description id <-> the table's OpenFile, fixed at first meeting.
        const fileOf = new Map<number, OpenFile>();
        for (const o of ops) {
          const tid = tids[o.task % tids.length]!;
          const open = [...ref.table(tid).keys()].sort((a, b) => a - b);
          const chosen = open.length === 0 ? -1 : open[('pick' in o ? o.pick : 0) % open.length]!;
          switch (o.op) {
            case 'open': {
              const fd = ref.open(tid, o.cloexec);
              t.created(tid, fd, info(o.kind), null, o.cloexec);
              break;
            }
            case 'dup':
            case 'dup2':
            case 'dup3':
            case 'dupfd': {
              if (chosen < 0) break;
              if (o.op === 'dup3' && o.to === chosen) break; // EINVAL: nothing changes
              const to = o.op === 'dup' ? ref.lowestFree(tid) : o.op === 'dupfd' ? ref.lowestFree(tid, o.min) : o.to;
              const cloexec = o.op === 'dup3' || (o.op === 'dupfd' && o.cloexec);
              // dup2(fd, fd) keeps the flag; the others set it as asked.
              const keep = o.op === 'dup2' && to === chosen;
              expect(brief(t.dup(tid, chosen, null, to, keep ? t.cloexec(tid, to) : cloexec))).toEqual(ref.dup(tid, chosen, to, keep ? ref.table(tid).get(to)!.cloexec : cloexec));
              break;
            }
            case 'setfd':
              if (chosen < 0) break;
              t.setCloexec(tid, chosen, o.on);
              ref.table(tid).get(chosen)!.cloexec = o.on;
              break;
            case 'close':
              if (chosen < 0) break;
              expect(brief(t.close(tid, chosen))).toEqual(ref.close(tid, chosen));
              break;
            case 'fork':
            case 'thread': {
              const child = nextTid++;
              tids.push(child);
              t.cloned(tid, child, o.op === 'thread');
              ref.fork(tid, child, o.op === 'thread');
              break;
            }
            case 'exec':
              expect(t.exec(tid).map((c) => ({ fd: c.fd, ...brief(c) }))).toEqual(ref.exec(tid));
              break;
          }
          // Every task's numbers: the same files (one table file per reference description),
          // close-on-exec flags and reference counts.
          for (const x of tids) {
            const mine = t.open(x);
            const theirs = [...ref.table(x)].sort((a, b) => a[0] - b[0]);
            expect(mine.map(([fd]) => fd)).toEqual(theirs.map(([fd]) => fd));
            mine.forEach(([fd, f], i) => {
              const desc = theirs[i]![1].desc;
              const known = fileOf.get(desc);
              if (known === undefined) fileOf.set(desc, f);
              else expect(f).toBe(known);
              expect(f.refs).toBe(ref.refs(desc));
              expect(t.cloexec(x, fd)).toBe(theirs[i]![1].cloexec);
            });
          }
          // No two live container/group files share a name (the model knows them by it).
          const names = new Map<number, OpenFile>();
          for (const x of tids)
            for (const [, f] of t.open(x)) {
              if (f.info.kind !== 'container' && f.info.kind !== 'group') continue;
              const other = names.get(f.name);
              if (other !== undefined) expect(other).toBe(f);
              names.set(f.name, f);
            }
        }
      }),
      { numRuns: 300 },
    );
  });
});
