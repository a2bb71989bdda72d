// The bounded-memory import's windows (issue 19 item 3) against the whole-input code they replace:
// for random inputs whose disorder the window covers, the windowed piece gives exactly what the
// whole-input one gives; an input more out of order than the window is refused (WindowExceeded)
// and the import redoes it holding the whole input, saying so.
import fc from 'fast-check';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alignBySequence } from '../../src/import/align.js';
import { EventSpool } from '../../src/import/event-spool.js';
import { importTrace, renderReport } from '../../src/import/importer.js';
import { kWayMerge } from '../../src/import/kway-merge.js';
import { markOverlaps, mergeOrder } from '../../src/import/merge.js';
import { OverlapSpans } from '../../src/import/overlap-spans.js';
import { OverlapStream } from '../../src/import/overlap-stream.js';
import type { QemuEvent } from '../../src/import/qemu-log.js';
import type { ImportedEvent } from '../../src/import/strace-events.js';
import { timeMerge } from '../../src/import/time-merge.js';
import { WindowExceeded, WindowSort } from '../../src/import/window-sort.js';
import { repo, straceDir } from './helpers.js';

/** The largest number of items any item comes after one with a larger key. */
function disorder(keys: readonly number[]): number {
  let worst = 0;
  for (let i = 0; i < keys.length; i++) for (let j = 0; j < i; j++) if (keys[j]! > keys[i]!) worst = Math.max(worst, i - j);
  return worst;
}

function windowSorted(keys: readonly number[], window: number): number[] {
  const w = new WindowSort<number>((i) => BigInt(keys[i]!), window, 'test');
  const out: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    w.push(i);
    while (w.canTake()) out.push(w.take());
  }
  w.end();
  while (w.canTake()) out.push(w.take());
  return out;
}

const stableSorted = (keys: readonly number[]): number[] => keys.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);

describe('WindowSort', () => {
  it('equals a stable sort of the whole stream when the window covers the disorder', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (keys, window) => {
        if (disorder(keys) > window) return;
        expect(windowSorted(keys, window)).toEqual(stableSorted(keys));
      }),
      { numRuns: 400 },
    );
  });

  it('never sorts wrongly: it either equals the stable sort or throws WindowExceeded', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 50 }), fc.integer({ min: 1, max: 8 }), (keys, window) => {
        let out: number[];
        try {
          out = windowSorted(keys, window);
        } catch (e) {
          expect(e).toBeInstanceOf(WindowExceeded);
          expect(disorder(keys)).toBeGreaterThan(window);
          return;
        }
        expect(out).toEqual(stableSorted(keys));
      }),
      { numRuns: 400 },
    );
  });

  it('refuses an item that comes more than the window after a later stamp', () => {
    // 9 is followed 4 items later by 1: a window of 3 cannot hold that, a window of 4 can.
    const keys = [9, 10, 11, 12, 1];
    expect(() => windowSorted(keys, 3)).toThrow(WindowExceeded);
    expect(windowSorted(keys, 4)).toEqual([4, 0, 1, 2, 3]);
  });

  it('says whether it had to reorder', () => {
    const w = new WindowSort<number>(BigInt, 4, 'test');
    for (const k of [1, 2, 2, 3]) w.push(k);
    expect(w.reordered).toBe(false);
    w.push(0);
    expect(w.reordered).toBe(true);
  });
});

/** A strace call as the converter makes it: [start, end] lines, returned at its end line. */
function call(start: number, end: number, i: number): ImportedEvent {
  return { body: { kind: 'close', fd: i }, tid: 1, ns: null, startLine: start, endLine: end, source: 'strace', line: start };
}

