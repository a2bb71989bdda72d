// Bounded-memory import (issue 19 item 3 / issue 20): the pieces that let the importer read its
// inputs as streams. The k-way merge that reads `strace -ff` files side by side, the ioctl argument
// matcher that reads records in step with the calls, and located errors from inputs read in
// chunks (a bad line in the middle of a big file: one line naming file and line, exit 2, no output).
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIRM, CONFIRM_REACH, alignBySequence } from '../../src/import/align.js';
import { IoctlArgMatcher, type IoctlArgRecord } from '../../src/import/ioctl-args.js';
import type { QemuEvent } from '../../src/import/qemu-log.js';
import type { ImportedEvent } from '../../src/import/strace-events.js';
import { kWayMerge } from '../../src/import/kway-merge.js';
import { textLines } from '../../src/import/lines.js';
import { assertBuilt, run } from '../e2e/cli.js';
import { repo } from './helpers.js';

describe('kWayMerge', () => {
  it('of sorted sources equals a stable sort of their concatenation (ties: lower source first, then source order)', () => {
    const source = fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 30 }).map((a) => a.sort((x, y) => x - y));
    fc.assert(
      fc.property(fc.array(source, { maxLength: 6 }), (sources) => {
        const tagged = sources.map((s, src) => s.map((key, pos) => ({ key, src, pos })));
        const merged = [...kWayMerge(tagged, (a, b) => a.key < b.key)];
        const sorted = tagged.flat().sort((a, b) => a.key - b.key || a.src - b.src || a.pos - b.pos);
        expect(merged).toEqual(sorted);
      }),
    );
  });

  it('pulls each source only as far as it hands out items (one item per source held)', () => {
    let pulled = 0;
    function* counting(keys: number[]): Generator<number> {
      for (const k of keys) {
        pulled++;
        yield k;
      }
    }
    const m = kWayMerge([counting([1, 4, 7]), counting([2, 5, 8]), counting([3, 6, 9])], (a, b) => a < b);
    expect([m.next().value, m.next().value]).toEqual([1, 2]);
    expect(pulled).toBe(4); // the three firsts, and the one that took the place of the first item handed out
  });

  it('runs `primed` once every first item is pulled, before the first item comes out', () => {
    const seen: string[] = [];
    function* src(name: string, keys: number[]): Generator<number> {
      for (const k of keys) {
        seen.push(`${name}${k}`);
        yield k;
      }
    }
    const m = kWayMerge([src('a', [2]), src('b', [1])], (x, y) => x < y, () => seen.push('primed'));
    m.next();
    expect(seen).toEqual(['a2', 'b1', 'primed']);
  });
});

/**
 * The matcher's rule as issue 20 states it, over the whole capture at once: each call takes the
 * next unused record of its thread (after that thread's last match) with the same fd, request and
 * address; a call without thread id takes the next unused one of any thread after the last such match.
 */
function wholeCaptureMatcher(records: IoctlArgRecord[]) {
  const used = records.map(() => false);
  const cursor = new Map<number, number>();
  let anyCursor = 0;
  return (tid: number, fd: number, cmd: number, arg: bigint | null): number | null => {
    const fits = (i: number) => !used[i] && records[i]!.fd === fd && records[i]!.cmd === cmd && (arg === null || records[i]!.arg === arg);
    if (tid !== 0) {
      for (let i = cursor.get(tid) ?? 0; i < records.length; i++) {
        if (records[i]!.tid !== tid || !fits(i)) continue;
        used[i] = true;
        cursor.set(tid, i + 1);
        return records[i]!.line;
      }
      return null;
    }
    for (let i = anyCursor; i < records.length; i++) {
      if (!fits(i)) continue;
      used[i] = true;
      anyCursor = i + 1;
      return records[i]!.line;
    }
    return null;
  };
}

