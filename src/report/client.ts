// The report page's script, inlined into the HTML (no network, works from file://). It reads the
// JSON block the page carries, fills the detail panel on click, moves the lane cursors, and binds
// the keys: n / p next and previous divergence (or difference in a comparison), j / k or the arrow
// keys next and previous event. All text goes in through textContent: trace strings are data.

export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var rows = Array.prototype.slice.call(document.querySelectorAll('#events tbody tr'));
  var cur = -1;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function section(box, title, ev, label) {
    box.appendChild(el('h3', '', title + (label ? ' (' + label + ')' : '')));
    box.appendChild(el('pre', 'line', ev.line));
    var dl = el('dl');
    dl.appendChild(el('dt', '', 'outcome'));
    var dd = el('dd');
    dd.appendChild(el('span', 'badge k-' + ev.kind, ev.outcome));
    dl.appendChild(dd);
    if (ev.divergence) {
      dl.appendChild(el('dt', '', 'observed'));
      dl.appendChild(el('dd', 'obs', ev.divergence + ' (the model predicts otherwise)'));
    }
    dl.appendChild(el('dt', '', 'rule'));
    dl.appendChild(el('dd', 'rule', ev.rule));
    dl.appendChild(el('dt', '', 'effects'));
    dl.appendChild(el('dd', '', ev.effects.length ? ev.effects.join('  ') : '(none)'));
    box.appendChild(dl);
    (ev.why || []).forEach(function (w) {
      var p = el('div', 'why');
      var head = w.before === null
        ? w.axis + ': the same in every modeled version up to ' + w.since
        : w.axis + ': since ' + w.since + ' (under ' + w.before + ': ' + w.beforeOutcome + ' [' + w.beforeRule + '])';
      p.appendChild(el('div', 'why-head', head));
      w.switches.forEach(function (s) {
        var sw = el('div', 'switch');
        sw.appendChild(el('code', '', s.name + ': ' + s.before + ' -> ' + s.after));
        if (s.source) sw.appendChild(el('div', 'source', s.source));
        p.appendChild(sw);
      });
      box.appendChild(p);
    });
  }
  function fill(i) {
    var box = document.getElementById('detail');
    box.textContent = '';
    var ev = data.events[i];
    section(box, 'Event #' + i, ev, data.labels[0]);
    if (ev.cmp) section(box, ev.cmp.differs ? 'Differs under' : 'Same under', ev.cmp, data.labels[1]);
  }
  function select(i, scroll) {
    if (i < 0 || i >= rows.length) return;
    if (cur >= 0) rows[cur].classList.remove('sel');
    cur = i;
    rows[i].classList.add('sel');
    if (scroll) rows[i].scrollIntoView({ block: 'nearest' });
    Array.prototype.forEach.call(document.querySelectorAll('.cursor'), function (c) {
      c.setAttribute('x', String(data.laneX + i * data.col));
      c.setAttribute('visibility', 'visible');
    });
    document.getElementById('where').textContent = '#' + i + ' of ' + rows.length;
    fill(i);
  }
  function jump(dir) {
    var m = data.marked;
    if (m.length === 0) return;
    var next = null;
    for (var k = 0; k < m.length; k++) {
      var j = dir > 0 ? m[k] : m[m.length - 1 - k];
      if (dir > 0 ? j > cur : j < cur) { next = j; break; }
    }
    select(next === null ? (dir > 0 ? m[0] : m[m.length - 1]) : next, true);
  }
  rows.forEach(function (r, i) { r.addEventListener('click', function () { select(i, false); }); });
  Array.prototype.forEach.call(document.querySelectorAll('svg.lanes'), function (svg) {
    svg.addEventListener('click', function (e) {
      var box = svg.getBoundingClientRect();
      var x = (e.clientX - box.left) * (svg.viewBox.baseVal.width / box.width) - data.laneX;
      if (x >= 0) select(Math.min(rows.length - 1, Math.floor(x / data.col)), true);
    });
  });
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'n') jump(1);
    else if (e.key === 'p' || e.key === 'N') jump(-1);
    else if (e.key === 'j' || e.key === 'ArrowDown') select(Math.min(rows.length - 1, cur + 1), true);
    else if (e.key === 'k' || e.key === 'ArrowUp') select(Math.max(0, cur - 1), true);
    else return;
    e.preventDefault();
  });
  select(data.marked.length > 0 ? data.marked[0] : 0, true);
})();
`;