describe('OverlapStream', () => {
  it('gives the ids markOverlaps gives for the whole log', () => {
    // Calls on random lines with random durations; the reader hands them out in return order and
    // says, before each, the lowest line a later call can start on.
    const spans = fc.array(fc.tuple(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 0, max: 12 })), { maxLength: 40 });
    fc.assert(
      fc.property(spans, (raw) => {
        const calls = raw.map(([s, d], i) => call(s, s + d, i));
        const byReturn = [...calls].sort((a, b) => a.endLine - b.endLine);
        const got = new Map<ImportedEvent, number>();
        const o = new OverlapStream((e, id) => got.set(e, id));
        for (let k = 0; k < byReturn.length; k++) {
          const c = byReturn[k]!;
          o.add(c);
          // Later calls: those not returned yet (in flight since their start), or starting later.
          const later = byReturn.slice(k + 1);
          const inFlight = later.filter((x) => x.endLine === c.endLine || x.startLine <= c.endLine).map((x) => x.startLine);
          o.advance(Math.min(c.endLine, ...inFlight));
        }
        o.finish();
        expect(got).toEqual(markOverlaps(calls));
      }),
      { numRuns: 300 },
    );
  });
});

const KEYS = [
  { kind: 'cfg-read', offset: 0x0e, len: 1 },
  { kind: 'cfg-read', offset: 0x10, len: 4 },
  { kind: 'cfg-write', offset: 0x04, len: 2 },
] as const;

function straceCall(key: number, ns: bigint | null, tid: number, line: number, barDma: boolean): ImportedEvent {
  if (barDma) return { body: { kind: 'map-dma', vaddr: 0n, iova: BigInt(line), size: 4096n, flags: 3 }, tid, ns, startLine: line, endLine: line, source: 'strace', line, barDma: true };
  const k = KEYS[key % KEYS.length]!;
  const body: ImportedEvent['body'] = k.kind === 'cfg-read' ? { kind: 'cfg-read', offset: k.offset, len: k.len } : { kind: 'cfg-write', offset: k.offset, data: new Uint8Array(k.len) };
  return { body, tid, ns, startLine: line, endLine: line, source: 'strace', line };
}

function qemuLine(key: number, ns: bigint, tid: number, line: number, fallback: boolean): QemuEvent {
  const k = KEYS[key % KEYS.length]!;
  const body: QemuEvent['body'] = k.kind === 'cfg-read' ? { kind: 'guest-cfg-read', offset: k.offset, len: k.len } : { kind: 'guest-cfg-write', offset: k.offset, len: k.len, value: 0n };
  return {
    body,
    tid,
    ns,
    startLine: line,
    endLine: line,
    source: 'qemu',
    line,
    forward: { kind: k.kind, region: 7, offset: BigInt(k.offset), len: k.len },
    ...(fallback ? { fallback: true } : {}),
  };
}

const MS = 1_000_000n;
/** Stamps that go forward with small steps back now and then (a fork's entry stamp, racing threads). */
const stamps = (n: number) => fc.array(fc.tuple(fc.integer({ min: -3, max: 60 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 12 })), { maxLength: n });

function streams(sRaw: [number, number, number, boolean, number][], qRaw: [number, number, number, boolean, number][]): { s: ImportedEvent[]; q: QemuEvent[] } {
  let t = 0n;
  const s = sRaw.map(([step, key, tid, flag, extra], i) => {
    t += BigInt(step) * 10n * MS; // steps of -30 ms .. 600 ms: some pairs fall outside the 1 s window
    return straceCall(key, extra === 0 ? null : t, tid, i + 1, flag && extra === 1);
  });
  t = 0n;
  const q = qRaw.map(([step, key, tid, flag], i) => {
    t += BigInt(step) * 10n * MS;
    return qemuLine(key, t, tid === 3 ? 0 : tid, i + 1, flag);
  });
  return { s, q };
}

