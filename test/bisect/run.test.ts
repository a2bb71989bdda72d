// The bisect runner over hand-made replays: predicates, skips, the table, the explanation. The
// replays here are plain data so each case shows exactly which outcome changes where; the seed
// tests (seeds.test.ts) run the same code over the real models.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { replayBudget } from '../../src/bisect/search.js';
import { bisect } from '../../src/bisect/run.js';
import { matchesTerm } from '../../src/bisect/predicate.js';
import { reportJson, reportText } from '../../src/bisect/render.js';
import type { EventResult, VersionPoint, VersionRun } from '../../src/bisect/types.js';
import type { Outcome } from '../../src/model/outcome.js';

/** One event: `outcome [rule]`, e.g. `-ENODEV [dmabuf.export.no-resource]`; kind inferred. */
function ev(index: number, spec: string): EventResult {
  const m = /^(.*?)(?: \[(.*)\])?$/.exec(spec) as RegExpExecArray;
  const outcome = m[1];
  const rule = m[2] ?? 'rule.' + index;
  const kind: Outcome['kind'] = outcome.startsWith('-')
    ? 'errno'
    : outcome.startsWith('SIGBUS')
      ? 'signal'
      : outcome.startsWith('unsupported')
        ? 'unsupported'
        : outcome.startsWith('HAZARD')
          ? 'hazard'
          : 'ok';
  const what = `host event-${index}`;
  // In these synthetic worlds an unsupported outcome is the version's own gap (it skips).
  return { index, what, kind, outcome, effects: [], rule, versionUnknown: kind === 'unsupported', line: `#${String(index).padStart(4, '0')} ${what} => ${outcome} [${rule}]` };
}

/** versions: id -> the outcome of each event. Counts replays. */
function world(table: Record<string, string[]>) {
  const points: VersionPoint[] = Object.keys(table).map((id) => ({ id, kernel: id, vmm: null }));
  const replayed: string[] = [];
  const replay = (p: VersionPoint): VersionRun => {
    replayed.push(p.id);
    return { point: p, events: table[p.id].map((s, i) => ev(i, s)) };
  };
  return { points, replay, replayed };
}

const ctx = { trace: 't.pb', label: 'versions', axis: 'kernel' as const, fixed: 'vmm none' };

