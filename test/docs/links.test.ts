// Every relative link in README.md and docs/*.md points at a file of this repository, and every
// `#anchor` at a heading of the target (GitHub's slugs), so moving a section cannot leave a dead link.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { repo } from '../e2e/cli.js';

const docs = ['README.md', ...readdirSync(join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's heading anchor: lower case, punctuation other than - and _ dropped, spaces to -. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Markdown links [text](target) outside code blocks and code spans, minus absolute URLs. */
function links(doc: string): string[] {
  const text = readFileSync(join(repo, doc), 'utf8')
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`(?!\])/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

describe('documentation links', () => {
  test('the slugger follows GitHub', () => {
    expect(slug('The text twin (`.txt`)')).toBe('the-text-twin-txt');
    expect(slug("Bisecting the model's own history")).toBe('bisecting-the-models-own-history');
    expect(slug('A real QEMU session, end to end')).toBe('a-real-qemu-session-end-to-end');
  });
  test('README.md lists every docs/ file in its Documentation section', () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const index = readme.slice(readme.indexOf('## Documentation'));
    for (const doc of docs.filter((d) => d !== 'README.md')) expect(index).toContain(`](${doc})`);
  });
  test.each(docs)('%s: every relative link resolves', (doc) => {
    const bad: string[] = [];
    for (const target of links(doc)) {
      const [path, anchor] = target.split('#');
      const file = path === '' ? join(repo, doc) : join(repo, dirname(doc), decodeURIComponent(path));
      if (!existsSync(file)) bad.push(`${target}: no file ${relative(repo, file)}`);
      else if (anchor !== undefined && file.endsWith('.md') && !anchors(file).has(anchor)) bad.push(`${target}: no heading #${anchor}`);
    }
    expect(bad).toEqual([]);
  });
});
