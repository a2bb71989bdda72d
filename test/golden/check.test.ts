import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { inCI, parseShard, runCheck } from '../../src/golden/check.js';
import { junitXml, githubAnnotations, summaryLine } from '../../src/golden/report.js';

const seeds = fileURLToPath(new URL('../../traces/seeds/', import.meta.url));

function copySeed(seed: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-check-'));
  cpSync(join(seeds, seed), join(dir, seed), { recursive: true });
  return join(dir, seed);
}

describe('runCheck', () => {
  test('update creates, then a second run matches', async () => {
    const dir = copySeed('000-reset-from-d3hot');
    writeFileSync(join(dir, 'reset-from-d3hot.versions'), 'linux-7.1\n');
    const first = await runCheck([dir], { update: true });
    expect(first.results.map((r) => [r.outcome.kind, r.action])).toEqual([['missing', 'created']]);
    expect(first.obsolete.map((o) => o.action)).toEqual(['deleted', 'deleted']);
    expect(first.exitCode).toBe(0);
    const second = await runCheck([dir], { update: false });
    expect(second.results.map((r) => r.outcome.kind)).toEqual(['match']);
    expect(summaryLine(second)).toBe('check: 1 goldens, 1 passed, 0 failed, 0 missing, 0 obsolete');
  });

  test('a changed golden whose replay now has unsupported events: exit 125', async () => {
    const dir = copySeed('002-guest-d3hot-mmio');
    // Kernel only: every guest event is unsupported.
    writeFileSync(join(dir, 'guest-d3hot-mmio.versions'), 'linux-6.19\n');
    await runCheck([dir], { update: true });
    const g = join(dir, 'guest-d3hot-mmio@linux-6.19.golden');
    expect(readFileSync(g, 'utf8')).toContain('9 unsupported');
    writeFileSync(g, readFileSync(g, 'utf8').replace('#0004 guest', '#0004 guest-x'));
    const r = await runCheck([dir], { update: false });
    expect(r.results[0].outcome.kind).toBe('mismatch');
    expect(r.exitCode).toBe(125);
  });

  test('reports: JUnit counts and annotation escaping', async () => {
    const dir = copySeed('000-reset-from-d3hot');
    const g = join(dir, 'reset-from-d3hot@bar-zap-cleanup@v2.golden');
    await runCheck([dir], { update: true });
    writeFileSync(g, readFileSync(g, 'utf8').replace('[core.open.enable]', '[core.open.100%]'));
    const r = await runCheck([dir], { update: false });
    expect(r.exitCode).toBe(1);
    expect(junitXml(r)).toMatch(/tests="2" failures="1" errors="0"/);
    const ann = githubAnnotations(r);
    expect(ann.split('\n').filter((l) => l.startsWith('::error '))).toHaveLength(1);
    expect(ann).toContain('100%25');
    expect(ann).not.toMatch(/::error [^\n]*\n[^:]/); // one line per annotation
  });
});

describe('flags', () => {
  test('CI is on for any value but empty, 0 and false', () => {
    expect(inCI({ CI: 'true' })).toBe(true);
    expect(inCI({ CI: '1' })).toBe(true);
    expect(inCI({ CI: 'false' })).toBe(false);
    expect(inCI({ CI: '0' })).toBe(false);
    expect(inCI({})).toBe(false);
  });
  test('shards are i/n with 1 <= i <= n', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard('0/4')).toBeNull();
    expect(parseShard('5/4')).toBeNull();
    expect(parseShard('x')).toBeNull();
  });
});
