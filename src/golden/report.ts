// How `check` tells people (and CI systems) what happened: a human report on stdout (bad-input
// errors on stderr), JUnit XML for
// test dashboards, and GitHub Actions workflow commands for inline annotations. Every failure names
// the exact command that fixes it.

import type { CheckReport, JobResult, ObsoleteResult } from './check.js';
import type { DeviceNotes } from './evaluate.js';
import { colorizeDiff, describeFirstDifference } from './diff.js';
import { selectionToken } from './naming.js';
import { xmlEscape } from '../junit/xml.js';

export const FIX = 'npx vfio-replay check --update';

export interface TextOptions {
  color: boolean;
  ci: boolean;
  /** Print one `ok` line per matching golden too. */
  verbose: boolean;
}

function fixHint(path: string, ci: boolean): string {
  return ci ? `fix: run \`${FIX} ${path}\` locally, review the change and commit it` : `fix: ${FIX} ${path}`;
}

export function formatText(report: CheckReport, o: TextOptions): string {
  const out: string[] = [];
  const paint = (code: string, s: string): string => (o.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  for (const r of report.results) out.push(...formatResult(r, o, paint));
  for (const ob of report.obsolete) {
    if (ob.action === 'deleted') out.push(`${paint('33', 'deleted')} ${ob.path} (obsolete: ${ob.reason})`);
    else out.push(`${paint('31', 'OBSOLETE')} ${ob.path}: ${ob.reason}`, `  ${fixHint(ob.path, o.ci)} (deletes it)`);
  }
  out.push(summaryLine(report));
  return out.join('\n') + '\n';
}

function formatResult(r: JobResult, o: TextOptions, paint: (c: string, s: string) => string): string[] {
  const g = r.job.golden;
  const x = r.outcome;
  switch (x.kind) {
    case 'match':
      if (x.notes !== undefined)
        return [`${paint('36', 'note')} ${g}: ${noteText(x.notes)} (device notes, not divergences; --strict-device fails them)`];
      return o.verbose ? [`${paint('32', 'ok')} ${g}`] : [];
    case 'unexpressible':
      return [`${paint('33', 'SKIP')} ${g}: ${x.message} (cannot be expressed in this model: exit 125)`];
    case 'error':
      return []; // bad input goes to stderr: formatErrors
    case 'missing':
      if (r.action === 'created') return [`${paint('32', 'created')} ${g}`];
      return [
        `${paint('31', 'MISSING')} ${g}: ${r.job.listing} lists ${selectionToken(r.job.selection)} but the golden does not exist`,
        `  ${fixHint(r.job.trace, o.ci)}`,
      ];
    case 'mismatch': {
      if (r.action === 'written') return [`${paint('33', 'updated')} ${g}${x.first ? ` (first change at #${x.first.index}, ${x.first.ruleNow})` : ''}`];
      const lines = [`${paint('31', 'FAIL')} ${g}`];
      if (x.unsupported > 0) lines.push(`  the replay now has ${x.unsupported} unsupported event(s): ${x.unsupportedLine} (exit 125)`);
      if (x.first !== null) {
        lines.push(indent(describeFirstDifference(x.first)));
        const kind = differenceKind(x.first.now);
        if (kind !== 'mismatch') lines.push(`  ${KIND_TEXT[kind]}`);
      }
      lines.push(indent((o.color ? colorizeDiff(x.diff) : x.diff).trimEnd()));
      lines.push(`  ${fixHint(g, o.ci)}   (if the new outcome is right)`);
      return lines;
    }
  }
}

function noteText(n: DeviceNotes): string {
  return `${n.count} device note${n.count === 1 ? '' : 's'}, first on line ${n.firstLine}: ${n.first}`;
}

/**
 * What a golden's first changed line now says about the observation: a model divergence (the
 * kernel or VMM model disagrees), a device note (the device's hardware state; under
 * --strict-device a divergence too), or neither (a change in the prediction only).
 */
export function differenceKind(now: string | null): 'model-divergence' | 'device-note' | 'mismatch' {
  if (now === null) return 'mismatch';
  if (now.includes('  != observed: device: ') || now.includes('  device: ')) return 'device-note';
  if (now.includes('  != observed: ')) return 'model-divergence';
  return 'mismatch';
}

const KIND_TEXT = {
  'model-divergence': 'the new line is a model divergence: the kernel/VMM model disagrees with what was observed',
  'device-note': 'the new line is a device note: the trace showed the hardware state of the device otherwise (not the model under test)',
  mismatch: '',
} as const;

/**
 * The bad-input errors (a corrupt trace, an unreadable golden), one located line each, as every
 * command reports bad input: for stderr, apart from the report on stdout.
 */
export function formatErrors(report: CheckReport): string {
  let out = '';
  for (const r of report.results) if (r.outcome.kind === 'error') out += `vfio-replay: ${r.outcome.message}\n`;
  return out;
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
}

export function counts(report: CheckReport): Record<string, number> {
  const c = { goldens: report.results.length, passed: 0, failed: 0, missing: 0, obsolete: 0, skipped: 0, errors: 0, written: 0, deviceNotes: 0 };
  for (const r of report.results) {
    const k = r.outcome.kind;
    if (r.outcome.kind === 'match' && r.outcome.notes !== undefined) c.deviceNotes += r.outcome.notes.count;
    if (r.action !== 'none') c.written++;
    else if (k === 'match') c.passed++;
    else if (k === 'mismatch') c.failed++;
    else if (k === 'missing') c.missing++;
    else if (k === 'unexpressible') c.skipped++;
    else c.errors++;
  }
  for (const o of report.obsolete) {
    if (o.action === 'none') c.obsolete++;
    else c.written++;
  }
  return c;
}

export function summaryLine(report: CheckReport): string {
  const c = counts(report);
  const parts = [`${c.goldens} goldens`, `${c.passed} passed`, `${c.failed} failed`, `${c.missing} missing`, `${c.obsolete} obsolete`];
  if (c.skipped > 0) parts.push(`${c.skipped} skipped`);
  if (c.errors > 0) parts.push(`${c.errors} errors`);
  if (c.deviceNotes > 0) parts.push(`${c.deviceNotes} device note${c.deviceNotes === 1 ? '' : 's'}`);
  if (c.written > 0) parts.push(`${c.written} files written or deleted`);
  return `check: ${parts.join(', ')}`;
}

// ----- JUnit ------------------------------------------------------------------------------------

export function junitXml(report: CheckReport): string {
  const c = counts(report);
  const cases: string[] = [];
  const tc = (classname: string, name: string, body: string): string =>
    `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(name)}" time="0">${body}</testcase>`;
  for (const r of report.results) {
    const name = selectionToken(r.job.selection);
    const x = r.outcome;
    let body = '';
    if (r.action === 'none') {
      if (x.kind === 'mismatch')
        body = `\n      <failure message="${xmlEscape(x.first ? `first difference at #${x.first.index} (rule ${x.first.ruleNow})` : 'golden differs')}" type="${differenceKind(x.first?.now ?? null)}">${xmlEscape(x.diff)}</failure>\n    `;
      else if (x.kind === 'match' && x.notes !== undefined)
        body = `\n      <properties><property name="device-notes" value="${x.notes.count}"/></properties>\n      <system-out>${xmlEscape(noteText(x.notes))}</system-out>\n    `;
      else if (x.kind === 'missing') body = `\n      <failure message="missing golden ${xmlEscape(r.job.golden)}" type="missing"/>\n    `;
      else if (x.kind === 'error') body = `\n      <error message="${xmlEscape(x.message)}" type="bad-input"/>\n    `;
      else if (x.kind === 'unexpressible') body = `\n      <skipped message="${xmlEscape(x.message)}"/>\n    `;
    }
    cases.push(tc(r.job.trace, name, body));
  }
  for (const o of report.obsolete) {
    const body = o.action === 'none' ? `\n      <failure message="obsolete: ${xmlEscape(o.reason)}" type="obsolete"/>\n    ` : '';
    cases.push(tc(o.path, 'obsolete', body));
  }
  const tests = report.results.length + report.obsolete.length;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="vfio-replay check" tests="${tests}" failures="${c.failed + c.missing + c.obsolete}" errors="${c.errors}">\n` +
    `  <testsuite name="vfio-replay check" tests="${tests}" failures="${c.failed + c.missing + c.obsolete}" errors="${c.errors}" skipped="${c.skipped}">\n` +
    cases.join('\n') +
    (cases.length > 0 ? '\n' : '') +
    `  </testsuite>\n</testsuites>\n`
  );
}

// ----- GitHub Actions ---------------------------------------------------------------------------

/** Workflow-command escaping (`%`, CR, LF in data; also `:` and `,` in properties). */
function ghData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function ghProp(s: string): string {
  return ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function githubAnnotations(report: CheckReport): string {
  const out: string[] = [];
  const err = (file: string, line: number, title: string, msg: string): void => {
    out.push(`::error file=${ghProp(file)},line=${line},title=${ghProp(title)}::${ghData(msg)}`);
  };
  for (const r of report.results) {
    if (r.action !== 'none') continue;
    const x = r.outcome;
    if (x.kind === 'mismatch') {
      const line = x.first?.line ?? 1;
      const what = x.first ? describeFirstDifference(x.first) : 'golden differs';
      const kind = differenceKind(x.first?.now ?? null);
      const title = kind === 'model-divergence' ? 'vfio-replay model divergence' : kind === 'device-note' ? 'vfio-replay device note (strict)' : 'vfio-replay golden mismatch';
      err(r.job.golden, line, title, `${what}\n${fixHint(r.job.golden, true)}`);
    } else if (x.kind === 'match' && x.notes !== undefined) {
      out.push(`::notice file=${ghProp(r.job.golden)},line=${x.notes.firstLine},title=${ghProp('vfio-replay device note')}::${ghData(noteText(x.notes))}`);
    } else if (x.kind === 'missing') {
      err(r.job.listing, 1, 'vfio-replay missing golden', `${r.job.golden} does not exist\n${fixHint(r.job.trace, true)}`);
    } else if (x.kind === 'error') {
      err(r.job.trace, 1, 'vfio-replay bad input', x.message);
    }
  }
  for (const o of report.obsolete)
    if (o.action === 'none') err(o.path, 1, 'vfio-replay obsolete golden', `${o.reason}\n${fixHint(o.path, true)}`);
  return out.length > 0 ? out.join('\n') + '\n' : '';
}
