// Issue 17: the replay compares read data where the model owns it. One flipped byte of a real
// kernel's answer (a lab trace) in a model-owned field makes replay and check diverge; a flipped
// device-owned byte does not (it is the device's: see device notes).
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assertBuilt, repo, run } from './cli.js';

const LAB = join(repo, 'traces/lab/6.1');

beforeAll(assertBuilt);

/** A scratch copy of the 6.1 cfg-perms lab trace and its golden, with one observed line changed. */
function flipped(from: string, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-data-'));
  const text = readFileSync(join(LAB, 'cfg-perms.txt'), 'utf8');
  expect(text).toContain(from);
  writeFileSync(join(dir, 'cfg-perms.txt'), text.replace(from, to));
  for (const f of ['cfg-perms@linux-6.1.golden', 'cfg-perms.versions']) copyFileSync(join(LAB, f), join(dir, f));
  const enc = run(['encode', 'cfg-perms.txt', '-o', 'cfg-perms.pb'], { cwd: dir });
  expect(enc.code).toBe(0);
  return dir;
}

describe('model-owned read data (built CLI)', { timeout: 60_000 }, () => {
  test('the committed lab trace replays with 0 divergences', () => {
    const r = run(['replay', join(LAB, 'cfg-perms.pb'), '--summary-only'], { cwd: repo });
    expect(r.stdout).toContain(' 0 divergences');
    expect(r.code).toBe(0);
  });

  test('a flipped vendor-ID byte (virtualized by vfio-pci) diverges in replay and check', () => {
    // #4 reads the vendor/device ID after a write to it: vconfig answers 8680d310.
    const dir = flipped('4 cfg-read 0x00 len=4 => ret=4 data=8680d310', '4 cfg-read 0x00 len=4 => ret=4 data=8680d311');
    const r = run(['replay', 'cfg-perms.pb'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^#0004 host {2}cfg-read 0x00 len=4 +=> ok ret=4 data=8680d310 \[config\.read\] {2}!= observed: data\[3\]=11 \(model 10\)$/m);
    expect(r.stdout).toContain('1 divergence,');
    const c = run(['check', 'cfg-perms@linux-6.1.golden'], { cwd: dir });
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/\+ #0004 host {2}cfg-read 0x00 len=4 .* {2}!= observed: data\[3\]=11 \(model 10\)/);
  });
});