const recordLine = (r: { tid: number; fd: number; cmd: number; arg: bigint }): string =>
  ` qemu-system-x86-${r.tid}    [000] ...2.   1.000000: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=${r.fd} cmd=0x${r.cmd.toString(16)} arg=0x${r.arg.toString(16)} a0=0x0`;

describe('IoctlArgMatcher reading the capture in step with the calls', () => {
  const rec = fc.record({ tid: fc.integer({ min: 1, max: 3 }), fd: fc.integer({ min: 5, max: 6 }), cmd: fc.constantFrom(0x3b6e, 0x3b75), arg: fc.constantFrom(0x1000n, 0x2000n) });
  const call = fc.record({ tid: fc.integer({ min: 0, max: 3 }), fd: fc.integer({ min: 5, max: 6 }), cmd: fc.constantFrom(0x3b6e, 0x3b75), arg: fc.constantFrom(0x1000n, 0x2000n, null) });

  it('pairs exactly as the whole-capture rule when the window covers the capture', () => {
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 40 }), fc.array(call, { maxLength: 40 }), (recs, calls) => {
        const text = recs.map(recordLine).join('\n') + '\n';
        const records = recs.map((r, i): IoctlArgRecord => ({ ...r, bytes: new Uint8Array(8), line: i + 1 }));
        const ref = wholeCaptureMatcher(records);
        const m = IoctlArgMatcher.reading(textLines(text, 'f'), 'f', 64);
        for (const c of calls) expect(m.take(c.tid, c.fd, c.cmd, c.arg)?.line ?? null).toBe(ref(c.tid, c.fd, c.cmd, c.arg));
        expect(m.finish().records).toBe(recs.length);
      }),
    );
  });

  it('reads no further ahead than the window, and passes over what falls out of it', () => {
    // 10 records of thread 1 nobody asks for, then thread 2's record: with a window of 4 the
    // call of thread 2 does not find it (4 records read, none fits), with 16 it does.
    const recs = [...Array.from({ length: 10 }, () => ({ tid: 1, fd: 5, cmd: 0x3b6e, arg: 0x1000n })), { tid: 2, fd: 5, cmd: 0x3b75, arg: 0x2000n }];
    const text = recs.map(recordLine).join('\n') + '\n';
    expect(IoctlArgMatcher.reading(textLines(text, 'f'), 'f', 4).take(2, 5, 0x3b75, 0x2000n)).toBeNull();
    expect(IoctlArgMatcher.reading(textLines(text, 'f'), 'f', 16).take(2, 5, 0x3b75, 0x2000n)?.line).toBe(11);
  });
});

/**
 * The alignment over whole arrays, as docs/importing.md states it: each QEMU forward line pairs with
 * the first unpaired host op of its key (and thread) among the `lookahead` host ops from p, p moves
 * past the pair; strace in its order, each anchored call after the QEMU lines up to its anchor.
 */
