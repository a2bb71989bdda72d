import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { discoverCorpus } from '../../src/golden/corpus.js';
import { UserError } from '../../src/errors.js';

function corpus(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'vfio-corpus-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

describe('corpus discovery: listings, missing and obsolete goldens', () => {
  test('each listed version is a job; present or missing', () => {
    const root = corpus({
      'a/t.pb': 'x',
      'a/t.versions': '# comment\nlinux-5.8   # why\nlinux-6.19+openvmm-3609\n',
      'a/t@linux-5.8.golden': 'g',
    });
    const c = discoverCorpus([root]);
    expect(c.jobs.map((j) => [j.golden.slice(root.length), j.present])).toEqual([
      ['/a/t@linux-5.8.golden', true],
      ['/a/t@linux-6.19+openvmm-3609.golden', false],
    ]);
    expect(c.jobs[1].selection).toEqual({ kernel: 'linux-6.19', vmm: 'openvmm-3609' });
    expect(c.obsolete).toEqual([]);
  });
  test('a golden whose trace is gone, or whose version is not listed, is obsolete', () => {
    const root = corpus({
      'a/t.txt': 'x',
      'a/t.versions': 'linux-5.8\n',
      'a/t@linux-5.8.golden': 'g',
      'a/t@linux-5.7.golden': 'g',
      'b/gone@linux-5.8.golden': 'g',
    });
    const c = discoverCorpus([root]);
    expect(c.jobs).toHaveLength(1);
    expect(c.obsolete.map((o) => [o.path.slice(root.length), o.reason])).toEqual([
      ['/a/t@linux-5.7.golden', 't.versions does not list linux-5.7'],
      ['/b/gone@linux-5.8.golden', 'its trace gone.pb is gone'],
    ]);
  });
  test('a listing whose trace is gone is obsolete too', () => {
    const root = corpus({ 'a/t.versions': 'linux-5.8\n' });
    expect(discoverCorpus([root]).obsolete.map((o) => o.reason)).toEqual(['its trace t.pb is gone']);
  });
  test('a single golden argument checks only that golden', () => {
    const root = corpus({ 'a/t.pb': 'x', 'a/t.versions': 'linux-5.8\nlinux-5.7\n', 'a/t@linux-5.8.golden': 'g' });
    const c = discoverCorpus([join(root, 'a/t@linux-5.8.golden')]);
    expect(c.jobs.map((j) => j.selection.kernel)).toEqual(['linux-5.8']);
  });
  test('a trace argument checks its listing; an unlisted trace is bad input', () => {
    const root = corpus({ 'a/t.pb': 'x', 'a/t.versions': 'linux-5.8\n', 'a/u.pb': 'x' });
    expect(discoverCorpus([join(root, 'a/t.pb')]).jobs).toHaveLength(1);
    expect(() => discoverCorpus([join(root, 'a/u.pb')])).toThrow(UserError);
  });
  test('malformed listing lines are located errors', () => {
    const root = corpus({ 'a/t.pb': 'x', 'a/t.versions': 'linux-5.8\nlinux-6.19+\n' });
    expect(() => discoverCorpus([root])).toThrow(/t\.versions:2:1: expected KERNEL or KERNEL\+VMM/);
    const dup = corpus({ 'a/t.pb': 'x', 'a/t.versions': 'linux-5.8\nlinux-5.8\n' });
    expect(() => discoverCorpus([dup])).toThrow(/listed twice/);
  });
  test('a missing path is bad input', () => {
    expect(() => discoverCorpus(['/nonexistent/traces'])).toThrow(UserError);
  });
});
