// `vfio-replay minimize` run as a user would: every committed QEMU session that ends in a VMM
// death shrinks to the few events that cause it under its own VMM version, and bad input is one
// located line with exit 2 and nothing written.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';
import { loadTrace } from '../../src/trace/index.js';

const qemuRoot = join(repo, 'traces/qemu');

/** The committed sessions whose capture ends with the VMM process dying. */
async function deathSessions(): Promise<string[]> {
  const out: string[] = [];
  for (const v of readdirSync(qemuRoot)) {
    for (const f of readdirSync(join(qemuRoot, v))) {
      if (!f.endsWith('.pb')) continue;
      const path = join(qemuRoot, v, f);
      const t = await loadTrace(path);
      if (t.events.at(-1)?.observed?.vmmExit !== undefined) out.push(path);
    }
  }
  return out.sort();
}

describe('minimize (built CLI)', { timeout: 120_000 }, () => {
  beforeAll(assertBuilt);

  it('shrinks every traces/qemu session ending in a VMM death to the events that cause it', async () => {
    const sessions = await deathSessions();
    expect(sessions.length).toBeGreaterThanOrEqual(3);
    const dir = mkdtempSync(join(tmpdir(), 'vfio-min-'));
    for (const path of sessions) {
      const name = path.split('/').slice(-2).join('-').replace(/\.pb$/, '');
      const out = join(dir, `${name}.min.pb`);
      const r = run(['minimize', path, '--outcome', 'vmm-exit', '-o', out], { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      const original = await loadTrace(path);
      const min = await loadTrace(out);
      const twin = await loadTrace(out.replace(/\.pb$/, '.txt'));
      expect(twin.events.length).toBe(min.events.length);
      // The death needs: BAR placed, MEM on, D3hot, the access. Nothing else.
      expect(min.events.length).toBeLessThanOrEqual(5);
      expect(min.events.length).toBeLessThan(original.events.length / 10);
      expect(min.events.map((e) => Number(e.seq))).toEqual(min.events.map((_, i) => i));
      const last = min.events.at(-1)!;
      expect(['guest-mmio-read', 'guest-mmio-write']).toContain(last.kind);
      expect(min.events.some((e) => e.kind === 'guest-cfg-write' && e.offset === 0xcc)).toBe(true);
      // Replayed on its own, under the versions its header names, the result still dies there.
      const replay = run(['replay', out], { cwd: repo });
      const lines = replay.stdout.split('\n').filter((l) => l.startsWith('#'));
      expect(lines.at(-1)).toMatch(/=> vmm-exit killed SIGBUS status=135 .*\[vmm\.direct-map-stale\]$/);
      expect(lines.slice(0, -1).join('\n')).not.toMatch(/vmm-exit/);
      expect(r.stdout).toContain(`${original.events.length} events -> ${min.events.length}`);
    }
  });

  it('keeps a difference between two versions: seed 002 dies under openvmm-3336, not under 3609', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-min-'));
    const out = join(dir, 's2.pb');
    const seed = join(repo, 'traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb');
    const r = run(['minimize', seed, '--outcome', 'vmm-exit', '--versions', 'linux-6.19+openvmm-3336,linux-6.19+openvmm-3609', '-o', out], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('linux-6.19+openvmm-3336: yes');
    expect(r.stdout).toContain('linux-6.19+openvmm-3609: does not happen');
    const a = run(['replay', out, '--kernel', 'linux-6.19', '--vmm', 'openvmm-3336'], { cwd: repo });
    const b = run(['replay', out, '--kernel', 'linux-6.19', '--vmm', 'openvmm-3609'], { cwd: repo });
    expect(a.stdout).toMatch(/=> vmm-exit KVM_RUN -EFAULT/);
    expect(b.stdout).not.toMatch(/=> vmm-exit/);
    expect((await loadTrace(out)).events.length).toBeLessThan((await loadTrace(seed)).events.length);
  });

  it('keeps one event\'s outcome and the first divergence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-min-'));
    const trace = join(repo, 'traces/qemu/7.2/d3hot-read.pb');
    const ev = run(['minimize', trace, '--event', '160', '-o', join(dir, 'e.pb')], { cwd: repo });
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/linux-6\.1\+qemu-7\.2: ok val=0x0\n/);
    expect(ev.stdout).toMatch(/\(was #160\)\n/);
    const div = run(['minimize', trace, '--divergence', '--kernel', 'linux-5.7', '-o', join(dir, 'd.pb')], { cwd: repo });
    expect(div.code, div.stderr).toBe(0);
    expect(div.stdout).toContain('#164 HAZARD device in D3hot != observed: vmm-exit killed SIGBUS status=135');
    expect(div.stdout).toMatch(/!= observed: vmm-exit killed SIGBUS status=135 {2}\(was #164\)/);
  });

  it('bad input: one located line, exit 2, nothing written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-min-'));
    const out = join(dir, 'x.pb');
    const trace = join(repo, 'traces/qemu/7.2/d3hot-read.pb');
    const bad = join(dir, 'bad.pb');
    writeFileSync(bad, Buffer.from([0x0a, 0x7f, 0x01]));
    const cases: [string[], RegExp][] = [
      [['minimize', trace, '-o', out], /^vfio-replay: minimize wants exactly one goal/],
      [['minimize', trace, '--event', '999', '-o', out], /d3hot-read\.pb: --event 999: the trace has 165 events/],
      [['minimize', trace, '--event', 'x', '-o', out], /--event wants an event index/],
      [['minimize', trace, '--divergence', '-o', out], /d3hot-read\.pb: nothing to keep: the first divergence does not happen under linux-6\.1\+qemu-7\.2/],
      [['minimize', trace, '--outcome', 'vmm-exit', '--versions', 'linux-6.1+qemu-9', '-o', out], /--versions: unknown VMM model version "qemu-9"/],
      [['minimize', trace, '--outcome', 'vmm-exit', '-o', join(dir, 'x.txt')], /-o wants a \.pb path/],
      [['minimize', bad, '--outcome', 'vmm-exit', '-o', out], /bad\.pb: .*at byte 0 \(0x0\): truncated packet/],
    ];
    for (const [args, msg] of cases) {
      const r = run(args, { cwd: repo });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => !l.includes('warning:'))).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(['bad.pb']);
  });
});
