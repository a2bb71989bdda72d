// `check --coverage` (rules and switches each golden exercises, and those none does) and the
// grouping of changed goldens by the rule that changed, run through the built CLI.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, run, scratchCorpus } from '../e2e/cli.js';
import { modelRules } from '../../src/coverage/rules.js';

const seed = '004-mse-live-mappings';

describe('check --coverage and changes by rule (built CLI)', { timeout: 120_000 }, () => {
  beforeAll(assertBuilt);

  it('the rule universe is read from the model: known rules are in it', () => {
    const u = modelRules();
    expect(u.ids).toContain('config.command.mse-clear-zaps');
    expect(u.ids).toContain('fault.memory-disabled-sigbus');
    expect(u.ids.every((id) => /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/.test(id))).toBe(true);
    expect(u.templates.map((t) => t.label)).toContain('config.*.flr');
  });

  it('lists each golden\'s rules and switches, and what the corpus never exercises', () => {
    const dir = scratchCorpus([seed]);
    const r = run(['check', 'traces', '--coverage'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const head = lines.find((l) => l.startsWith('coverage: '))!;
    expect(head).toMatch(/^coverage: 6 goldens exercise \d+ rules \(of \d+ in the model\) and \d+ of \d+ switches$/);
    const at = lines.findIndex((l) => l.trim().endsWith('mse-live-mappings@linux-5.8.golden'));
    expect(lines[at + 1]).toContain('config.command.mse-clear-zaps');
    expect(lines[at + 1]).toContain('fault.memory-disabled-sigbus');
    // Event 5's SIGBUS is there since 5.8, because of the block-disabled-mmio switch.
    expect(lines[at + 2]).toContain('kernel.blockDisabledMmio');
    const never = lines.find((l) => l.startsWith('rules never exercised'))!;
    expect(never).toContain('dmabuf.');
    expect(never).not.toContain(' config.command.mse-clear-zaps ');
    expect(lines.find((l) => l.startsWith('switches never exercised'))!).toContain('kernel.dmabufExport');
  });

  it('groups changed goldens by the rule that changed', () => {
    const dir = scratchCorpus([seed]);
    const folder = join(dir, 'traces/seeds', seed);
    const changed = readdirSync(folder).filter((f) => f.endsWith('.golden') && readFileSync(join(folder, f), 'utf8').includes('[config.command.mse-clear-zaps]'));
    expect(changed.length).toBeGreaterThanOrEqual(3);
    for (const f of changed) {
      const p = join(folder, f);
      writeFileSync(p, readFileSync(p, 'utf8').replaceAll('[config.command.mse-clear-zaps]', '[config.command.mse-clear-no-zap]'));
    }
    const r = run(['check', 'traces'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `changes by rule: ${changed.length} goldens, all at config.command.mse-clear-no-zap -> config.command.mse-clear-zaps\n`,
    );
  });
});
