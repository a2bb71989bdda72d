// When goldens change, the changes grouped by the rule that changed at each golden's first
// difference: "14 goldens at config.command.mse-clear-zaps -> config.command.mse-clear-no-zap",
// so one model change reads as one line, not fourteen diffs.

import type { CheckReport } from '../golden/check.js';

export function changesByRule(report: CheckReport): string[] {
  const groups = new Map<string, number>();
  for (const r of report.results) {
    if (r.outcome.kind !== 'mismatch' || r.outcome.first === null) continue;
    const f = r.outcome.first;
    const key = f.ruleGolden === f.ruleNow ? `${f.ruleNow || '?'} (same rule, new outcome or effects)` : `${f.ruleGolden || '?'} -> ${f.ruleNow || '?'}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const total = [...groups.values()].reduce((a, b) => a + b, 0);
  if (total < 2) return [];
  const plural = (n: number): string => `${n} golden${n === 1 ? '' : 's'}`;
  if (groups.size === 1) return [`changes by rule: ${plural(total)}, all at ${[...groups.keys()][0]}`];
  return [
    `changes by rule (${plural(total)}):`,
    ...[...groups].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, n]) => `  ${plural(n)} at ${k}`),
  ];
}
