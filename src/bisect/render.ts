// Text and JSON forms of a bisect report. The text is for people (a bisect log, the answer, the
// change explained, the diff); the JSON carries the same facts with version ids instead of indices.

import { shortId } from './axis.js';
import { eventKey, shownResult } from './predicate.js';
import type { BisectReport, Transition } from './run.js';
import type { SearchResult } from './search.js';
import type { TableGroup, TransitionTable } from './table.js';
import type { EventResult } from './types.js';

export interface ReportContext {
  trace: string;
  /** How the list was chosen (`series barmap-at-enable (base linux-7.0)`). */
  label: string;
  axis: 'kernel' | 'vmm';
  /** The version held fixed on the other axis (`vmm none`, `kernel linux-6.19`). */
  fixed: string;
}

/** `a, b@v1, @v2, @v3`: a version list with series ids shortened after the first. */
export function versionList(ids: readonly string[]): string {
  return ids.map((id, i) => shortId(id, i === 0 ? null : ids[i - 1])).join(', ');
}

/** `linux-7.0..@v1` style label of a group of versions. */
export function rangeLabel(from: string, to: string): string {
  return from === to ? from : `${from}..${shortId(to, from)}`;
}

function outcomeText(e: EventResult): string {
  return `${shownResult(e)} [${e.rule}]`;
}

function idx(i: number): string {
  return '#' + String(i).padStart(4, '0');
}

function resultText(r: SearchResult, ids: readonly string[], report: BisectReport): string[] {
  const of = `${report.replays} of ${ids.length} versions replayed`;
  switch (r.kind) {
    case 'changed':
      return [`first new version: ${ids[r.firstNew]} (last old: ${ids[r.lastOld]}; ${of})`];
    case 'ambiguous':
      return [
        `the first new version is one of ${r.candidates.map((i) => ids[i]).join(', ')} (after ${ids[r.lastOld]}: ` +
          `the versions between were skipped; ${of})`,
      ];
    case 'no-change':
      return [`no change: ${ids[r.lo]} and ${ids[r.hi]} agree (${of}; --all shows changes that revert in between)`];
    case 'single':
      return [`nothing to compare: ${ids[r.at]} is the only version that was not skipped (${of})`];
    case 'first-is-new':
      return [`nothing to bisect: the first testable version, ${ids[r.at]}, is already new (swap --old and --new?) (${of})`];
    case 'all-skipped':
      return [`every version was skipped: nothing to compare (${of})`];
  }
}

function transitionText(t: Transition): string[] {
  const out: string[] = [];
  if (t.event !== null) {
    out.push(`  ${idx(t.event.index)} ${t.event.what}`);
    const w = Math.max(t.from.length, t.to.length);
    out.push(`    ${t.from.padEnd(w)}  ${t.event.before === null ? '(no such event)' : outcomeText(t.event.before)}`);
    out.push(`    ${t.to.padEnd(w)}  ${t.event.after === null ? '(no such event)' : outcomeText(t.event.after)}`);
  }
  if (t.rule !== null)
    out.push(
      t.rule.before === t.rule.after
        ? `  rule: ${t.rule.after} (the same rule decided differently: a switch it reads changed)`
        : `  rule: ${t.rule.before} -> ${t.rule.after}`,
    );
  if (t.earlier.length > 0) {
    const shown = t.earlier.slice(0, 4).map((e) => (e.ruleBefore === e.ruleAfter ? idx(e.index) : `${idx(e.index)} (${e.ruleBefore} -> ${e.ruleAfter})`));
    const more = t.earlier.length > 4 ? `, +${t.earlier.length - 4} more` : '';
    out.push(`  before it, only effects differ: ${shown.join(', ')}${more}`);
  }
  if (t.switches.length > 0) {
    out.push('  switches changed:');
    for (const s of t.switches) out.push(`    ${s.name}: ${s.before} -> ${s.after}${s.source === '' ? '' : `  (${s.source})`}`);
  }
  return out;
}

