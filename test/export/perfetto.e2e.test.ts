// `vfio-replay export --perfetto` end to end: the built CLI writes the file, the test-only reader
// (perfetto-reader.ts, protobufjs + a hand-typed .proto) decodes it and checks the tracks, the
// slices and their nesting, the instants, and the interning rules the Perfetto UI relies on.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';
import { readPerfetto, type ReadTrace, type Slice } from './perfetto-reader.js';

const seed2 = 'traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb';
const qemu = 'traces/qemu/7.2/d3hot-read.pb';

function exportTo(args: string[], name: string): { out: ReadTrace; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-perfetto-'));
  const file = join(dir, name);
  const r = run(['export', '--perfetto', ...args, '-o', file], { cwd: repo });
  expect(r.code, r.stderr).toBe(0);
  return { out: readPerfetto(file), stdout: r.stdout };
}

const trackNamed = (t: ReadTrace, name: string): string => {
  const found = t.tracks.filter((x) => x.name === name);
  expect(found, name).toHaveLength(1);
  return found[0].uuid;
};
const childrenOf = (t: ReadTrace, uuid: string): string[] => t.tracks.filter((x) => x.parent === uuid).map((x) => x.name);
const on = (t: ReadTrace, track: string): Slice[] => t.slices.filter((s) => s.track === track);

