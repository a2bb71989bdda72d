// Runs the BUILT command line as a user would (node dist/src/cli/main.js), in a scratch copy of
// part of the corpus. `npm test` builds first (pretest); run `npx tsc -p .` before running these alone.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
export const cli = join(repo, 'dist/src/cli/main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function assertBuilt(): void {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npx tsc -p .\` (npm test does it) before the end-to-end tests`);
}

/** The CLI with a clean environment: no CI, no GitHub, no color unless asked. */
export function run(args: string[], opts: { cwd: string; env?: Record<string, string> }): Run {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k === 'CI' || k === 'GITHUB_ACTIONS' || k === 'NO_COLOR' || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: opts.cwd, env: { ...env, ...opts.env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A scratch folder holding `traces/seeds/<seed>` copies of the given seeds, their goldens brought
 * in line with the model as built (the committed goldens are checked by test/golden/corpus.test.ts;
 * these tests are about what check does, and must not break each time a model rule is refined).
 */
export function scratchCorpus(seeds: string[]): string {
  const key = seeds.join(',');
  let base = bases.get(key);
  if (base === undefined) {
    base = mkdtempSync(join(tmpdir(), 'vfio-e2e-base-'));
    for (const s of seeds) cpSync(join(repo, 'traces/seeds', s), join(base, 'traces/seeds', s), { recursive: true });
    const r = run(['check', '--update'], { cwd: base });
    if (r.code !== 0) throw new Error(`check --update in ${base} failed (${r.code}):\n${r.stdout}${r.stderr}`);
    bases.set(key, base);
  }
  const dir = mkdtempSync(join(tmpdir(), 'vfio-e2e-'));
  cpSync(join(base, 'traces'), join(dir, 'traces'), { recursive: true });
  return dir;
}

const bases = new Map<string, string>();