/** An outcome short enough for a table cell: no hazard prose, no host addresses as return values. */
export function compactOutcome(e: EventResult): string {
  if (e.kind === 'hazard') return 'HAZARD';
  if (e.kind === 'ok') return e.outcome.replace(/ ret=(\d+)/, (m, n: string) => (n.length > 6 ? '' : m));
  return e.outcome;
}

/** Events among `among` whose key differs between two groups (both testable). */
function differsFrom(a: TableGroup, b: TableGroup, among: number[], key: (e: EventResult) => string): number[] {
  return among.filter((i) => {
    const x = a.events.find((e) => e.index === i);
    const y = b.events.find((e) => e.index === i);
    return (x === undefined) !== (y === undefined) || (x !== undefined && y !== undefined && key(x) !== key(y));
  });
}

export function tableText(t: TransitionTable, withVerdict: boolean, eventWhat: (i: number) => string): string[] {
  const out: string[] = [];
  const labels = t.groups.map((g) => rangeLabel(g.from, g.to));
  const w = Math.max(...labels.map((l) => l.length));
  const verdict = (g: TableGroup): string => (withVerdict ? `${g.verdict.padEnd(4)}  ` : '');
  const hidden = t.changing.filter((i) => !t.columns.includes(i));
  // Why a row differs from the row above when its cells cannot show it (effects only).
  const note = (gi: number): string => {
    const g = t.groups[gi];
    const prev = t.groups[gi - 1];
    if (prev === undefined || g.verdict === 'skip' || prev.verdict === 'skip') return '';
    const d = differsFrom(prev, g, hidden, eventKey);
    return d.length === 0 ? '' : `  (effects also change at ${d.map(idx).join(' ')})`;
  };
  if (t.columns.length === 0) {
    out.push('transition table: every version agrees');
    t.groups.forEach((g, i) => out.push(`  ${labels[i].padEnd(w)}  ${verdict(g)}${g.verdict === 'skip' ? `skipped: ${g.skipReason ?? ''}` : 'same outcomes'}`));
    return out;
  }
  if (t.columns.length === 1) {
    const c = t.columns[0];
    out.push(`transition table, by ${idx(c)} ${eventWhat(c)}:`);
    t.groups.forEach((g, i) => {
      const e = g.events.find((x) => x.index === c);
      const rules = (g.rules[c] ?? []).join(', ');
      const cell =
        g.verdict === 'skip' ? `skipped: ${g.skipReason ?? ''}` : e === undefined ? '(no such event)' : `${shownResult(e)} [${rules || e.rule}]`;
      out.push(`  ${labels[i].padEnd(w)}  ${verdict(g)}${cell}${note(i)}`);
    });
    return out;
  }
  out.push(`transition table, by the ${t.byOutcome ? 'outcomes' : 'events'} that change:`);
  const cells = t.groups.map((g) =>
    t.columns.map((c) => {
      if (g.verdict === 'skip') return '-';
      const e = g.events.find((x) => x.index === c);
      return e === undefined ? '(none)' : t.byOutcome ? compactOutcome(e) : shownResult(e);
    }),
  );
  const widths = t.columns.map((c, j) => Math.max(idx(c).length, ...cells.map((row) => row[j].length)));
  const head = t.columns.map((c, j) => idx(c).padEnd(widths[j])).join('  ');
  out.push(`  ${''.padEnd(w)}  ${withVerdict ? '      ' : ''}${head}`.trimEnd());
  t.groups.forEach((g, i) => {
    const row = g.verdict === 'skip' ? `skipped: ${g.skipReason ?? ''}` : cells[i].map((x, j) => x.padEnd(widths[j])).join('  ').trimEnd();
    out.push(`  ${labels[i].padEnd(w)}  ${verdict(g)}${row}${note(i)}`);
  });
  for (const c of t.columns) out.push(`  ${idx(c)} = ${eventWhat(c)}`);
  return out;
}

