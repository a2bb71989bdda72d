// Issue 21: a trace from a device that refuses D3hot replays with 0 divergences and one device
// note; --strict-device makes it a divergence; check's text, JUnit and annotations keep the two apart.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assertBuilt, repo, run } from './cli.js';

const DIR = 'traces/devices/d3hot-refused';
const PB = `${DIR}/d3hot-refused.pb`;

beforeAll(assertBuilt);

describe('device notes (built CLI)', { timeout: 60_000 }, () => {
  test('the refusal is one device note, every later BAR access is predicted as the kernel answered', () => {
    const r = run(['replay', PB], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('summary: 19 events, 0 divergences, 0 unsupported, 1 device note (19 host, 0 guest)');
    expect(r.stdout.match(/ {2}device: /g)).toHaveLength(2); // the line and the summary's quote of it
    expect(r.stdout).toMatch(/^#0005 host {2}cfg-write 0xcc len=2 val=0x0003 .* {2}device: device refuses D3hot, stays in D0 \(kernel log\)$/m);
    expect(r.stdout).toMatch(/^#0008 host {2}mem-read bar0\+0x8 len=4 +=> ok populate\(bar0\) device\(bar0\+0x8\) \[fault\.populate\]$/m);
    expect(r.stdout).toMatch(/^#0014 host {2}cfg-write 0xcc .* power-refused\(D0->D3hot\) \[config\.pm\.state-refused\]$/m);
    expect(r.stdout).not.toContain('!= observed');
  });

  test('--strict-device turns the note into a divergence (exit 1)', () => {
    const r = run(['replay', PB, '--strict-device', '--summary-only'], { cwd: repo });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('summary: 19 events, 1 divergence, 0 unsupported (19 host, 0 guest)');
    expect(r.stdout).toContain('!= observed: device: device refuses D3hot, stays in D0 (kernel log)');
  });

  test('check: a note passes and is reported apart; strict, it fails as a device note in text, JUnit and annotations', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-notes-'));
    cpSync(join(repo, DIR), join(dir, DIR), { recursive: true });
    const plain = run(['check', '--junit', 'plain.xml'], { cwd: dir, env: { GITHUB_ACTIONS: 'true' } });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('note traces/devices/d3hot-refused/d3hot-refused@linux-6.12.golden: 1 device note, first on line 12: device refuses D3hot');
    expect(plain.stdout).toContain('check: 1 goldens, 1 passed, 0 failed, 0 missing, 0 obsolete, 1 device note');
    expect(plain.stdout).toMatch(/^::notice file=traces\/devices\/d3hot-refused\/d3hot-refused@linux-6\.12\.golden,line=12,title=vfio-replay device note::/m);
    expect(readFileSync(join(dir, 'plain.xml'), 'utf8')).toContain('<property name="device-notes" value="1"/>');
    const strict = run(['check', '--strict-device', '--junit', 'strict.xml'], { cwd: dir, env: { GITHUB_ACTIONS: 'true' } });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('the new line is a device note');
    expect(strict.stdout).toMatch(/^::error file=.*,title=vfio-replay device note \(strict\)::/m);
    expect(readFileSync(join(dir, 'strict.xml'), 'utf8')).toContain('type="device-note"');
    const both = run(['check', '--strict-device', '--update'], { cwd: dir });
    expect(both.code).toBe(2);
  });
});
