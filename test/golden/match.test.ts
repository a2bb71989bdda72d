// `check` compares the golden text with the golden file while the replay renders it (match.ts)
// instead of rendering it whole first (renderGolden). These hold the streaming comparison to the
// whole-text one: same verdict, and on a difference the same text for the diff and --update.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { GoldenMatcher } from '../../src/golden/match.js';
import { discoverCorpus } from '../../src/golden/corpus.js';
import { renderGolden, streamGolden } from '../../src/golden/generate.js';

const traces = fileURLToPath(new URL('../../traces/', import.meta.url));

/** The expected text: the rendered one, or one edit away from it. */
function edited(text: string, edit: { kind: number; at: number; ch: string }): string {
  const at = text.length === 0 ? 0 : edit.at % (text.length + 1);
  switch (edit.kind) {
    case 0:
      return text;
    case 1:
      return text.slice(0, at) + edit.ch + text.slice(at); // insert
    case 2:
      return text.slice(0, at) + text.slice(at + 1); // delete
    case 3:
      return text.slice(0, at) + edit.ch + text.slice(at + 1); // replace (maybe by the same char)
    case 4:
      return text.slice(0, at); // truncated
    default:
      return text + edit.ch; // longer
  }
}

const edits = fc.record({ kind: fc.integer({ min: 0, max: 5 }), at: fc.nat(), ch: fc.constantFrom('\n', ' ', '#', 'a', '0') });

describe('GoldenMatcher', () => {
  test('same verdict and same text as comparing the whole rendered text', () => {
    const piece = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '#', 'é') });
    fc.assert(
      fc.property(piece, fc.array(piece, { maxLength: 12 }), piece, edits, fc.boolean(), (head, lines, tail, edit, present) => {
        const text = head + lines.join('\n') + (lines.length > 0 ? '\n' : '') + tail;
        const expected = present ? edited(text, edit) : null;
        const m = new GoldenMatcher(expected);
        m.head(head);
        for (const l of lines) m.line(l);
        m.tail(tail);
        expect(m.text()).toBe(text);
        if (expected !== null) expect(m.matches).toBe(expected === text);
      }),
      { numRuns: 3000 },
    );
  }, 60_000);
});

describe('streamGolden into a GoldenMatcher on committed traces', () => {
  const jobs = discoverCorpus([traces]).jobs.filter((j) => j.present);
  test('the corpus has goldens to compare', () => {
    expect(jobs.length).toBeGreaterThan(100);
  });
  test('a committed golden matches; an edited one does not, with the text renderGolden gives', async () => {
    // A spread of traces (every 7th), each against its own golden and an edited copy.
    for (const [i, job] of jobs.entries()) {
      if (i % 7 !== 0) continue;
      const golden = readFileSync(job.golden, 'utf8');
      const whole = await renderGolden(job.trace, job.golden, job.selection);
      expect(whole.text).toBe(golden);
      const same = new GoldenMatcher(golden);
      await streamGolden(job.trace, job.golden, job.selection, same);
      expect(same.matches).toBe(true);
      const edit = { kind: 1 + (i % 5), at: (i * 7919) % golden.length, ch: '#' };
      const other = edited(golden, edit);
      const m = new GoldenMatcher(other);
      await streamGolden(job.trace, job.golden, job.selection, m);
      expect(m.matches).toBe(other === golden);
      expect(m.text()).toBe(whole.text);
    }
  }, 120_000);
});
