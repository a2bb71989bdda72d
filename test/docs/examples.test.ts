// The documentation's examples are real: each ```sh block holding one `npx vfio-replay ...` line,
// followed by an output block, must be what the built CLI prints now (warnings on stderr first,
// then stdout). An output block may be an excerpt: lines "..." separate pieces that must appear in
// the output in that order, each as consecutive lines. When a model change alters an example, rerun
// the command and paste its new output into the doc.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';

beforeAll(assertBuilt);

interface Example {
  doc: string;
  args: string[];
  output: string;
}

const docs = ['README.md', ...readdirSync(join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

function examples(doc: string): Example[] {
  const text = readFileSync(join(repo, doc), 'utf8');
  const re = /```sh\nnpx vfio-replay ([^\n]+)\n```\n\n```\n([\s\S]*?)\n```/g;
  return [...text.matchAll(re)].map((m) => ({ doc, args: m[1].split(' '), output: m[2] + '\n' }));
}

/** True when `shown` is the whole of `actual`, or its "..."-separated pieces occur in order. */
function shows(actual: string, shown: string): boolean {
  if (!shown.split('\n').includes('...')) return actual === shown;
  const lines = actual.split('\n');
  let at = 0;
  for (const piece of shown.split('\n...\n').flatMap((p) => p.split(/^\.\.\.\n|\n\.\.\.$/m))) {
    const want = piece.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
    if (want.length === 0 || (want.length === 1 && want[0] === '...')) continue;
    let found = -1;
    for (let i = at; i + want.length <= lines.length && found < 0; i++) {
      if (want.every((w, k) => lines[i + k] === w)) found = i;
    }
    if (found < 0) return false;
    at = found + want.length;
  }
  return true;
}

const all = docs.flatMap(examples);

describe('documentation examples', { timeout: 60_000 }, () => {
  test('the README shows a replay, a check and a bisect, and docs/bisect.md its four kinds of run', () => {
    const readme = all.filter((e) => e.doc === 'README.md').map((e) => e.args[0]);
    expect(readme).toEqual(expect.arrayContaining(['replay', 'check', 'bisect']));
    expect(all.filter((e) => e.doc === 'docs/bisect.md').length).toBeGreaterThanOrEqual(5);
  });
  test.each(all.map((e) => [`${e.doc}: ${e.args.slice(0, 2).join(' ')}`, e] as const))('%s', (_name, e) => {
    const r = run(e.args, { cwd: repo });
    // replay exits 1 when the example is about a divergence; a bad-input exit is never an example.
    expect(r.code === 0 || r.code === 1).toBe(true);
    const actual = r.stderr + r.stdout;
    if (!shows(actual, e.output)) expect(actual).toBe(e.output);
  });
});

describe('excerpt matching', () => {
  test('a whole output must match exactly; pieces between "..." lines in order', () => {
    expect(shows('a\nb\n', 'a\nb\n')).toBe(true);
    expect(shows('a\nb\nc\n', 'a\nb\n')).toBe(false);
    expect(shows('a\nb\nc\nd\n', '...\nc\nd\n')).toBe(true);
    expect(shows('a\nb\nc\nd\n', 'a\n...\nd\n')).toBe(true);
    expect(shows('a\nb\nc\nd\n', 'd\n...\na\n')).toBe(false);
    expect(shows('a\nb\nc\nd\n', '...\nb\nd\n')).toBe(false);
  });
});