describe('timeMerge', () => {
  it('equals mergeOrder of the whole logs (time order) when the window covers the disorder', () => {
    fc.assert(
      fc.property(stamps(40), stamps(40), (sRaw, qRaw) => {
        const { s, q } = streams(sRaw, qRaw);
        if (s.length === 0 || q.length === 0) return; // mergeOrder keeps one log alone in its own order
        // A small window: strace calls leave it while QEMU lines that could pair them may still come.
        const window = 3;
        const whole = mergeOrder(s, true, q, true, { strace: 's', qemu: 'q' });
        const stats = { droppedForwards: 0, reordered: false };
        let got: ImportedEvent[];
        try {
          got = [...timeMerge(s, q, window, stats)];
        } catch (e) {
          if (!(e instanceof WindowExceeded)) throw e;
          expect(Math.max(disorder(s.map((x) => Number(x.ns ?? 0n))), disorder(q.map((x) => Number(x.ns))))).toBeGreaterThan(window);
          return;
        }
        expect(got.map((e) => `${e.source}:${e.line}`)).toEqual(whole.ordered.map((e) => `${e.source}:${e.line}`));
        expect(stats.droppedForwards).toBe(whole.droppedForwards);
      }),
      { numRuns: 600 },
    );
  });

  it('refuses logs more out of order than its window', () => {
    const s = [straceCall(0, 5n * MS, 1, 1, false)];
    // The QEMU log's first line is stamped after the next three.
    const q = [qemuLine(1, 100n * MS, 1, 1, false), qemuLine(1, 10n * MS, 1, 2, false), qemuLine(1, 20n * MS, 1, 3, false), qemuLine(1, 30n * MS, 1, 4, false)];
    expect(() => [...timeMerge(s, q, 2, { droppedForwards: 0, reordered: false })]).toThrow(WindowExceeded);
    const stats = { droppedForwards: 0, reordered: false };
    const got = [...timeMerge(s, q, 3, stats)];
    expect(got.map((e) => `${e.source}:${e.line}`)).toEqual(['strace:1', 'qemu:2', 'qemu:3', 'qemu:4', 'qemu:1']);
    expect(stats.reordered).toBe(true);
  });
});

describe('EventSpool', () => {
  it('gives back what was appended, in order, as often as asked (bigints, maps, byte arrays, records over a chunk)', () => {
    const spool = new EventSpool<unknown>();
    const big = Buffer.alloc(3 << 19, 'spooled'); // 1.5 MiB: more than one write chunk
    const recs: unknown[] = [];
    for (let i = 0; i < 5000; i++) recs.push({ i, ns: BigInt(i) * 1_000_000_007n, m: new Map([[i % 6, BigInt(i)]]), d: Uint8Array.of(i & 0xff, 1, 2), o: i % 3 ? undefined : { errno: 'EIO' } });
    recs.splice(2500, 0, 'big');
    recs.forEach((r, i) => expect(spool.append(r === 'big' ? { big } : r)).toBe(i));
    for (let pass = 0; pass < 2; pass++) {
      let i = 0;
      for (const r of spool.records()) {
        if (recs[i] === 'big') expect(Buffer.from((r as { big: Uint8Array }).big).equals(big)).toBe(true);
        else expect(r).toEqual(recs[i]);
        i++;
      }
      expect(i).toBe(recs.length);
    }
    spool.close();
    expect(() => [...spool.records()]).toThrow(/after close/);
  }, 60_000);
});

describe('streaming import', () => {
  // The real bar-move capture with one QEMU line moved to the top: its stamp is later than the 85
  // guest events that now follow it.
  const dir = mkdtempSync(join(tmpdir(), 'import-window-'));
  cpSync(join(repo, 'traces/qemu/10.0/bar-move'), dir, { recursive: true });
  const lines = readFileSync(join(dir, 'qemu.log'), 'latin1').split('\n');
  const late = lines.findLastIndex((l) => l.includes('vfio_pci_read_config'));
  writeFileSync(join(dir, 'qemu.log'), [lines[late]!, ...lines.filter((_, i) => i !== late)].join('\n'), 'latin1');

  it('sorts a QEMU log out of order within the window, and redoes one out of order beyond it holding the whole input', () => {
    const inWindow = importTrace({ dir, tracerVersion: 't' });
    const beyond = importTrace({ dir, tracerVersion: 't', mergeWindow: 8 });
    expect(beyond.trace).toEqual(inWindow.trace);
    expect(inWindow.report.notes.join('\n')).not.toMatch(/go back/);
    expect(beyond.report.notes).toContain("the QEMU log's stamps go back further than 8 events: merged holding the whole input in memory");
  }, 60_000);
});