export function reportText(report: BisectReport, ctx: ReportContext, terms: boolean, withDiff = true): string {
  const ids = report.versions;
  const out: string[] = [];
  out.push(`bisect ${ctx.trace}: ${ctx.label}, ${ctx.fixed}`);
  out.push(`  ${ids.length} versions: ${versionList(ids)}`);
  out.push(`  predicate: ${report.predicate}`);
  out.push('');
  if (report.table === null) {
    const w = Math.max(...report.steps.map((s) => s.id.length));
    for (const s of report.steps) out.push(`  ${s.id.padEnd(w)}  ${s.verdict.padEnd(4)}  ${s.reason}`);
    out.push('');
  } else {
    out.push(...tableText(report.table, terms, (i) => eventWhatFrom(report, i)));
    out.push('');
  }
  const skipped = report.result.skipped;
  if (skipped.length > 0) {
    const reasons = new Map(report.steps.map((s) => [s.id, s.reason]));
    out.push(`skipped (like git bisect's 125): ${skipped.map((i) => `${ids[i]} (${reasons.get(ids[i]) ?? ''})`).join(', ')}`);
  }
  out.push(...resultText(report.result, ids, report));
  const d = report.lineOnlyDifference;
  if (d !== null) {
    out.push(`  the logs still differ at ${idx(d.index)}, in rule names or effect order only (not a change; --exact counts it):`);
    out.push(`    - ${d.before}`);
    out.push(`    + ${d.after}`);
  }
  if (report.transition !== null) {
    out.push(...transitionText(report.transition));
    if (withDiff && report.transition.diff !== '') {
      out.push('');
      out.push(report.transition.diff.trimEnd());
    }
  }
  return out.join('\n') + '\n';
}

function eventWhatFrom(report: BisectReport, index: number): string {
  for (const g of report.table?.groups ?? []) {
    const e = g.events.find((x) => x.index === index);
    if (e !== undefined) return e.what;
  }
  return '';
}

function eventJson(e: EventResult | null): object | null {
  if (e === null) return null;
  return { index: e.index, what: e.what, outcome: e.outcome, effects: e.effects, rule: e.rule, line: e.line };
}

export function reportJson(report: BisectReport, ctx: ReportContext): object {
  const ids = report.versions;
  const r = report.result;
  const at = (i: number): string => ids[i];
  const result: Record<string, unknown> = { kind: r.kind, skipped: r.skipped.map(at) };
  if (r.kind === 'changed') Object.assign(result, { lastOld: at(r.lastOld), firstNew: at(r.firstNew) });
  if (r.kind === 'ambiguous') Object.assign(result, { lastOld: at(r.lastOld), candidates: r.candidates.map(at) });
  if (r.kind === 'no-change') Object.assign(result, { from: at(r.lo), to: at(r.hi) });
  if (r.kind === 'single' || r.kind === 'first-is-new') Object.assign(result, { at: at(r.at) });
  const t = report.transition;
  return {
    trace: ctx.trace,
    axis: ctx.axis,
    selection: ctx.label,
    fixed: ctx.fixed,
    versions: ids,
    predicate: report.predicate,
    replays: report.replays,
    steps: report.steps,
    result,
    lineOnlyDifference: report.lineOnlyDifference,
    transition:
      t === null
        ? null
        : {
            from: t.from,
            to: t.to,
            event:
              t.event === null
                ? null
                : { index: t.event.index, what: t.event.what, before: eventJson(t.event.before), after: eventJson(t.event.after) },
            rule: t.rule,
            earlier: t.earlier,
            switches: t.switches,
            diff: t.diff,
          },
    table:
      report.table === null
        ? null
        : {
            changing: report.table.changing,
            groups: report.table.groups.map((g) => ({
              from: g.from,
              to: g.to,
              versions: ids.slice(g.first, g.last + 1),
              verdict: g.verdict,
              skipReason: g.skipReason,
              events: g.events.map(eventJson),
              rules: g.rules,
            })),
          },
  };
}