describe('bisect (output predicate)', () => {
  const w = () =>
    world({
      base: ['ok', 'ok ret=5 [dmabuf.export.ok]'],
      v1: ['ok', 'ok ret=5 [dmabuf.export.ok]'],
      v2: ['ok', '-ENODEV [dmabuf.export.bar-not-reserved]'],
      v3: ['ok', '-ENODEV [dmabuf.export.bar-not-reserved]'],
      v4: ['ok', '-ENODEV [dmabuf.export.bar-not-reserved]'],
    });

  it('finds the first version that differs from the first, checking both ends first', () => {
    const x = w();
    const r = bisect({ points: x.points, predicate: { kind: 'output', event: null }, replay: x.replay });
    expect(r.result).toEqual({ kind: 'changed', lastOld: 1, firstNew: 2, skipped: [] });
    expect(x.replayed.slice(0, 2)).toEqual(['base', 'v4']);
    expect(r.replays).toBe(x.replayed.length);
    expect(new Set(x.replayed).size).toBe(x.replayed.length);
  });

  it('explains the change: the event, both outcomes, both rules, the log diff', () => {
    const x = w();
    const r = bisect({
      points: x.points,
      predicate: { kind: 'output', event: null },
      replay: x.replay,
      changes: (a, b) => [{ name: 'dmabufChecksBarResource', before: 'false', after: 'true', source: `${a}->${b}` }],
    });
    const t = r.transition!;
    expect(t.from).toBe('v1');
    expect(t.to).toBe('v2');
    expect(t.event?.index).toBe(1);
    expect(t.rule).toEqual({ before: 'dmabuf.export.ok', after: 'dmabuf.export.bar-not-reserved' });
    expect(t.switches[0].source).toBe('v1->v2');
    expect(t.diff).toContain('--- v1\n+++ v2\n');
    expect(t.diff).toContain('-#0001 host event-1 => ok ret=5 [dmabuf.export.ok]');
    expect(t.diff).toContain('+#0001 host event-1 => -ENODEV [dmabuf.export.bar-not-reserved]');
    const text = reportText(r, ctx, false);
    expect(text).toContain('first new version: v2 (last old: v1;');
    expect(text).toContain('rule: dmabuf.export.ok -> dmabuf.export.bar-not-reserved');
    expect(text).toContain('dmabufChecksBarResource: false -> true');
  });

  it('a renamed rule with the same outcome is no change', () => {
    const x = world({ a: ['ok [old.name]'], b: ['ok [new.name]'] });
    const r = bisect({ points: x.points, predicate: { kind: 'output', event: null }, replay: x.replay });
    expect(r.result.kind).toBe('no-change');
  });

  it('--event N ignores changes elsewhere in the log', () => {
    const x = world({ a: ['ok', 'ok'], b: ['-EIO', 'ok'], c: ['-EIO', 'SIGBUS BUS_ADRERR'], d: ['-EIO', 'SIGBUS BUS_ADRERR'] });
    const r = bisect({ points: x.points, predicate: { kind: 'output', event: 1 }, replay: x.replay });
    expect(r.result).toMatchObject({ kind: 'changed', firstNew: 2 });
    expect(r.transition?.event?.index).toBe(1);
  });

  it('skips versions that cannot express the trace, and says so', () => {
    const x = world({ a: ['unsupported no-dmabuf', 'x'], b: ['ok', 'ok'], c: ['unsupported no-dmabuf', 'x'], d: ['ok', '-EIO'], e: ['ok', '-EIO'] });
    const r = bisect({ points: x.points, predicate: { kind: 'output', event: null }, replay: x.replay });
    // b is the reference (a is skipped); c is skipped, so the change lies in {c, d}.
    expect(r.result).toEqual({ kind: 'ambiguous', lastOld: 1, candidates: [2, 3], skipped: [0, 2] });
    expect(new Set(x.replayed).size).toBe(x.replayed.length); // each version replayed once
    expect(r.replays).toBe(x.replayed.length);
    expect(r.transition?.from).toBe('b');
    expect(r.transition?.to).toBe('d');
    const text = reportText(r, ctx, false);
    expect(text).toContain("skipped (like git bisect's 125): a (cannot express #0 (unsupported no-dmabuf)), c (");
    expect(text).toContain('the first new version is one of c, d (after b');
  });

  it('an unsupported event after the watched one does not force a skip', () => {
    const x = world({ a: ['ok', 'unsupported later'], b: ['-EIO', 'unsupported later'] });
    const r = bisect({ points: x.points, predicate: { kind: 'output', event: 0 }, replay: x.replay });
    expect(r.result).toMatchObject({ kind: 'changed', firstNew: 1 });
  });
});

