// The CI workflows shipped in docs/ci/ are run here, shard by shard, through the built CLI: the
// commands are taken from the YAML files themselves (the `npx vfio-replay` steps, with the matrix
// or `parallel` values filled in as the CI system would), so the documented workflow cannot rot.
// Their shards together must check the whole corpus, each golden exactly once, and the merged
// JUnit report must be well-formed and hold every golden with the right counts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseXml, type XmlElement } from '../../src/junit/xml.js';
import { assertBuilt, cli, repo } from '../e2e/cli.js';

beforeAll(assertBuilt);

/** The `npx vfio-replay ...` commands of a workflow file, in order. */
function commands(yaml: string): string[] {
  return [...yaml.matchAll(/^\s*-(?: run:)? (npx vfio-replay .+)$/gm)].map((m) => m[1]);
}

/** Runs one workflow command in `dir` with a shell (globs expand as on the runner). */
function sh(command: string, dir: string, env: Record<string, string> = {}): { code: number | null; out: string } {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'CI' && k !== 'GITHUB_ACTIONS') clean[k] = v;
  const line = command.replace(/^npx vfio-replay /, `"${process.execPath}" "${cli}" `);
  const r = spawnSync('sh', ['-c', line], { cwd: dir, env: { ...clean, ...env }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ci-'));
  symlinkSync(join(repo, 'traces'), join(dir, 'traces'));
  return dir;
}

function testcases(root: XmlElement): string[] {
  const suites = root.name === 'testsuite' ? [root] : root.children.filter((c): c is XmlElement => typeof c !== 'string');
  return suites.flatMap((s) =>
    s.children.filter((c): c is XmlElement => typeof c !== 'string' && c.name === 'testcase').map((tc) => `${tc.attrs.get('classname')} ${tc.attrs.get('name')}`),
  );
}

function report(dir: string, file: string): XmlElement {
  return parseXml(readFileSync(join(dir, file), 'utf8'), file);
}

let corpus: string[] = [];

describe('docs/ci workflows, run locally', { timeout: 180_000 }, () => {
  beforeAll(() => {
    const dir = scratch();
    const r = sh('npx vfio-replay check --junit all.xml', dir);
    expect(r.code, r.out).toBe(0);
    corpus = testcases(report(dir, 'all.xml')).sort();
    expect(corpus.length).toBeGreaterThan(100);
  }, 180_000); // a check of the whole corpus: 12 s under load 19 (hooks default to 10 s)

  function checkShardsAndMerge(dir: string, shardFiles: string[], merged: string): void {
    const union = shardFiles.flatMap((f) => testcases(report(dir, f)));
    expect(new Set(union).size).toBe(union.length); // no golden in two shards
    expect([...union].sort()).toEqual(corpus); // and none left out
    for (const f of shardFiles) expect(testcases(report(dir, f)).length).toBeGreaterThan(0);
    const root = report(dir, merged);
    expect(root.name).toBe('testsuites');
    expect(testcases(root).sort()).toEqual(corpus);
    expect(root.attrs.get('tests')).toBe(String(corpus.length));
    expect(root.attrs.get('failures')).toBe('0');
    expect(root.attrs.get('errors')).toBe('0');
  }

  test('GitHub Actions: the check matrix and the merge step', () => {
    const yaml = readFileSync(join(repo, 'docs/ci/github-actions.yml'), 'utf8');
    const shards = /^\s*shard: \[([^\]]+)\]$/m.exec(yaml)?.[1].split(',').map((s) => s.trim()) ?? [];
    expect(shards.length).toBeGreaterThan(1);
    const [check, merge, ...rest] = commands(yaml);
    expect(rest).toEqual([]);
    expect(check).toContain('check --shard');
    expect(merge).toContain('junit-merge');
    const dir = scratch();
    for (const i of shards) {
      const r = sh(check.replaceAll('${{ matrix.shard }}', i).replaceAll('${{ strategy.job-total }}', String(shards.length)), dir);
      expect(r.code, r.out).toBe(0);
    }
    const m = sh(merge, dir);
    expect(m.code, m.out).toBe(0);
    expect(m.out).toBe(`junit-merge: ${shards.length} reports, ${corpus.length} tests, 0 failures, 0 errors, 0 skipped -> junit.xml\n`);
    checkShardsAndMerge(dir, shards.map((i) => `junit-${i}.xml`), 'junit.xml');
  });

  test('GitLab CI: parallel check jobs and the merge job', () => {
    const yaml = readFileSync(join(repo, 'docs/ci/gitlab-ci.yml'), 'utf8');
    const total = Number(/^\s*parallel: (\d+)$/m.exec(yaml)?.[1]);
    expect(total).toBeGreaterThan(1);
    const [check, merge, ...rest] = commands(yaml);
    expect(rest).toEqual([]);
    const dir = scratch();
    for (let i = 1; i <= total; i++) {
      const r = sh(check, dir, { CI_NODE_INDEX: String(i), CI_NODE_TOTAL: String(total) });
      expect(r.code, r.out).toBe(0);
    }
    const m = sh(merge, dir);
    expect(m.code, m.out).toBe(0);
    checkShardsAndMerge(dir, Array.from({ length: total }, (_, k) => `junit-${k + 1}.xml`), 'junit.xml');
  });
});
