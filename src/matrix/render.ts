// The matrix as text (a table of short keys and a legend with the outcome and rule of each key, so
// 23 kernels x 7 VMMs fit a terminal), as Markdown (full cells, for a report or a mailing list),
// and as JSON.

import { compactOutcome } from '../bisect/render.js';
import { indexLabel } from '../replay/log-line.js';
import type { Cell, Matrix } from './index.js';

const vmmLabel = (v: string | null): string => v ?? 'none';

/** A cell in words: `#0164 vmm-exit killed SIGBUS status=135 [vmm.direct-map-stale]`. */
export function cellText(c: Cell, withIndex: boolean): string {
  if (c.kind === 'none') return 'no failure';
  const at = withIndex ? `${indexLabel(c.event.index)} ` : '';
  if (c.kind === 'unknown') return `${at}unknown here (${c.event.outcome.replace(/^unsupported /, '')})`;
  return `${at}${compactOutcome(c.event)} [${c.event.rule}]`;
}

function heading(m: Matrix): string {
  return m.event === null ? 'each cell: the first failing event and its rule' : `each cell: event ${indexLabel(m.event)} ${m.what.get(m.event) ?? ''}`.trimEnd();
}

export function matrixText(m: Matrix, file: string): string {
  const withIndex = m.event === null;
  const keys = new Map<string, string>();
  const key = (c: Cell): string => {
    const t = cellText(c, withIndex);
    let k = keys.get(t);
    if (k === undefined) {
      k = keys.size < 26 ? String.fromCharCode(97 + keys.size) : `z${keys.size - 25}`;
      keys.set(t, k);
    }
    return k;
  };
  const rows = m.cells.map((row) => row.map(key));
  const kw = Math.max(6, ...m.kernels.map((k) => k.length));
  const widths = m.vmms.map((v, j) => Math.max(vmmLabel(v).length, ...rows.map((r) => r[j].length)));
  const n = (k: number, w: string): string => `${k} ${w}${k === 1 ? '' : 's'}`;
  const out: string[] = [`matrix ${file}: ${n(m.kernels.length, 'kernel')} x ${n(m.vmms.length, 'VMM')}, ${heading(m)}`, ''];
  out.push(`${'kernel'.padEnd(kw)}  ${m.vmms.map((v, j) => vmmLabel(v).padEnd(widths[j])).join('  ')}`.trimEnd());
  m.kernels.forEach((k, i) => out.push(`${k.padEnd(kw)}  ${rows[i].map((c, j) => c.padEnd(widths[j])).join('  ')}`.trimEnd()));
  out.push('');
  for (const [t, k] of keys) out.push(`${k.padStart(3)}  ${t}`);
  if (withIndex) {
    out.push('');
    for (const i of [...m.what.keys()].sort((a, b) => a - b)) out.push(`${indexLabel(i)} = ${m.what.get(i)}`);
  }
  return out.join('\n') + '\n';
}

const md = (s: string): string => s.replace(/\|/g, '\\|');

export function matrixMarkdown(m: Matrix, file: string): string {
  const withIndex = m.event === null;
  const out: string[] = [`**${md(file)}**: ${md(heading(m))}`, ''];
  out.push(`| kernel | ${m.vmms.map((v) => md(vmmLabel(v))).join(' | ')} |`);
  out.push(`|---|${m.vmms.map(() => '---').join('|')}|`);
  m.kernels.forEach((k, i) => {
    const cells = m.cells[i].map((c) => {
      if (c.kind !== 'event') return md(cellText(c, withIndex));
      const at = withIndex ? `${indexLabel(c.event.index)} ` : '';
      return `${at}\`${md(compactOutcome(c.event))}\` <sub>${md(c.event.rule)}</sub>`;
    });
    out.push(`| ${md(k)} | ${cells.join(' | ')} |`);
  });
  if (withIndex) {
    out.push('');
    for (const i of [...m.what.keys()].sort((a, b) => a - b)) out.push(`- ${indexLabel(i)}: \`${md(m.what.get(i) ?? '')}\``);
  }
  return out.join('\n') + '\n';
}

export function matrixJson(m: Matrix, file: string): object {
  return {
    trace: file,
    event: m.event,
    kernels: m.kernels,
    vmms: m.vmms.map(vmmLabel),
    cells: m.kernels.flatMap((kernel, i) =>
      m.vmms.map((vmm, j) => {
        const c = m.cells[i][j];
        const base = { kernel, vmm: vmmLabel(vmm) };
        if (c.kind === 'none') return { ...base, failing: false };
        const e = c.event;
        return { ...base, ...(c.kind === 'unknown' ? { unknown: true } : {}), index: e.index, what: e.what, kind: e.kind, outcome: e.outcome, effects: e.effects, rule: e.rule };
      }),
    ),
  };
}
