// One self-contained HTML page for a replay: no external resource of any kind (styles, script and
// data are inline), so it opens from file:// and can be mailed or attached to a bug. Lanes of the
// device's state are SVG drawn here; the event list is a table; the detail panel is filled by the
// inline script (client.ts) from the JSON block.

import { selectionToken } from '../golden/naming.js';
import { CLIENT_JS } from './client.js';
import type { Timeline, TimelineEvent } from './timeline.js';
import type { Why } from './why.js';

export interface ReportInput {
  file: string;
  title: string;
  main: Timeline;
  why: Why[][];
  compare?: { timeline: Timeline; why: Why[][] };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const LABEL_W = 120;
const ROW_H = 18;

const COLORS: Record<string, string> = {
  D0: '#7bc47f',
  D1: '#e8d36a',
  D2: '#e8b86a',
  D3hot: '#f0a050',
  D3cold: '#e06060',
  on: '#7bc47f',
  off: '#c8c8c8',
  mapped: '#9cc3e6',
  live: '#7bc47f',
  zapped: '#e06060',
  engaged: '#b08ad8',
  revoked: '#e06060',
  unmapped: '#c8c8c8',
};

/** Wide columns for a short trace (readable labels), at least 2 px for a long one (it scrolls). */
function colWidth(n: number): number {
  return Math.min(60, Math.max(2, Math.floor(1080 / Math.max(1, n))));
}

const differs = (a: TimelineEvent, b: TimelineEvent): boolean => a.outcome !== b.outcome || [...a.effects].sort().join() !== [...b.effects].sort().join();

function lanesSvg(t: Timeline, col: number, marks: { div: Set<number>; diff: Set<number> }): string {
  const n = t.events.length;
  const w = LABEL_W + n * col;
  const h = 14 + t.lanes.length * ROW_H;
  const parts: string[] = [];
  parts.push(`<svg class="lanes" role="img" aria-label="device state lanes" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">`);
  for (const i of marks.diff) parts.push(`<rect class="mark-diff" x="${LABEL_W + i * col}" y="0" width="${col}" height="${h}"/>`);
  for (const i of marks.div) parts.push(`<path class="mark-div" d="M${LABEL_W + i * col} 0h${col}l-${col / 2} 10z"><title>#${i} diverges from the observation</title></path>`);
  t.lanes.forEach((lane, li) => {
    const y = 14 + li * ROW_H;
    parts.push(`<text class="lane-name" x="4" y="${y + 13}">${esc(lane.name)}</text>`);
    let start = 0;
    for (let i = 1; i <= n; i++) {
      if (i < n && lane.values[i] === lane.values[start]) continue;
      const v = lane.values[start];
      if (v !== '') {
        const x = LABEL_W + start * col;
        const rw = (i - start) * col;
        parts.push(
          `<rect class="run" x="${x}" y="${y + 1}" width="${rw}" height="${ROW_H - 2}" fill="${COLORS[v] ?? '#ddd'}"><title>${esc(`${lane.name}: ${v} (#${start}..#${i - 1})`)}</title></rect>`,
        );
        if (rw >= v.length * 6 + 4) parts.push(`<text class="run-label" x="${x + 3}" y="${y + 13}">${esc(v)}</text>`);
      }
      start = i;
    }
  });
  parts.push(`<rect class="cursor" x="${LABEL_W}" y="0" width="${col}" height="${h}" visibility="hidden"/>`);
  parts.push('</svg>');
  return parts.join('');
}

function badge(e: TimelineEvent): string {
  return `<span class="badge k-${esc(e.kind)}">${esc(e.outcome)}</span>`;
}

const CSS = `
body{font:13px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:10px 16px;background:#fff;border-bottom:1px solid #ddd}
h1{font-size:17px;margin:0 0 4px}h2{font-size:14px;margin:10px 16px 4px}h3{font-size:13px;margin:10px 0 4px}
.meta,.keys{margin:2px 0;color:#555}.keys kbd{border:1px solid #bbb;border-radius:3px;padding:0 4px;background:#f4f4f4}
.lanes-wrap{overflow-x:auto;margin:0 16px;background:#fff;border:1px solid #ddd}
svg.lanes{display:block;cursor:pointer}.lane-name{font-size:11px;fill:#333}.run-label{font-size:10px;fill:#111;pointer-events:none}
.mark-div{fill:#d22}.mark-diff{fill:#ffe2b8}.cursor{fill:none;stroke:#1565c0;stroke-width:2}
main{display:grid;grid-template-columns:minmax(0,3fr) minmax(280px,2fr);gap:12px;padding:12px 16px}
.events-wrap{max-height:70vh;overflow:auto;background:#fff;border:1px solid #ddd}
table{border-collapse:collapse;width:100%}th,td{padding:2px 6px;text-align:left;vertical-align:top;border-bottom:1px solid #eee;white-space:nowrap}
th{position:sticky;top:0;background:#f0f0f0}tr.ev{cursor:pointer}tr.ev:hover{background:#f5f9ff}tr.sel{background:#dbe9fb!important}
tr.div td:first-child{border-left:4px solid #d22}tr.diff td:first-child{border-left:4px solid #f0a050}
td.what,pre.line{font-family:ui-monospace,monospace;font-size:12px}pre.line{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:4px;margin:0}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#e0e0e0}
.k-ok{background:#d8efd9}.k-errno{background:#fbd3c4}.k-signal{background:#f6b2b2}.k-hazard{background:#ffd48a}.k-vmm-exit{background:#d32f2f;color:#fff}
.k-all-ones,.k-dropped,.k-unassigned{background:#f3e0a0}.k-blocked{background:#cdbdf0}.k-unsupported{background:#ddd;color:#666}
.obs{color:#b00}.note{color:#865}.rule{font-family:ui-monospace,monospace;color:#555}
#detail{background:#fff;border:1px solid #ddd;padding:8px 12px;max-height:70vh;overflow:auto}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;margin:6px 0}dt{color:#666}dd{margin:0}
.why{border-left:3px solid #9cc3e6;padding:2px 8px;margin:6px 0}.why-head{font-weight:600}.switch{margin:2px 0 2px 8px}.source{color:#555;font-size:12px}
`;

export function renderReport(r: ReportInput): string {
  const ev = r.main.events;
  const cmp = r.compare?.timeline.events;
  const div = new Set(ev.filter((e) => e.divergence !== null).map((e) => e.index));
  const diff = new Set(cmp === undefined ? [] : ev.filter((e, i) => differs(e, cmp[i])).map((e) => e.index));
  const marked = [...new Set([...div, ...diff])].sort((a, b) => a - b);
  const labels = [selectionToken(r.main.selection), r.compare ? selectionToken(r.compare.timeline.selection) : ''];
  const col = colWidth(ev.length);
  const data = {
    labels,
    marked,
    col,
    laneX: LABEL_W,
    events: ev.map((e, i) => ({
      line: e.line,
      outcome: e.outcome,
      kind: e.kind,
      effects: e.effects,
      rule: e.rule,
      divergence: e.divergence,
      note: e.note,
      why: r.why[i],
      ...(cmp === undefined
        ? {}
        : { cmp: { line: cmp[i].line, outcome: cmp[i].outcome, kind: cmp[i].kind, effects: cmp[i].effects, rule: cmp[i].rule, divergence: cmp[i].divergence, why: r.compare!.why[i], differs: diff.has(i) } }),
    })),
  };
  const rows = ev.map((e, i) => {
    const cls = ['ev', div.has(i) ? 'div' : '', diff.has(i) ? 'diff' : ''].filter((c) => c !== '').join(' ');
    const obs =
      e.divergence !== null
        ? ` <span class="obs">!= observed: ${esc(e.divergence)}</span>`
        : e.note !== null
          ? ` <span class="note">device: ${esc(e.note)}</span>`
          : '';
    const other = cmp === undefined ? '' : `<td>${badge(cmp[i])}</td>`;
    return `<tr class="${cls}" data-i="${i}"><td>#${i}</td><td>${e.side}</td><td class="what">${esc(e.what)}</td><td>${badge(e)}${obs}</td>${other}<td class="rule">${esc(e.rule)}</td></tr>`;
  });
  const lanes = [
    `<h2>Device state under ${esc(labels[0])}</h2><div class="lanes-wrap">${lanesSvg(r.main, col, { div, diff })}</div>`,
    r.compare ? `<h2>Device state under ${esc(labels[1])}</h2><div class="lanes-wrap">${lanesSvg(r.compare.timeline, col, { div: new Set(), diff })}</div>` : '',
  ].join('');
  const notes = r.main.summary.deviceNotes;
  const counts =
    `${ev.length} events, ${div.size} divergence${div.size === 1 ? '' : 's'} from the observation` +
    (notes > 0 ? `, ${notes} device note${notes === 1 ? '' : 's'}` : '') +
    (cmp ? `, ${diff.size} event${diff.size === 1 ? '' : 's'} differ under ${labels[1]}` : '');
  // JSON inside <script>: "<" escaped so no trace string can close the element.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>vfio-replay report: ${esc(r.title || r.file)}</title><style>${CSS}</style></head>
<body>
<header><h1>${esc(r.title || r.file)}</h1>
<p class="meta" id="summary">trace ${esc(r.file)} &middot; ${esc(labels[0])}${r.compare ? ` compared with ${esc(labels[1])}` : ''} &middot; ${counts}</p>
<p class="keys"><kbd>n</kbd>/<kbd>p</kbd> next/previous ${cmp ? 'divergence or difference' : 'divergence'} &middot; <kbd>j</kbd>/<kbd>k</kbd> or arrows: next/previous event &middot; click an event or a lane for its rule, switches and sources &middot; <span id="where"></span></p></header>
<section id="lanes">${lanes}</section>
<main><div class="events-wrap"><table id="events"><thead><tr><th>#</th><th>side</th><th>event</th><th>${esc(labels[0])}</th>${cmp ? `<th>${esc(labels[1])}</th>` : ''}<th>rule</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>
<aside id="detail" aria-live="polite"></aside></main>
<script type="application/json" id="report-data">${json}</script>
<script>${CLIENT_JS}</script>
</body></html>
`;
}
