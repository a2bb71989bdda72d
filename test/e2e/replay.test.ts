import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assertBuilt, repo, run } from './cli.js';

const S004 = 'traces/seeds/004-mse-live-mappings/mse-live-mappings.pb';
const S002 = 'traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb';

beforeAll(assertBuilt);

describe('vfio-replay replay (built CLI)', { timeout: 60_000 }, () => {
  test('an outcome log line per event, the rule, a summary; exit 0 without divergences', () => {
    const r = run(['replay', S004, '--kernel', 'linux-5.8'], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`replay ${S004}: kernel linux-5.8, vmm none (seed 004: MSE cleared with live mappings)`);
    expect(lines.filter((l) => l.startsWith('#'))).toHaveLength(17);
    expect(r.stdout).toMatch(/^#0004 host {2}cfg-write 0x04 len=2 val=0x0404 +=> ok .*zap\(bar0\).* \[config\.command\.mse-clear-zaps\]$/m);
    expect(r.stdout).toMatch(/^#0005 host {2}mem-read bar0\+0x8 len=4 +=> SIGBUS BUS_ADRERR \[/m);
    expect(r.stdout).toContain('summary: 17 events, 0 divergences, 0 unsupported; races: 1 group, 2 interleavings explored (17 host, 0 guest)');
  });

  test('the header decides the versions; an exact kernel release (5.7.0 = 5.7) does not warn', () => {
    const r = run(['replay', S004, '--summary-only'], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kernel linux-5.7, vmm none');
    expect(r.stderr).toBe('');
  });

  test('a divergence from the observed outcome: the mark, the first divergence with context, exit 1', () => {
    const r = run(['replay', S002, '--vmm', 'openvmm-3609', '--context', '2'], { cwd: repo });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^#0004 guest mmio-read 0xfe000008 len=4 +=> .* {2}!= observed: vmm-exit KVM_RUN -EFAULT$/m);
    expect(r.stdout).toContain('summary: 9 events, 1 divergence, 0 unsupported (0 host, 9 guest)');
    const tail = r.stdout.slice(r.stdout.indexOf('first divergence'));
    expect(tail).toMatch(/^first divergence at #0004: the model predicts otherwise \(rule [a-z.-]+\)\n {4}#0002 .*\n {4}#0003 .*\n {2}> #0004 /);
  });

  test('the version the bug was reported on agrees with the observation', () => {
    const r = run(['replay', S002, '--summary-only'], { cwd: repo });
    expect(r.stdout).toContain('kernel linux-6.19, vmm openvmm-3336');
    expect(r.stdout).toContain('0 divergences');
    expect(r.code).toBe(0);
  });

  test('guest events without a VMM model are unsupported', () => {
    const r = run(['replay', S002, '--vmm', 'none', '--summary-only'], { cwd: repo });
    expect(r.stdout).toContain('9 unsupported');
    expect(r.stdout).toContain('[replay.guest-event-without-vmm]');
  });

  test('--json: one object a line, u64 as strings', () => {
    const r = run(['replay', S004, '--kernel', 'linux-5.8', '--json'], { cwd: repo });
    expect(r.code).toBe(0);
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs[0]).toMatchObject({ type: 'start', kernel: 'linux-5.8', vmm: 'none' });
    expect(objs[5]).toMatchObject({ type: 'event', index: 4, seq: '4', side: 'host', rule: 'config.command.mse-clear-zaps', divergence: null });
    expect(objs.at(-1)).toMatchObject({ type: 'summary', events: 17, divergences: 0 });
  });

  test('the text twin replays like its .pb', () => {
    const pb = run(['replay', S004, '--kernel', 'linux-5.8'], { cwd: repo });
    const txt = run(['replay', S004.replace(/\.pb$/, '.txt'), '--kernel', 'linux-5.8'], { cwd: repo });
    expect(txt.stdout.split('\n').slice(1)).toEqual(pb.stdout.split('\n').slice(1));
  });

  test('bad input: exit 2, one located line, no stack', () => {
    const missing = run(['replay', 'nope.pb'], { cwd: repo });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^vfio-replay: nope\.pb: .*\n$/);
    const unknown = run(['replay', S004, '--kernel', 'linux-9.9'], { cwd: repo });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^vfio-replay: unknown kernel version "linux-9\.9" \(known: linux-5\.7, /);
    expect(run(['replay', S004, '--context', '-1'], { cwd: repo }).code).toBe(2);
    const garbage = join(mkdtempSync(join(tmpdir(), 'vfio-e2e-')), 'garbage.pb');
    writeFileSync(garbage, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]));
    const bad = run(['replay', garbage], { cwd: repo });
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')).toHaveLength(2);
    expect(bad.stderr).toContain('garbage.pb');
  });
});