function wholeAlignment(strace: ImportedEvent[], qemu: QemuEvent[], lookahead: number): { order: ImportedEvent[]; dropped: Set<ImportedEvent> } {
  const key = (e: ImportedEvent) => (e.body.kind === 'cfg-read' ? `cfg-read/${e.body.offset}` : null);
  const hostOps = strace.filter((e) => key(e) !== null);
  const anchorOf = new Map<ImportedEvent, number>();
  const dropped = new Set<ImportedEvent>();
  const fits = (q: QemuEvent, j: number): boolean => {
    const h = hostOps[j];
    return h !== undefined && key(h) === `cfg-read/${q.forward!.offset}` && (q.tid === 0 || h.tid === 0 || q.tid === h.tid);
  };
  // A pair that skips host calls must be confirmed by the next CONFIRM forwarded lines (align.ts).
  const forwards = qemu.filter((q) => q.forward);
  const confirmed = (fi: number, j: number): boolean => {
    const tried = forwards.slice(fi + 1, fi + 1 + CONFIRM);
    let at = j + 1;
    let ok = 0;
    for (const q of tried)
      for (let k = at; k < at + CONFIRM_REACH; k++)
        if (fits(q, k)) {
          ok++;
          at = k + 1;
          break;
        }
    return tried.length === 0 || ok * 3 >= tried.length * 2;
  };
  let p = 0;
  let fi = -1;
  qemu.forEach((q, qi) => {
    if (!q.forward) return;
    fi++;
    for (let j = p; j < hostOps.length && j < p + lookahead; j++) {
      const h = hostOps[j]!;
      if (!fits(q, j) || (j > p && !confirmed(fi, j))) continue;
      anchorOf.set(h, qi);
      dropped.add(q.fallback ? q : h);
      p = j + 1;
      return;
    }
  });
  const order: ImportedEvent[] = [];
  let qi = 0;
  for (const s of strace) {
    const a = anchorOf.get(s);
    if (a !== undefined) while (qi <= a) order.push(qemu[qi++]!);
    order.push(s);
  }
  while (qi < qemu.length) order.push(qemu[qi++]!);
  return { order, dropped };
}

describe('sequence alignment over streams (windowed)', () => {
  // A session as it happened: guest accesses QEMU forwarded (a line in both logs), host calls QEMU
  // made on its own (strace only), guest events QEMU logged that strace cannot see (QEMU only).
  const step = fc.oneof(
    fc.record({ what: fc.constant('forward' as const), offset: fc.integer({ min: 0, max: 3 }), tid: fc.integer({ min: 0, max: 2 }), fallback: fc.boolean() }),
    fc.record({ what: fc.constant('host-only' as const), offset: fc.integer({ min: 0, max: 3 }), tid: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ what: fc.constant('strace-other' as const), tid: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ what: fc.constant('qemu-only' as const), tid: fc.integer({ min: 0, max: 2 }) }),
  );
  /** The two logs of a session; the QEMU line of a forward may come a few places early or late (`skew`). */
  function logs(steps: fc.infer<typeof step>[], skew: number[]): { strace: ImportedEvent[]; qemu: QemuEvent[] } {
    const strace: ImportedEvent[] = [];
    const qemu: (QemuEvent & { at: number })[] = [];
    const base = (n: number, tid: number, source: 'strace' | 'qemu') => ({ tid, ns: null, startLine: n, endLine: n, source, line: n });
    steps.forEach((s, n) => {
      if (s.what === 'forward' || s.what === 'host-only') strace.push({ body: { kind: 'cfg-read', offset: s.offset, len: 4 }, ...base(n, s.tid, 'strace') });
      if (s.what === 'strace-other') strace.push({ body: { kind: 'reset' }, ...base(n, s.tid, 'strace') });
      if (s.what === 'forward')
        qemu.push({ body: { kind: 'guest-cfg-read', offset: s.offset, len: 4 }, forward: { kind: 'cfg-read', region: 7, offset: BigInt(s.offset), len: 4 }, fallback: s.fallback, at: n + (skew[n] ?? 0), ...base(n, s.tid, 'qemu') });
      if (s.what === 'qemu-only') qemu.push({ body: { kind: 'guest-cfg-read', offset: 0x40, len: 4 }, at: n + (skew[n] ?? 0), ...base(n, s.tid, 'qemu') });
    });
    qemu.sort((a, b) => a.at - b.at);
    return { strace, qemu };
  }

  it('equals the whole-input alignment, for any lookahead (small ones miss pairs the same way)', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 60 }), fc.integer({ min: 1, max: 6 }), (steps, skew, lookahead) => {
        const { strace, qemu } = logs(steps, skew);
        for (const l of [lookahead, 512]) {
          const want = wholeAlignment(strace, qemu, l);
          const dropped = new Set<ImportedEvent>();
          const stats = { pairs: 0 };
          expect([...alignBySequence(strace, qemu, dropped, stats, l)]).toEqual(want.order);
          expect(dropped).toEqual(want.dropped);
          expect(stats.pairs).toBe(want.dropped.size);
        }
      }),
    );
  });

  it('reads each side only as far as the lookahead needs, and hands events on before reading to the end', () => {
    // 2000 host calls, each forwarded: the alignment pairs them one by one.
    const n = 2000;
    let read = 0;
    function* straceSide(): Generator<ImportedEvent> {
      for (let i = 0; i < n; i++) {
        read++;
        yield { body: { kind: 'cfg-read', offset: i % 4, len: 4 }, tid: 1, ns: null, startLine: i, endLine: i, source: 'strace', line: i };
      }
    }
    function* qemuSide(): Generator<QemuEvent> {
      for (let i = 0; i < n; i++)
        yield { body: { kind: 'guest-cfg-read', offset: i % 4, len: 4 }, forward: { kind: 'cfg-read', region: 7, offset: BigInt(i % 4), len: 4 }, tid: 1, ns: null, startLine: i, endLine: i, source: 'qemu', line: i };
    }
    const out = alignBySequence(straceSide(), qemuSide(), new Set(), { pairs: 0 }, 8);
    for (let i = 0; i < 100; i++) out.next();
    expect(read).toBeLessThan(100);
  });
});

