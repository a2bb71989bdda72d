// The README's bisect examples are real: each `npx vfio-replay bisect ...` block followed by an
// output block must be what the built CLI prints now (warnings on stderr first, then stdout). When a
// model change alters them, rerun the command and paste the new output into README.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';

beforeAll(assertBuilt);

function examples(): { args: string[]; output: string }[] {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf('## Bisecting\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const re = /```sh\nnpx vfio-replay (bisect [^\n]+)\n```\n\n```\n([\s\S]*?)\n```/g;
  return [...section.matchAll(re)].map((m) => ({ args: m[1].split(' '), output: m[2] + '\n' }));
}

describe('README "Bisecting" examples', { timeout: 60_000 }, () => {
  test('there are examples to check', () => {
    expect(examples().length).toBeGreaterThanOrEqual(4);
  });
  test.each(examples().map((e) => [e.args.slice(1, 2).join(' '), e] as const))('%s', (_name, e) => {
    const r = run(e.args, { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stderr + r.stdout).toBe(e.output);
  });
});