describe('OverlapSpans (strace -ff: ids from line spans, nothing held per call)', () => {
  it('gives the ids markOverlaps gives for the whole log, whatever order the calls come in', () => {
    // Mostly one-line calls, some spanning lines (in flight at the end, interrupted), on lines that
    // repeat (each -ff file numbers its own lines), handed over in any order.
    const spans = fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 20 }))), { maxLength: 50 });
    fc.assert(
      fc.property(spans, fc.infiniteStream(fc.nat()), (raw, shuffle) => {
        const calls = raw.map(([s, d], i) => call(s, s + d, i));
        const order = [...calls];
        const pick = shuffle[Symbol.iterator]();
        for (let i = order.length - 1; i > 0; i--) {
          const j = pick.next().value! % (i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const o = new OverlapSpans();
        for (const c of order) o.add(c.startLine, c.endLine);
        o.finish();
        const got = new Map<ImportedEvent, number>();
        for (const c of calls) {
          const id = o.idOf(c.startLine, c.endLine);
          if (id !== 0) got.set(c, id);
        }
        expect(got).toEqual(markOverlaps(calls));
      }),
      { numRuns: 500 },
    );
  });
});

describe('kWayMerge', () => {
  it('closes the sources it still holds when it is given up early', () => {
    const closed: number[] = [];
    const source = (n: number) =>
      (function* () {
        try {
          yield n;
          yield n + 10;
        } finally {
          closed.push(n);
        }
      })();
    const it = kWayMerge([source(1), source(2), source(3)], (a, b) => a < b);
    expect(it.next().value).toBe(1);
    it.return(undefined);
    expect(closed.sort()).toEqual([1, 2, 3]);
  });
});

/** A real `strace -ff` capture (fake-vmm with a forked child and a thread) copied to a scratch dir. */
function ffCopy(): { dir: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'import-ff-'));
  cpSync(join(repo, 'test/fixtures/import/strace/ff-forked'), dir, { recursive: true });
  return { dir, files: readdirSync(dir).sort().map((f) => join(dir, f)) };
}