describe('a bad line in the middle of a big input', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'streaming-errors-'));
  const capture = join(repo, 'traces/qemu/10.0/bar-move');

  /** `lines` repeated until past `bytes` (several of the reader's 1 MiB chunks), `bad` at about the middle. */
  function big(lines: string[], bytes: number, bad: string): { text: string; badLine: number } {
    const out: string[] = [];
    let size = 0;
    let badLine = 0;
    while (size < bytes) {
      for (const l of lines) {
        if (badLine === 0 && size >= bytes / 2) {
          out.push(bad);
          badLine = out.length;
        }
        out.push(l);
        size += l.length + 1;
      }
    }
    return { text: out.join('\n') + '\n', badLine };
  }

  it.runIf(existsSync(capture))('ioctl-args: one located line, exit 2, nothing written', () => {
    assertBuilt();
    const recs = readFileSync(join(capture, 'ioctl-args'), 'latin1').split('\n').filter((l) => l.includes('vfio_ioctl:'));
    const { text, badLine } = big(recs, 3 << 20, recs[0]!.replace(/ fd=\d+/, ' fd=zz'));
    const args = join(dir, 'ioctl-args');
    writeFileSync(args, text);
    const out = join(dir, 'out.pb');
    const r = run(['import', '--strace', join(capture, 'strace.log'), '--ioctl-args', args, '--sysfs', capture, '-o', out], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${args}:${badLine}:`);
    expect(r.stderr).toContain('fd=zz is not a 32-bit number');
    expect(existsSync(out)).toBe(false);
  });

  it.runIf(existsSync(capture))('strace -ff file: one located line, exit 2, nothing written', () => {
    assertBuilt();
    const lines = readFileSync(join(capture, 'strace.log'), 'latin1').split('\n').filter((l) => l.startsWith('2228 ')).map((l) => l.replace(/^2228\s+/, ''));
    const { text, badLine } = big(lines, 3 << 20, '05:05:05.000000 ioctl(5<\\x2f>, VFIO_DEVICE_RESET');
    const a = join(dir, 'qemu.2228');
    const b = join(dir, 'qemu.2226');
    writeFileSync(a, text);
    writeFileSync(b, readFileSync(join(capture, 'strace.log'), 'latin1').split('\n').filter((l) => l.startsWith('2226 ')).map((l) => l.replace(/^2226\s+/, '')).join('\n') + '\n');
    const out = join(dir, 'ff.pb');
    const r = run(['import', b, a, '--sysfs', capture, '-o', out], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${a}:${badLine}:`);
    expect(existsSync(out)).toBe(false);
  });
});