describe('bisect (old/new terms)', () => {
  it('old when the watched outcome matches --old, new when it matches --new, skip otherwise', () => {
    const x = world({ a: ['ok'], b: ['ok'], c: ['-EIO'], d: ['SIGBUS BUS_ADRERR'], e: ['SIGBUS BUS_ADRERR'] });
    const r = bisect({ points: x.points, predicate: { kind: 'terms', old: 'ok', new: 'SIGBUS', event: 0 }, replay: x.replay });
    expect(r.result).toEqual({ kind: 'ambiguous', lastOld: 1, candidates: [2, 3], skipped: [2] });
    expect(r.steps.find((s) => s.id === 'c')).toEqual({ id: 'c', verdict: 'skip', reason: '#0 -EIO matches neither ok nor SIGBUS' });
  });

  it('one term alone: the other side is "anything else"', () => {
    const x = world({ a: ['ok ret=5'], b: ['-EBADF'], c: ['-ENODEV'], d: ['-ENODEV'] });
    const onlyNew = bisect({ points: x.points, predicate: { kind: 'terms', old: null, new: 'ENODEV', event: 0 }, replay: x.replay });
    expect(onlyNew.result).toMatchObject({ kind: 'changed', lastOld: 1, firstNew: 2 });
    expect(onlyNew.predicate).toBe('event #0: old = not ENODEV, new = ENODEV');
    const y = world({ a: ['ok'], b: ['ok'], c: ['-EIO'], d: ['unsupported x'] });
    const onlyOld = bisect({ points: y.points, predicate: { kind: 'terms', old: 'ok', new: null, event: 0 }, replay: y.replay });
    expect(onlyOld.result).toEqual({ kind: 'changed', lastOld: 1, firstNew: 2, skipped: [3] });
  });

  it('first version already new: nothing to bisect', () => {
    const x = world({ a: ['SIGBUS BUS_ADRERR'], b: ['ok'] });
    const r = bisect({ points: x.points, predicate: { kind: 'terms', old: 'ok', new: 'SIGBUS', event: null }, replay: x.replay });
    expect(r.result).toEqual({ kind: 'first-is-new', at: 0, skipped: [] });
    expect(reportText(r, ctx, true)).toContain('swap --old and --new?');
  });

  it('term matching: whole outcome, leading words, kind, errno with or without the minus', () => {
    const e = ev(0, 'SIGBUS BUS_ADRERR');
    expect([matchesTerm(e, 'SIGBUS'), matchesTerm(e, 'SIGBUS BUS_ADRERR'), matchesTerm(e, 'signal'), matchesTerm(e, 'BUS_ADRERR')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    const n = ev(0, '-ENODEV');
    expect([matchesTerm(n, 'ENODEV'), matchesTerm(n, '-ENODEV'), matchesTerm(n, 'errno'), matchesTerm(n, 'EIO')]).toEqual([true, true, true, false]);
    expect(matchesTerm(ev(0, 'ok ret=5'), 'ok')).toBe(true);
  });
});

describe('bisect --all (transition table)', () => {
  it('groups equal neighbors, shows flip-flops a binary search cannot see', () => {
    const x = world({
      base: ['ok', 'ok ret=5 [export.ok]'],
      v1: ['ok', 'ok ret=5 [export.ok]'],
      v2: ['ok', '-ENODEV [export.no-resource]'],
      v3: ['ok', '-ENODEV [export.no-resource]'],
      v4: ['unsupported gone', 'x'],
      v5: ['ok', 'ok ret=5 [export.ok]'],
    });
    const r = bisect({ points: x.points, predicate: { kind: 'output', event: null }, replay: x.replay, all: true });
    expect(r.replays).toBe(6);
    expect(r.table?.changing).toEqual([1]);
    expect(r.table?.groups.map((g) => [g.from, g.to, g.verdict])).toEqual([
      ['base', 'v1', 'old'],
      ['v2', 'v3', 'new'],
      ['v4', 'v4', 'skip'],
      ['v5', 'v5', 'old'],
    ]);
    expect(r.result).toEqual({ kind: 'changed', lastOld: 1, firstNew: 2, skipped: [4] });
    const text = reportText(r, ctx, false);
    expect(text).toContain('transition table, by #0001 host event-1:\n');
    expect(text).toContain('  base..v1  ok ret=5 [export.ok]\n');
    expect(text).toContain('  v2..v3    -ENODEV [export.no-resource]\n');
    expect(text).toContain('  v4        skipped: cannot express #0 (unsupported gone)\n');
    const json = reportJson(r, ctx) as { table: { groups: { versions: string[] }[] }; result: { firstNew: string } };
    expect(json.table.groups[0].versions).toEqual(['base', 'v1']);
    expect(json.result.firstNew).toBe('v2');
  });

  it('abbreviates series ids in group labels', () => {
    const x = world({
      'linux-7.0': ['ok ret=5'],
      's@v1': ['ok ret=5'],
      's@v2': ['-ENODEV'],
      's@v3': ['-ENODEV'],
    });
    const r = bisect({ points: x.points, predicate: { kind: 'output', event: null }, replay: x.replay, all: true });
    const text = reportText(r, ctx, false);
    expect(text).toContain('  linux-7.0..s@v1  ok ret=5 [rule.0]\n');
    expect(text).toContain('  s@v2..@v3        -ENODEV [rule.0]\n');
  });
});

describe('bisect runner (property)', () => {
  it('replays each version at most once, within budget without skips, and explains the true change', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }), fc.array(fc.boolean(), { minLength: n, maxLength: n })),
        ),
        ([n, k, unsupported]) => {
          const table: Record<string, string[]> = {};
          for (let i = 0; i < n; i++) {
            const skip = unsupported[i] && i !== 0 && i !== n - 1;
            table[`v${i}`] = skip ? ['unsupported gap', 'ok'] : ['ok', i < k ? '-EIO' : 'SIGBUS BUS_ADRERR'];
          }
          const x = world(table);
          const r = bisect({ points: x.points, predicate: { kind: 'output', event: null }, replay: x.replay });
          expect(new Set(x.replayed).size).toBe(x.replayed.length);
          expect(r.replays).toBe(x.replayed.length);
          if (!unsupported.some((u, i) => u && i !== 0 && i !== n - 1)) expect(r.replays).toBeLessThanOrEqual(replayBudget(n));
          if (k === n) expect(r.result.kind).toBe('no-change');
          else if (r.result.kind === 'changed') {
            expect(r.result.firstNew).toBe(k);
            expect(r.transition?.event?.after?.outcome).toBe('SIGBUS BUS_ADRERR');
          } else {
            expect(r.result.kind).toBe('ambiguous');
            if (r.result.kind === 'ambiguous') expect(r.result.candidates).toContain(k);
          }
        },
      ),
    );
  });
});
