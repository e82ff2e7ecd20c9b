/* papertrader walk-forward report: draws the data that app/opt_html.c
 * embeds in report.html (the JSON block with id "pt-data"): the summary,
 * in-sample vs out-of-sample objective per fold, the stitched
 * out-of-sample equity (inline SVG) and the folds table. Every string is
 * rendered with textContent, never innerHTML. */
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const out = { ready: false, errors: [], folds: 0, points: 0, bars: 0 };
  window.__report = out; /* read by tests */
  const NS = 'http://www.w3.org/2000/svg';
  const el = (tag, text) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    return e;
  };
  const svg = (tag, attrs) => {
    const e = document.createElementNS(NS, tag);
    for (const k of Object.keys(attrs)) e.setAttribute(k, attrs[k]);
    return e;
  };
  const isNum = (v) => typeof v === 'number' && isFinite(v);
  const fmt = (v) => (isNum(v) ? v.toPrecision(5) : '–');
  try {
    const d = JSON.parse($('pt-data').textContent);
    const s = d.summary;
    $('meta').textContent = `${s.folds} folds · ${s.trials} parameter sets per fold · ranked by ${s.objective}`;
    for (const k of Object.keys(s)) {
      const tr = el('tr');
      tr.appendChild(el('th', k));
      tr.appendChild(el('td', typeof s[k] === 'number' ? fmt(s[k]) : s[k] === null ? '–' : s[k]));
      $('summary').tBodies[0].appendChild(tr);
    }
    const [head, ...rows] = d.folds;
    const hr = el('tr');
    head.forEach((h) => hr.appendChild(el('th', h)));
    $('folds').tHead.appendChild(hr);
    rows.forEach((r) => {
      const tr = el('tr');
      r.forEach((v) => tr.appendChild(el('td', v)));
      $('folds').tBodies[0].appendChild(tr);
    });
    out.folds = rows.length;

    /* bars: in-sample and out-of-sample objective per fold */
    const is = head.indexOf('is_objective'), oos = head.indexOf('oos_objective');
    const vals = rows.flatMap((r) => [Number(r[is]), Number(r[oos])]).filter(isNum);
    const hi = Math.max(0, ...vals), lo = Math.min(0, ...vals), W = 600, H = 220;
    const y = (v) => (hi > lo ? H - ((v - lo) / (hi - lo)) * H : H / 2);
    const bars = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', height: H, role: 'img' });
    const bw = W / Math.max(1, rows.length) / 2.5;
    rows.forEach((r, i) => {
      [[is, '#8b98a5'], [oos, '#26a69a']].forEach(([c, color], j) => {
        const v = Number(r[c]);
        if (!isNum(v)) return;
        const x = (i * 2.5 + j) * bw + bw / 4;
        bars.appendChild(svg('rect', { x, y: Math.min(y(v), y(0)), width: bw * 0.9,
          height: Math.max(1, Math.abs(y(v) - y(0))), fill: color }));
        out.bars++;
      });
    });
    bars.appendChild(svg('line', { x1: 0, x2: W, y1: y(0), y2: y(0), stroke: '#dde3ea' }));
    $('is-oos').appendChild(bars);
    $('is-oos').appendChild(el('p', 'grey: in-sample, green: out-of-sample'));

    /* stitched equity */
    const eq = d.equity, lo2 = Math.min(...eq), hi2 = Math.max(...eq);
    const pts = eq.map((v, i) => `${(i / Math.max(1, eq.length - 1)) * W},${hi2 > lo2 ? H - ((v - lo2) / (hi2 - lo2)) * H : H / 2}`);
    const line = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', height: H, role: 'img' });
    line.appendChild(svg('polyline', { points: pts.join(' '), fill: 'none', stroke: '#26a69a', 'stroke-width': 1.5 }));
    $('equity').appendChild(line);
    $('equity').appendChild(el('p', `${fmt(lo2)} .. ${fmt(hi2)}`));
    out.points = eq.length;
  } catch (e) {
    out.errors.push(String(e));
  }
  out.ready = true;
})();