describe('export --perfetto (built CLI)', { timeout: 120_000 }, () => {
  beforeAll(() => assertBuilt());

  it('seed 002 under OpenVMM #3336: thread track, event slices, outcome instants, device lanes, interning', () => {
    const { out, stdout } = exportTo([seed2, '--vmm', 'openvmm-3336'], 's2.perfetto-trace');
    expect(stdout).toMatch(/^wrote .*s2\.perfetto-trace \(9 events, 11 tracks, \d+ packets; no ts_ns in the trace: event i at i us\)\n$/);
    expect(out.violations).toEqual([]);
    expect(out.firstPacketFlags & 1).toBe(1);

    const root = trackNamed(out, 'vfio-replay: seed 002: guest PMCSR D3hot, then guest MMIO');
    expect(childrenOf(out, root)).toEqual(['thread (tid not recorded)', 'device 0000:01:00.0 8086:10d3', 'VMM guest mappings']);
    const device = trackNamed(out, 'device 0000:01:00.0 8086:10d3');
    expect(childrenOf(out, device)).toEqual(['power', 'MEM decode', 'IO decode', 'BAR0 mmap', 'BAR1 mmap', 'BAR3 mmap']);
    expect(childrenOf(out, trackNamed(out, 'VMM guest mappings'))).toEqual(['guest BAR0']);

    const [replay] = on(out, root);
    expect(replay).toMatchObject({ name: 'replay', instant: true, categories: ['vfio-replay'] });
    expect(replay.args).toMatchObject({ kernel: 'linux-6.19', vmm: 'openvmm-3336', clock: 'event index x 1us', events: 9, divergences: 0 });

    // One slice per event, 1 us each at index x 1 us (the seed has no timestamps), depth 0.
    const thread = on(out, trackNamed(out, 'thread (tid not recorded)'));
    const events = thread.filter((s) => !s.instant);
    expect(events.map((s) => [s.name, s.begin, s.end, s.depth])).toEqual(
      ['cfg-write', 'cfg-write', 'mmio-read', 'cfg-write', 'mmio-read', 'cfg-write', 'mmio-read', 'cfg-write', 'mmio-read'].map((k, i) => [`guest-${k}`, BigInt(i * 1000), BigInt(i * 1000 + 1000), 0]),
    );
    expect(events.every((s) => s.categories.join() === 'guest')).toBe(true);
    expect(events[4].args).toEqual({
      index: 4,
      event: 'mmio-read 0xfe000008 len=4',
      outcome: 'vmm-exit KVM_RUN -EFAULT',
      rule: 'vmm.direct-map-stale',
      effects: 'fwd(mem-read bar0+0x8 len=4 => SIGBUS BUS_ADRERR) vmm(KVM_RUN -EFAULT: VM stopped)',
    });
    // Every outcome other than ok is an instant inside its event's slice.
    const instants = thread.filter((s) => s.instant);
    expect(instants.map((s) => [s.name, s.args.index, s.parent?.args.index, s.depth])).toEqual([4, 5, 6, 7, 8].map((i) => ['vmm-exit', i, i, 1]));
    expect(instants[0].categories).toEqual(['outcome']);

    // Lanes: one slice per run of equal state; D3hot from event 3 to the end of the trace.
    const power = on(out, trackNamed(out, 'power'));
    expect(power.map((s) => [s.name, s.begin, s.end, s.args.from, s.args.to])).toEqual([
      ['D0', 0n, 3000n, 0, 2],
      ['D3hot', 3000n, 9000n, 3, 8],
    ]);
    expect(on(out, trackNamed(out, 'BAR0 mmap')).map((s) => [s.name, s.begin, s.end])).toEqual([
      ['mapped', 0n, 2000n],
      ['live', 2000n, 3000n],
      ['zapped', 3000n, 9000n],
    ]);
    expect(on(out, trackNamed(out, 'guest BAR0')).map((s) => [s.name, s.begin, s.end, s.categories[0]])).toEqual([['mapped', 1000n, 9000n, 'vmm']]);

    // Interned once each: names, categories and annotation names are each listed a single time.
    for (const list of Object.values(out.interned)) expect(new Set(list).size).toBe(list.length);
    expect([...out.interned.categories].sort()).toEqual(['device', 'guest', 'outcome', 'vfio-replay', 'vmm']);
  });

  it('a divergence is an instant with the rule, the outcome and the observation it disagrees with', () => {
    const { out } = exportTo([seed2, '--vmm', 'openvmm-3609'], 'div.perfetto-trace');
    expect(out.violations).toEqual([]);
    const divs = out.slices.filter((s) => s.name === 'divergence');
    expect(divs.length).toBeGreaterThan(0);
    const replay = out.slices.find((s) => s.name === 'replay')!;
    expect(replay.args.divergences).toBe(divs.length);
    for (const d of divs) {
      expect(d).toMatchObject({ instant: true, categories: ['divergence'], depth: 1 });
      expect(d.parent?.args.divergence).toBe(d.args.divergence);
      expect(d.parent?.args.index).toBe(d.args.index);
      expect(typeof d.args.rule).toBe('string');
      expect(typeof d.args.outcome).toBe('string');
    }
    expect(divs[0].args.index).toBe(4);
    expect(String(divs[0].args.divergence)).toMatch(/vmm-exit/);
  });

  it('a QEMU capture: timestamps from ts_ns, one track per thread, slices never overlap on a track', () => {
    const { out, stdout } = exportTo([qemu], 'q.perfetto-trace');
    expect(stdout).toMatch(/timestamps from ts_ns\)\n$/);
    expect(out.violations).toEqual([]);
    const dump = run(['dump', qemu], { cwd: repo });
    expect(dump.code).toBe(0);
    // The text twin's `t=` of each event is the begin of its slice; its tid names the track.
    const lines = dump.stdout.split('\n').filter((l) => /^\d+ /.test(l));
    const events = out.slices.filter((s) => s.args.event !== undefined && !s.instant);
    expect(events).toHaveLength(lines.length);
    const tids = new Set<string>();
    for (const [i, line] of lines.entries()) {
      const s = events.find((e) => e.args.index === i)!;
      expect(s.begin).toBe(BigInt(/ t=(\d+)/.exec(line)?.[1] ?? '0'));
      const tid = / tid=(\d+)/.exec(line)?.[1];
      tids.add(tid ?? '');
      expect(out.tracks.find((t) => t.uuid === s.track)?.name).toBe(tid === undefined ? 'thread (tid not recorded)' : `tid ${tid}`);
    }
    const threadTracks = out.tracks.filter((t) => /^tid |^thread /.test(t.name));
    expect(threadTracks).toHaveLength(tids.size);
    for (const t of threadTracks) {
      const top = on(out, t.uuid).filter((s) => s.depth === 0);
      for (let k = 1; k < top.length; k++) expect(top[k].begin).toBeGreaterThanOrEqual(top[k - 1].end!);
    }
  });

  // The export is an observer of replay's own loop (src/report/timeline.ts): what it shows per event
  // is what `replay` judges, including the traits it learns and the outcome sets of a race group.
  it('it judges as replay does: a device note is not a divergence, a race group has its may: set', () => {
    const lab = 'traces/lab/6.1/reset-reopen.pb';
    const replayed = run(['replay', lab, '--kernel', 'linux-6.1'], { cwd: repo });
    expect(replayed.stdout).toMatch(/^1 device note|, 1 device note/m);
    const { out } = exportTo([lab, '--kernel', 'linux-6.1'], 'lab.perfetto-trace');
    const replay = out.slices.find((s) => s.name === 'replay')!;
    expect(replay.args).toMatchObject({ divergences: 0, 'device notes': 1 });
    const noted = out.slices.filter((s) => s.args['device note'] !== undefined);
    expect(noted).toHaveLength(1);
    expect(replayed.stdout).toContain(`device: ${noted[0].args['device note']}`);
    expect(out.slices.filter((s) => s.name === 'divergence')).toEqual([]);

    const race = 'traces/bugs/6a45ece4c9af-concurrent-vma-fault/concurrent-vma-fault.pb';
    const raced = run(['replay', race, '--kernel', 'linux-5.10'], { cwd: repo });
    const may = raced.stdout.split('\n').filter((l) => / may: /.test(l));
    expect(may.length).toBeGreaterThan(0);
    const { out: rt } = exportTo([race, '--kernel', 'linux-5.10'], 'race.perfetto-trace');
    const outcomes = rt.slices.filter((s) => !s.instant && typeof s.args.outcome === 'string').map((s) => String(s.args.outcome));
    for (const line of may) expect(outcomes.some((o) => o.startsWith('may:') && line.includes(o))).toBe(true);
  });

  it('bad input: one located line, exit 2, nothing written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-perfetto-bad-'));
    const out = join(dir, 'x.perfetto-trace');
    const bad = join(dir, 'bad.pb');
    writeFileSync(bad, Buffer.from([0x0a, 0x7f, 0x01]));
    const cases: [string[], RegExp][] = [
      [['export', seed2, '-o', out], /^vfio-replay: export wants a format: --perfetto$/m],
      [['export', '--perfetto', bad, '-o', out], /bad\.pb: .*at byte 0 \(0x0\): truncated packet/],
      [['export', '--perfetto', join(dir, 'none.pb'), '-o', out], /none\.pb: /],
      [['export', '--perfetto', seed2, '--kernel', 'linux-1', '-o', out], /unknown kernel version "linux-1"/],
      [['export', '--perfetto', seed2, '--chrome', '-o', out], /unknown option '--chrome'/],
      [['export', '--perfetto', seed2], /required option '-o, --output <file>' not specified/],
      [['export', '--perfetto', seed2, '-o', join(dir, 'no/such/dir/x.perfetto-trace')], /no\/such\/dir\/x\.perfetto-trace: cannot write the Perfetto trace: ENOENT/],
    ];
    for (const [args, msg] of cases) {
      const r = run(args, { cwd: repo });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => !l.includes('warning:')), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(['bad.pb']);
  });
});
