// vfio-replay from vitest (`import { defineCorpusTests } from 'vfio-replay/vitest'`):
//
//   defineCorpusTests('traces')                       one test per golden under the folder, plus
//                                                     one failing test per missing/obsolete golden
//   await expect('t.pb').toReplayAs('t@linux-6.19.golden')   the matcher behind them
//
// The goldens are the same files `vfio-replay check` uses. Tests never write them, except when
// VFIO_REPLAY_UPDATE=1 is set outside CI (the vitest twin of `check --update`).

import { relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { writeFileAtomic } from '../golden/atomic.js';
import { inCI } from '../golden/check.js';
import { discoverCorpus } from '../golden/corpus.js';
import { describeFirstDifference, firstDifference, unifiedDiff } from '../golden/diff.js';
import { renderGolden } from '../golden/generate.js';
import { parseGoldenPath, parseSelectionToken } from '../golden/naming.js';
import { FIX } from '../golden/report.js';
import { existsSync, readFileSync } from 'node:fs';

export interface ReplayMatchResult {
  pass: boolean;
  message: () => string;
}

function updateRequested(): boolean {
  return process.env.VFIO_REPLAY_UPDATE === '1' && !inCI();
}

/** The matcher's logic, usable without vitest: replays `trace` under the versions `golden` names. */
export async function replayMatchesGolden(trace: string, golden: string): Promise<ReplayMatchResult> {
  const parsed = parseGoldenPath(golden);
  const sel = parsed === null ? null : parseSelectionToken(parsed.token);
  if (sel === null)
    return { pass: false, message: () => `${golden} is not a golden name (expected NAME@KERNEL[+VMM].golden)` };
  const actual = (await renderGolden(trace, golden, sel)).text;
  if (!existsSync(golden)) {
    if (updateRequested()) {
      writeFileAtomic(golden, actual);
      return { pass: true, message: () => `created ${golden}` };
    }
    return { pass: false, message: () => `golden ${golden} does not exist\nfix: ${FIX} ${trace}` };
  }
  const expected = readFileSync(golden, 'utf8');
  if (expected === actual) return { pass: true, message: () => `${trace} replays as ${golden}` };
  if (updateRequested()) {
    writeFileAtomic(golden, actual);
    return { pass: true, message: () => `updated ${golden}` };
  }
  const first = firstDifference(expected, actual, 3);
  return {
    pass: false,
    message: () =>
      [
        `${trace} no longer replays as ${golden}`,
        first === null ? '' : describeFirstDifference(first),
        unifiedDiff(golden, expected, actual).trimEnd(),
        `fix (if the new outcome is right): ${FIX} ${golden}`,
      ]
        .filter((s) => s !== '')
        .join('\n'),
  };
}

expect.extend({
  async toReplayAs(received: unknown, golden: string) {
    if (typeof received !== 'string') return { pass: false, message: () => 'toReplayAs expects a trace path (string)' };
    const r = await replayMatchesGolden(received, golden);
    // With .not the message explains why it matched.
    return { pass: r.pass, message: r.message };
  },
});

declare module 'vitest' {
  // Must repeat vitest's own declaration exactly, type parameter included.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-unused-vars
  interface Matchers<T = any> {
    /** Replays the trace (path) under the versions the golden's name gives and compares. Await it. */
    toReplayAs(golden: string): Promise<void>;
  }
}

export interface CorpusTestOptions {
  /** Names are shown relative to this folder (default: process.cwd()). */
  root?: string;
}

/**
 * One test per golden under `dir` (the listing decides which), grouped by trace, plus a failing
 * test for each missing or obsolete golden, so vitest fails exactly when `vfio-replay check` does.
 */
export function defineCorpusTests(dir: string, opts: CorpusTestOptions = {}): void {
  const root = opts.root ?? process.cwd();
  const corpus = discoverCorpus([dir]);
  const byTrace = new Map<string, typeof corpus.jobs>();
  for (const j of corpus.jobs) {
    const list = byTrace.get(j.trace) ?? [];
    list.push(j);
    byTrace.set(j.trace, list);
  }
  for (const [trace, jobs] of byTrace) {
    describe(relative(root, trace), () => {
      for (const j of jobs) {
        test(relative(root, j.golden), async () => {
          await expect(j.trace).toReplayAs(j.golden);
        });
      }
    });
  }
  if (corpus.obsolete.length > 0) {
    describe('obsolete goldens', () => {
      for (const o of corpus.obsolete) {
        test(relative(root, o.path), () => {
          expect.fail(`${o.path} is obsolete: ${o.reason}\nfix: ${FIX} ${o.path} (deletes it)`);
        });
      }
    });
  }
}
