import type { PageData } from './page-data.js';

/** JSON inside a <script> element: nothing in it may close the element or start a comment. */
function embed(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
:root { --host: #1f6feb; --module: #8250df; --net: #1a7f37; --err: #cf222e; --warn: #9a6700; --muted: #6e7781; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; }
header { position: sticky; top: 0; z-index: 3; background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 12px; }
h1 { font-size: 15px; margin: 0 0 4px; }
#meta { color: var(--muted); }
#controls { display: flex; gap: 12px; align-items: center; margin-top: 6px; flex-wrap: wrap; }
#filter { width: 320px; padding: 3px 6px; font: inherit; }
#scale { display: block; width: 100%; height: 46px; margin-top: 6px; cursor: pointer; }
#scale .tick text { font-size: 10px; fill: var(--muted); }
#findings { margin: 8px 12px; }
.finding { border-left: 4px solid var(--warn); background: #fff8c5; padding: 6px 10px; margin: 6px 0; }
.finding.error { border-color: var(--err); background: #ffebe9; }
.finding.info { border-color: var(--muted); background: #f6f8fa; }
.finding .fid { font-weight: 600; font-family: ui-monospace, monospace; }
.finding .fix { color: #3a3f45; margin-top: 2px; }
.finding a { margin-right: 6px; font-family: ui-monospace, monospace; font-size: 12px; }
#lanes { display: grid; grid-template-columns: 84px 1fr 1fr 1fr; position: sticky; top: var(--head, 120px); z-index: 2; background: #fff; border-bottom: 2px solid #d0d7de; font-weight: 600; }
#lanes div, .row > div { padding: 2px 8px; }
.lane-host { color: var(--host); } .lane-module { color: var(--module); } .lane-network { color: var(--net); }
.row { display: grid; grid-template-columns: 84px 1fr 1fr 1fr; border-bottom: 1px solid #f0f2f4; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.row .t { color: var(--muted); text-align: right; }
.row.state > .cell-state { grid-column: 2 / 5; color: var(--muted); font-style: italic; }
.row .kind { display: inline-block; min-width: 54px; color: var(--muted); }
.row.final-error .cell-module, .row.final-no-carrier .cell-module { color: var(--err); }
.row .rtt { color: var(--muted); margin-left: 6px; }
.row .meaning { color: #57606a; margin-left: 6px; font-family: system-ui, sans-serif; }
.row .mqtt { color: var(--net); display: block; }
.row .mqtt .f { color: #3a3f45; margin-right: 6px; }
.row.pinned { background: #fff8c5; }
.row.pinned.sev-error { background: #ffebe9; }
.row .pin { color: var(--err); font-weight: 700; margin-right: 4px; font-family: system-ui, sans-serif; }
.row.flash { outline: 2px solid var(--err); }
.gap { color: var(--muted); text-align: center; font-size: 11px; border-bottom: 1px dashed #d0d7de; }
.hidden { display: none !important; }
.no-network .cell-network > * { display: none; }
#omitted { margin: 8px 12px; color: var(--muted); }
`;

/** The page's own script: draws rows, the time scale, findings, and runs the filter. No libraries, nothing fetched. */
const SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('page-data').textContent);
  var rowsEl = document.getElementById('rows');
  var rowEls = [];
  var pins = {};
  data.findings.forEach(function (f) { f.rows.forEach(function (i) { (pins[i] = pins[i] || []).push(f); }); });
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function secs(t) { return t === undefined ? '' : (t / 1000).toFixed(3); }
  function ms(v) { return v >= 1000 ? (v / 1000).toFixed(2) + ' s' : Math.round(v) + ' ms'; }
  var frag = document.createDocumentFragment();
  var lastT;
  data.rows.forEach(function (r) {
    if (r.t !== undefined && lastT !== undefined && r.t - lastT >= 1000) {
      frag.appendChild(el('div', 'gap', '\u2026 ' + ms(r.t - lastT) + ' \u2026'));
    }
    if (r.t !== undefined) lastT = r.t;
    var row = el('div', 'row ' + r.lane + ' kind-' + r.kind + (r.outcome ? ' final-' + r.outcome : ''));
    row.id = 'row-' + r.i;
    row.dataset.lane = r.lane;
    row.dataset.kind = r.kind;
    if (r.line !== undefined) row.dataset.line = String(r.line);
    row.appendChild(el('div', 't', secs(r.t)));
    var text = [r.kind, r.text, r.meaning || '', r.command || '', r.socket || ''];
    if (r.lane === 'state') {
      row.appendChild(el('div', 'cell-state', '\u25cf ' + r.text));
    } else {
      var host = el('div', 'cell-host'), mod = el('div', 'cell-module'), net = el('div', 'cell-network');
      var cell = r.lane === 'host' ? host : mod;
      cell.appendChild(el('span', 'kind', r.kind));
      cell.appendChild(el('span', 'text', r.text));
      if (r.rttMs !== undefined) cell.appendChild(el('span', 'rtt', ms(r.rttMs) + ' after ' + (r.command || 'the command')));
      if (r.meaning) cell.appendChild(el('span', 'meaning', '\u2014 ' + r.meaning));
      if (r.socket) cell.appendChild(el('span', 'meaning', '[' + r.socket + ']'));
      (r.mqtt || []).forEach(function (p) {
        var m = el('span', 'mqtt', (r.dir === 'tx' ? '\u21e2 ' : '\u21e0 ') + p.type + ' ');
        Object.keys(p.fields).forEach(function (k) { m.appendChild(el('span', 'f', k + '=' + p.fields[k])); text.push(k + '=' + p.fields[k]); });
        net.appendChild(m);
        text.push('mqtt', p.type, p.text);
      });
      row.appendChild(host); row.appendChild(mod); row.appendChild(net);
    }
    var pinned = pins[r.i];
    if (pinned) {
      row.classList.add('pinned');
      if (pinned.some(function (f) { return f.severity === 'error'; })) row.classList.add('sev-error');
      var first = row.children[1].textContent ? row.children[1] : row.children[2] || row.children[1];
      pinned.forEach(function (f) { first.insertBefore(el('span', 'pin', '\u25c6 ' + f.id), first.firstChild); text.push(f.id); });
    }
    row.dataset.search = text.join(' ').toLowerCase();
    rowEls.push(row);
    frag.appendChild(row);
  });
  rowsEl.appendChild(frag);

  var findingsEl = document.getElementById('findings');
  if (data.findings.length === 0) findingsEl.appendChild(el('div', 'finding info', 'No problems found in this capture.'));
  data.findings.forEach(function (f) {
    var box = el('div', 'finding ' + f.severity);
    box.dataset.id = f.id;
    box.appendChild(el('span', 'fid', f.severity + ' ' + f.id + ': '));
    box.appendChild(el('span', 'summary', f.summary));
    var links = el('div', 'evidence');
    f.rows.forEach(function (i) {
      var r = document.getElementById('row-' + i);
      var a = el('a', '', r && r.dataset.line ? 'line ' + r.dataset.line : '#' + i);
      a.href = '#row-' + i;
      a.addEventListener('click', function (ev) { ev.preventDefault(); show(i); });
      links.appendChild(a);
    });
    box.appendChild(links);
    box.appendChild(el('div', 'fix', 'fix: ' + f.fix));
    findingsEl.appendChild(box);
  });

  function show(i) {
    var r = document.getElementById('row-' + i);
    if (!r) return;
    r.classList.remove('hidden');
    r.scrollIntoView({ block: 'center' });
    r.classList.add('flash');
    setTimeout(function () { r.classList.remove('flash'); }, 1500);
  }

  // The time scale: every row a tick at its time, findings in red; a click goes to the nearest row.
  var svg = document.getElementById('scale');
  var NS = 'http://www.w3.org/2000/svg';
  var timed = data.rows.filter(function (r) { return r.t !== undefined; });
  var W = 1000, H = 46;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('preserveAspectRatio', 'none');
  if (timed.length > 0) {
    var t0 = timed[0].t, t1 = timed[timed.length - 1].t, span = Math.max(t1 - t0, 1);
    var x = function (t) { return 10 + ((t - t0) / span) * (W - 20); };
    var axis = document.createElementNS(NS, 'line');
    axis.setAttribute('x1', 10); axis.setAttribute('x2', W - 10); axis.setAttribute('y1', 28); axis.setAttribute('y2', 28); axis.setAttribute('stroke', '#d0d7de');
    svg.appendChild(axis);
    var step = Math.pow(10, Math.floor(Math.log10(span / 5)));
    if (span / step > 10) step *= 2;
    if (span / step > 10) step *= 2.5;
    for (var tt = Math.ceil(t0 / step) * step; tt <= t1; tt += step) {
      var g = document.createElementNS(NS, 'g'); g.setAttribute('class', 'tick');
      var tl = document.createElementNS(NS, 'text'); tl.setAttribute('x', x(tt)); tl.setAttribute('y', 43); tl.setAttribute('text-anchor', 'middle'); tl.textContent = ms(tt);
      var tk = document.createElementNS(NS, 'line'); tk.setAttribute('x1', x(tt)); tk.setAttribute('x2', x(tt)); tk.setAttribute('y1', 26); tk.setAttribute('y2', 32); tk.setAttribute('stroke', '#8c959f');
      g.appendChild(tk); g.appendChild(tl); svg.appendChild(g);
    }
    var colour = { host: '#1f6feb', module: '#8250df', network: '#1a7f37', state: '#8c959f' };
    var y = { host: 4, module: 10, state: 16 };
    var marks = document.createElementNS(NS, 'g');
    timed.forEach(function (r) {
      var m = document.createElementNS(NS, 'rect');
      m.setAttribute('x', x(r.t)); m.setAttribute('y', r.mqtt ? 19 : y[r.lane]); m.setAttribute('width', 1.5); m.setAttribute('height', 5);
      m.setAttribute('fill', r.mqtt ? colour.network : colour[r.lane]); m.setAttribute('class', 'mark');
      marks.appendChild(m);
    });
    svg.appendChild(marks);
    data.findings.forEach(function (f) {
      f.rows.forEach(function (i) {
        var r = data.rows.find(function (q) { return q.i === i; });
        if (!r || r.t === undefined) return;
        var p = document.createElementNS(NS, 'path');
        p.setAttribute('d', 'M' + x(r.t) + ' 22 l-4 -8 h8 z'); p.setAttribute('fill', f.severity === 'error' ? '#cf222e' : '#9a6700'); p.setAttribute('class', 'finding-mark');
        svg.appendChild(p);
      });
    });
    svg.addEventListener('click', function (ev) {
      var box = svg.getBoundingClientRect();
      var t = t0 + ((ev.clientX - box.left) / box.width * W - 10) / (W - 20) * span;
      var best = timed[0];
      timed.forEach(function (r) { if (Math.abs(r.t - t) < Math.abs(best.t - t)) best = r; });
      show(best.i);
    });
  }

  // The filter: words all present (kind, text, meaning, MQTT fields, finding ids); lanes by checkbox.
  var filter = document.getElementById('filter');
  var boxes = document.querySelectorAll('#controls input[type=checkbox]');
  function apply() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var lanes = {};
    boxes.forEach(function (b) { lanes[b.value] = b.checked; });
    var shown = 0;
    rowEls.forEach(function (r) {
      var ok = lanes[r.dataset.lane] !== false && words.every(function (w) { return r.dataset.search.indexOf(w) >= 0; });
      r.classList.toggle('hidden', !ok);
      if (ok) shown++;
    });
    document.body.classList.toggle('no-network', lanes.network === false);
    document.querySelectorAll('.gap').forEach(function (g) { g.classList.toggle('hidden', words.length > 0); });
    document.getElementById('count').textContent = shown + ' of ' + rowEls.length + ' rows';
  }
  filter.addEventListener('input', apply);
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  var head = document.querySelector('header');
  document.documentElement.style.setProperty('--head', head.offsetHeight + 'px');
  apply();
  document.body.dataset.rendered = 'true';
})();
`;

/** One self-contained page: styles, script and data inline, nothing fetched. */
export function renderPage(data: PageData): string {
  const errors = data.findings.filter((f) => f.severity === 'error').length;
  const meta = `${data.format}, profile ${data.profile}${data.start ? `, started ${data.start}` : ''} · ${data.rows.length} rows · ${data.findings.length} finding(s)${errors ? `, ${errors} error(s)` : ''}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(data.file)}</h1>
<div id="meta">${escapeHtml(meta)}</div>
<div id="controls">
<input id="filter" type="search" placeholder="filter: words, e.g. SEND, error, PUBLISH, topic=…" aria-label="filter">
<label><input type="checkbox" value="host" checked> host</label>
<label><input type="checkbox" value="module" checked> module</label>
<label><input type="checkbox" value="network" checked> network / broker</label>
<label><input type="checkbox" value="state" checked> state</label>
<span id="count"></span>
</div>
<svg id="scale" role="img" aria-label="time scale"></svg>
</header>
<section id="findings"></section>
<div id="lanes"><div>time s</div><div class="lane-host">host</div><div class="lane-module">module</div><div class="lane-network">network / broker</div></div>
<main id="rows"></main>
${data.omitted > 0 ? `<div id="omitted">${data.omitted} more entries are not drawn (a page holds ${data.rows.length}); atbridge decode shows them all.</div>` : ''}
<script type="application/json" id="page-data">${embed(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