describe('streaming import of strace -ff files', () => {
  it('streams them and gives what the whole-input merge gives', () => {
    const { files } = ffCopy();
    const streamed = importTrace({ files, allowEmpty: true, tracerVersion: 't' });
    const whole = importTrace({ files, allowEmpty: true, tracerVersion: 't', holdWhole: true });
    expect(streamed.report.merged).toBe('streamed');
    expect(whole.report.merged).toBe('whole');
    expect(streamed.trace).toEqual(whole.trace);
    expect(renderReport(streamed.trace, streamed.report)).toBe(renderReport(whole.trace, whole.report));
    expect(streamed.trace.events.some((e) => e.kind === 'fork')).toBe(true);
  });

  it('a child stamped before its fork (files whose clocks disagree): redone holding the whole input, and says so', () => {
    // The real -ff capture's set-up up to GET_DEVICE_FD, then a fork whose child's file has a read
    // of the device stamped before the clone (and on a line past the clone's: each file numbers
    // its own lines). The time merge hands the child's read out first; the fork belongs before it.
    const dir = mkdtempSync(join(tmpdir(), 'import-ff-early-'));
    const setup = readFileSync(join(straceDir, 'ff/vmm.23523'), 'latin1').split('\n');
    const upTo = setup.findIndex((l) => l.includes('VFIO_GROUP_GET_DEVICE_FD'));
    const cfgRead = setup.find((l) => l.includes('pread64(9,'))!.replace(/^\S+/, '');
    writeFileSync(
      join(dir, 'vmm.100'),
      [...setup.slice(0, upTo + 1), '09:16:58.196000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f56f4439a10) = 101', `09:16:58.197000${cfgRead}`, ''].join('\n'),
      'latin1',
    );
    const filler = Array.from({ length: upTo + 5 }, () => '09:16:58.195500 getppid() = 100');
    writeFileSync(join(dir, 'vmm.101'), [...filler, `09:16:58.195900${cfgRead}`, `09:16:58.198000${cfgRead}`, ''].join('\n'), 'latin1');
    const files = [join(dir, 'vmm.100'), join(dir, 'vmm.101')];
    const streamed = importTrace({ files, allowEmpty: true, tracerVersion: 't' });
    const whole = importTrace({ files, allowEmpty: true, tracerVersion: 't', holdWhole: true });
    expect(streamed.report.merged).toBe('whole');
    expect(streamed.trace).toEqual(whole.trace);
    // The fork went before the child's early read, which became the child's (pid=101).
    const kinds = whole.trace.events.map((e) => `${e.kind}${e.pid ? `@${e.pid}` : ''}`);
    expect(kinds.indexOf('fork')).toBeLessThan(kinds.indexOf('cfg-read@101'));
    expect(streamed.report.notes.join('\n')).toMatch(/vmm\.10\* \(2 files\):\d+: this fork's child made events stamped before it \(strace -ff files disagree\): merged holding the whole input in memory/);
  });
});

describe('streaming import without a shared clock (sequence alignment)', () => {
  const plain = (v: string, r: string, f: string): string => join(repo, 'traces/qemu-plain', v, r, f);
  it.each([
    ['7.2', 'd3hot-read.attach'],
    ['7.2', 'd3hot-mem-on-read.no-mmap'],
    ['10.0', 'bar-sizing'],
  ])('%s/%s: streamed, as the whole-input merge gives it', (v, r) => {
    const inputs = { strace: plain(v, r, 'qemu.strace'), qemuLog: plain(v, r, 'qemu-trace.log'), tracerVersion: 't' };
    const streamed = importTrace(inputs);
    const whole = importTrace({ ...inputs, holdWhole: true });
    expect(streamed.report.order).toBe('sequence');
    expect(streamed.report.merged).toBe('streamed');
    expect(streamed.trace).toEqual(whole.trace);
    expect(renderReport(streamed.trace, streamed.report)).toBe(renderReport(whole.trace, whole.report));
  });

  it('a strace log without device events beside an unstamped QEMU log: the QEMU log alone, as before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-seq-'));
    const strace = join(dir, 'other.strace');
    writeFileSync(strace, '1234  08:57:52.481221 openat(AT_FDCWD, "/etc/hosts", O_RDONLY) = 3\n1234  08:57:52.481300 close(3) = 0\n');
    const inputs = { strace, qemuLog: plain('10.0', 'd3hot-read', 'qemu-trace.log'), tracerVersion: 't' };
    const streamed = importTrace(inputs);
    const whole = importTrace({ ...inputs, holdWhole: true });
    expect(streamed.report.order).toBe('single');
    expect(streamed.report.merged).toBe('streamed');
    expect(streamed.trace).toEqual(whole.trace);
    expect(streamed.trace.events.length).toBeGreaterThan(0);
  });
});

describe('alignBySequence once strace is read to its end', () => {
  it('hands the rest of the QEMU log on as it reads it (no line can anchor any more)', () => {
    const strace = [straceCall(0, null, 1, 1, false)];
    let read = 0;
    let out = 0;
    let most = 0;
    function* qemu(): Generator<QemuEvent> {
      for (let i = 0; i < 2000; i++) {
        read++;
        most = Math.max(most, read - out);
        yield qemuLine(i % 3 === 2 ? 2 : 0, 0n, 1, i + 1, false);
      }
    }
    const dropped = new Set<ImportedEvent>();
    const got: ImportedEvent[] = [];
    for (const e of alignBySequence(strace, qemu(), dropped, { pairs: 0 })) {
      got.push(e);
      if (e.source === 'qemu') out++;
    }
    // The first QEMU line pairs with strace's first call, nothing else can: both logs in order.
    expect(got.length).toBe(2001);
    expect(dropped.size).toBe(1);
    expect(most).toBeLessThanOrEqual(2);
  });
});
