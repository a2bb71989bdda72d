// `check --html DIR`: an HTML report of every failing golden, none for the ones that pass.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, run, scratchCorpus } from '../e2e/cli.js';

describe('check --html (built CLI)', { timeout: 120_000 }, () => {
  beforeAll(assertBuilt);

  it('writes one self-contained page per failing golden, under the golden\'s versions', () => {
    const dir = scratchCorpus(['002-guest-d3hot-mmio']);
    const seed = join(dir, 'traces/seeds/002-guest-d3hot-mmio');
    const golden = join(seed, 'guest-d3hot-mmio@linux-6.19+openvmm-3336.golden');
    writeFileSync(golden, readFileSync(golden, 'utf8').replace('vmm-exit KVM_RUN -EFAULT', 'ok'));
    const pass = run(['check', 'traces', '--html', 'html-ok'], { cwd: dir });
    expect(pass.code).toBe(1);
    expect(pass.stdout).toContain('html: 1 report of failing goldens in html-ok');
    expect(readdirSync(join(dir, 'html-ok'))).toEqual(['guest-d3hot-mmio@linux-6.19+openvmm-3336.html']);
    const page = readFileSync(join(dir, 'html-ok', 'guest-d3hot-mmio@linux-6.19+openvmm-3336.html'), 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('linux-6.19+openvmm-3336 &middot; 9 events');
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    run(['check', 'traces', '--update'], { cwd: dir });
    const none = run(['check', 'traces', '--html', 'html-none'], { cwd: dir });
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('html: 0 reports of failing goldens in html-none');
    expect(existsSync(join(dir, 'html-none'))).toBe(false);
  });
});
