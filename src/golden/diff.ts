// What `check` prints when a golden no longer matches: the first differing event with the rule
// that fired now and the rule the golden recorded, then a unified diff (`diff` package), colored
// on a TTY unless NO_COLOR is set.

import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { lineIndex, lineRule } from '../replay/log-line.js';

export interface FirstDifference {
  /** 1-based line number in the golden file (for annotations). */
  line: number;
  /** The event index, or -1 when the difference is in the header or summary. */
  index: number;
  golden: string | null;
  now: string | null;
  ruleNow: string;
  ruleGolden: string;
  /** Up to K lines of the new log before the difference. */
  context: string[];
}

export function unifiedDiff(goldenPath: string, expected: string, actual: string, context = 3): string {
  return createTwoFilesPatch(goldenPath, `${goldenPath} (replayed now)`, expected, actual, undefined, undefined, {
    context,
    headerOptions: FILE_HEADERS_ONLY,
  });
}

/** The log is aligned on event index, so a line-by-line walk finds the first changed event. */
export function firstDifference(expected: string, actual: string, k: number): FirstDifference | null {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    const golden = i < a.length ? a[i] : null;
    const now = i < b.length ? b[i] : null;
    const idx = lineIndex(now ?? golden ?? '');
    return {
      line: i + 1,
      index: idx,
      golden,
      now,
      ruleNow: now === null ? '' : lineRule(now),
      ruleGolden: golden === null ? '' : lineRule(golden),
      context: b.slice(Math.max(0, i - k), i).filter((l) => lineIndex(l) >= 0),
    };
  }
  return null;
}

export function describeFirstDifference(d: FirstDifference): string {
  const out: string[] = [];
  if (d.index >= 0) {
    const rules =
      d.ruleNow === d.ruleGolden || d.ruleGolden === ''
        ? `rule ${d.ruleNow || '?'}`
        : `rule now ${d.ruleNow || '?'}, golden had ${d.ruleGolden}`;
    out.push(`first difference at event #${String(d.index).padStart(4, '0')} (${rules}):`);
  } else {
    out.push(`first difference at line ${d.line} (header or summary):`);
  }
  for (const c of d.context) out.push(`    ${c}`);
  out.push(`  - ${d.golden ?? '(end of golden)'}`);
  out.push(`  + ${d.now ?? '(end of log)'}`);
  return out.join('\n');
}

export function useColor(stream: { isTTY?: boolean }): boolean {
  const nc = process.env.NO_COLOR;
  if (nc !== undefined && nc !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const CYAN = '\x1b[36m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

export function colorizeDiff(diff: string): string {
  return diff
    .split('\n')
    .map((l) => {
      if (l.startsWith('+++') || l.startsWith('---')) return BOLD + l + RESET;
      if (l.startsWith('@@')) return CYAN + l + RESET;
      if (l.startsWith('+')) return GREEN + l + RESET;
      if (l.startsWith('-')) return RED + l + RESET;
      return l;
    })
    .join('\n');
}
