// `vfio-replay bisect` as a user runs it: the built CLI, its output, its exit codes, its JSON.
import { beforeAll, describe, expect, test } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';

beforeAll(assertBuilt);

const S001 = 'traces/seeds/001-dmabuf-unmappable-bar/dmabuf-unmappable-bar.txt';
const S004 = 'traces/seeds/004-mse-live-mappings/mse-live-mappings.txt';
const bisect = (...args: string[]) => run(['bisect', ...args], { cwd: repo });

describe('vfio-replay bisect (built CLI)', { timeout: 60_000 }, () => {
  test('prints the bisect log, the first new version, the rule and the diff; exit 0', () => {
    const r = bisect(S001, '--series', 'dmabuf-unmappable-bars');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^bisect traces\/seeds\/001-dmabuf-unmappable-bar\/dmabuf-unmappable-bar.txt: series dmabuf-unmappable-bars \(base linux-7.0\), vmm none\n/);
    expect(r.stdout).toContain('\n  linux-7.0                  old   reference\n');
    expect(r.stdout).toContain('first new version: dmabuf-unmappable-bars@v1 (last old: linux-7.0; 3 of 3 versions replayed)');
    expect(r.stdout).toContain('  rule: dmabuf.export.ok -> dmabuf.export.bar-mmap-unsupported');
    expect(r.stdout).toContain('    dmabufRefusesUnmappable: no -> bar-mmap-supported');
    expect(r.stdout).toContain('--- linux-7.0\n+++ dmabuf-unmappable-bars@v1\n@@');
    expect(r.stdout).not.toContain('\x1b['); // not a TTY: no color
  });

  test('--all --json: the table and the result with version ids', () => {
    const r = bisect(S004, '--kernel-range', 'linux-5.7..linux-5.8', '--series', 'block-disabled-mmio', '--all', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      axis: string;
      versions: string[];
      replays: number;
      result: { kind: string; firstNew: string; lastOld: string };
      table: { groups: { from: string; to: string; versions: string[] }[] };
      transition: { rule: { before: string; after: string }; switches: { name: string }[]; diff: string };
    };
    expect(j.axis).toBe('kernel');
    expect(j.replays).toBe(5);
    expect(j.result).toMatchObject({ kind: 'changed', lastOld: 'linux-5.7', firstNew: 'block-disabled-mmio@v1' });
    expect(j.table.groups.map((g) => g.versions.length)).toEqual([1, 4]);
    expect(j.transition.switches.map((s) => s.name)).toContain('blockDisabledMmio');
    expect(j.transition.diff).toContain('+++ block-disabled-mmio@v1');
  });

  test('bad input: one located line on stderr, exit 2, no stack', () => {
    const cases: [string[], RegExp][] = [
      [[S001, '--series', 'no-such-series'], /^vfio-replay: unknown patch series 'no-such-series' \(known: .*barmap-at-enable.*\)\n$/],
      [[S001, '--series', 'barmap-at-enable', '--event', '99'], /^vfio-replay: traces\/seeds\/001-dmabuf-unmappable-bar\/dmabuf-unmappable-bar.txt: --event 99: the trace has 8 events \(0..7\)\n$/],
      [[S001, '--series', 'barmap-at-enable', '--kernel', 'linux-7.0'], /--kernel fixes the kernel, but the kernel is the axis being bisected/],
      [[S001, '--kernel-range', 'barmap-at-enable@v2..linux-7.2'], /a range cannot leave patch series 'barmap-at-enable'/],
      [[S001], /say which versions to bisect/],
      [['no-such-file.pb', '--series', 'barmap-at-enable'], /^vfio-replay: no-such-file.pb: /],
    ];
    for (const [args, err] of cases) {
      const r = bisect(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(err);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
  });
});
