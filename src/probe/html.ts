import { writeFileSync } from 'node:fs';
import { AtbridgeError, ExitCode, errorMessage } from '../errors.js';
import { summary } from './report.js';
import type { ProbeResult } from './result.js';
import type { DelayPoint } from './tracker.js';

/** Text safe inside <script>: no "</script>" or "<!--" can end or confuse it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * One self-contained page (no network, no external script): the summary, the delay histogram and
 * the delay-over-time plot, drawn as SVG by a small inline script from the data embedded in it.
 */
export function htmlReport(result: ProbeResult): string {
  const timeline = thin(result.timeline, MAX_POINTS);
  const data = { histogram: result.histogram, timeline, outages: result.outages, qos: result.qos };
  const shown = timeline.length < result.timeline.length ? `<p>${timeline.length} of ${result.timeline.length} messages shown: the fastest and the slowest of each slice of time.</p>\n` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>atbridge probe ${escapeHtml(result.startedAt)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
svg { background: #fff; border: 1px solid #ddd; display: block; margin: 0.5em 0 2em; }
.bar { fill: #4a7bd0; } .pt0 { fill: #4a7bd0; } .pt1 { fill: #d08a2a; } .pt2 { fill: #3a9a5a; }
.axis { stroke: #999; } text { font-size: 11px; fill: #555; } .outage { fill: #f3c0c0; opacity: 0.6; }
</style>
</head>
<body>
<h1>atbridge probe</h1>
<pre id="summary">${escapeHtml(summary(result))}</pre>
<h2>Delay histogram</h2>
<svg id="histogram" width="760" height="260" role="img" aria-label="delay histogram"></svg>
<h2>Delay over time</h2>
<p><svg width="12" height="12" style="display:inline;border:0;margin:0"><circle class="pt0" cx="6" cy="6" r="4"/></svg> QoS 0 &nbsp; <svg width="12" height="12" style="display:inline;border:0;margin:0"><circle class="pt1" cx="6" cy="6" r="4"/></svg> QoS 1 &nbsp; <svg width="12" height="12" style="display:inline;border:0;margin:0"><circle class="pt2" cx="6" cy="6" r="4"/></svg> QoS 2 &nbsp; <span style="background:#f3c0c0">&nbsp;&nbsp;&nbsp;</span> connection lost</p>
${shown}<svg id="timeline" width="760" height="300" role="img" aria-label="delay over time"></svg>
<script id="probe-data" type="application/json">${scriptJson(data)}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('probe-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function el(parent, name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function fmt(v) { return v >= 100 ? v.toFixed(0) : v.toFixed(1); }
  var L = 60, R = 20, T = 15, B = 40;
  function axes(svg, xLabel, yLabel) {
    var w = +svg.getAttribute('width'), h = +svg.getAttribute('height');
    el(svg, 'line', { x1: L, y1: h - B, x2: w - R, y2: h - B, class: 'axis' });
    el(svg, 'line', { x1: L, y1: T, x2: L, y2: h - B, class: 'axis' });
    el(svg, 'text', { x: (L + w - R) / 2, y: h - 5, 'text-anchor': 'middle' }, xLabel);
    el(svg, 'text', { x: 12, y: (T + h - B) / 2, transform: 'rotate(-90 12 ' + (T + h - B) / 2 + ')', 'text-anchor': 'middle' }, yLabel);
    return { w: w - L - R, h: h - T - B, bottom: h - B };
  }
  var hist = document.getElementById('histogram');
  var bins = data.histogram;
  var a = axes(hist, 'delay (ms)', 'messages');
  if (bins.length) {
    var maxCount = Math.max.apply(null, bins.map(function (b) { return b.count; })) || 1;
    var bw = a.w / bins.length;
    bins.forEach(function (b, i) {
      var bh = (b.count / maxCount) * a.h;
      var r = el(hist, 'rect', { class: 'bar', x: L + i * bw + 1, y: a.bottom - bh, width: Math.max(1, bw - 2), height: bh, 'data-count': b.count });
      el(r, 'title', {}, fmt(b.from) + '–' + fmt(b.to) + ' ms: ' + b.count);
    });
    el(hist, 'text', { x: L, y: a.bottom + 14 }, fmt(bins[0].from));
    el(hist, 'text', { x: L + a.w, y: a.bottom + 14, 'text-anchor': 'end' }, fmt(bins[bins.length - 1].to));
    el(hist, 'text', { x: L - 4, y: T + 10, 'text-anchor': 'end' }, String(maxCount));
  }
  var tl = document.getElementById('timeline');
  var pts = data.timeline;
  var b2 = axes(tl, 'send time (s since the first send)', 'delay (ms)');
  var tMax = 0, dMax = 0;
  pts.forEach(function (p) { if (p.t > tMax) tMax = p.t; if (p.delay > dMax) dMax = p.delay; });
  data.outages.forEach(function (o) { var end = o.atS + (o.recoveredAfterS === null ? 0 : o.recoveredAfterS); if (end > tMax) tMax = end; });
  tMax = tMax || 1; dMax = dMax || 1;
  data.outages.forEach(function (o) {
    var x0 = L + (o.atS / tMax) * b2.w;
    var len = o.recoveredAfterS === null ? tMax - o.atS : o.recoveredAfterS;
    el(tl, 'rect', { class: 'outage', x: x0, y: T, width: Math.max(2, (len / tMax) * b2.w), height: b2.h }).appendChild(document.createElementNS(NS, 'title')).textContent = 'connection lost: ' + o.reason;
  });
  pts.forEach(function (p) {
    el(tl, 'circle', { class: 'pt pt' + p.qos, cx: L + (p.t / tMax) * b2.w, cy: b2.bottom - (p.delay / dMax) * b2.h, r: 2 });
  });
  el(tl, 'text', { x: L - 4, y: T + 10, 'text-anchor': 'end' }, fmt(dMax));
  el(tl, 'text', { x: L + b2.w, y: b2.bottom + 14, 'text-anchor': 'end' }, tMax.toFixed(1));
  document.body.setAttribute('data-rendered', 'true');
})();
</script>
</body>
</html>
`;
}

/** Most points the delay-over-time plot draws; beyond it each time slice keeps its fastest and slowest. */
export const MAX_POINTS = 10_000;

export function thin(points: readonly DelayPoint[], max: number): DelayPoint[] {
  if (points.length <= max) return [...points];
  const slices = Math.floor(max / 2);
  const tMax = points.reduce((m, p) => Math.max(m, p.t), 0) || 1;
  const lo: (DelayPoint | undefined)[] = new Array(slices);
  const hi: (DelayPoint | undefined)[] = new Array(slices);
  for (const p of points) {
    const i = Math.min(slices - 1, Math.floor((p.t / tMax) * slices));
    if (!lo[i] || p.delay < lo[i]!.delay) lo[i] = p;
    if (!hi[i] || p.delay > hi[i]!.delay) hi[i] = p;
  }
  const out: DelayPoint[] = [];
  for (let i = 0; i < slices; i++) {
    if (lo[i]) out.push(lo[i]!);
    if (hi[i] && hi[i] !== lo[i]) out.push(hi[i]!);
  }
  return out;
}

export function writeHtml(file: string, result: ProbeResult): void {
  try {
    writeFileSync(file, htmlReport(result));
  } catch (err) {
    throw new AtbridgeError('bad-output', `cannot write ${file}: ${errorMessage(err)}`, { exitCode: ExitCode.failure });
  }
}
