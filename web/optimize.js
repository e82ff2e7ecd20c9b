/* papertrader optimize report: draws the data that app/opt_html.c embeds in
 * report.html (the JSON block with id "pt-data"): the ranked table, a
 * heatmap over any two parameters, each parameter's sensitivity.
 * Every string is rendered with textContent, never innerHTML. */
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const out = { ready: false, errors: [], rows: 0, cells: 0, params: 0 };
  window.__report = out; /* read by tests */
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const isNum = (v) => typeof v === 'number' && isFinite(v);
  const fmt = (v) => (isNum(v) ? (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(4)) : '–');
  try {
    const d = JSON.parse($('pt-data').textContent);
    const H = d.header;
    const names = d.grid.map((p) => H[p]);
    const objCol = { return: 'total_return' }[d.objective] || d.objective;
    $('meta').textContent = `${d.strategy} · ${d.evaluations} evaluations · ${d.skipped} skipped ` +
      `by the strategy's constraints · ranked by ${d.objective} (>= ${d.min_trades} trades)`;

    /* ranked table: rank, grid parameters, objective, then every metric */
    const shown = d.grid.concat([H.indexOf(objCol)]);
    H.forEach((_, i) => { if (!shown.includes(i) && i >= d.grid.length) shown.push(i); });
    const hr = el('tr');
    hr.appendChild(el('th', 'rank'));
    shown.forEach((i) => hr.appendChild(el('th', H[i])));
    $('ranked').tHead.appendChild(hr);
    const tb = $('ranked').tBodies[0];
    d.top.forEach((row, r) => {
      const tr = el('tr');
      tr.appendChild(el('td', r + 1));
      shown.forEach((i) => tr.appendChild(el('td', row[i])));
      tb.appendChild(tr);
    });
    out.rows = d.top.length;

    /* heatmap: best objective per (x, y) over the other parameters */
    const values = names.map((_, a) => [...new Set(d.points.map((p) => p[a]))].sort((x, y) => x - y));
    const nObj = names.length;
    const color = (v, lo, hi) => {
      if (!isNum(v)) return '#222';
      const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
      return `hsl(${Math.round(t * 120)}, 60%, 35%)`;
    };
    const drawHeat = () => {
      const ax = +$('hx').value, ay = +$('hy').value, tab = $('heatmap');
      tab.textContent = '';
      const best = new Map();
      d.points.forEach((p) => {
        const v = p[nObj];
        if (!isNum(v)) return;
        const k = `${p[ax]}|${p[ay]}`;
        if (!best.has(k) || v > best.get(k)) best.set(k, v);
      });
      const all = [...best.values()];
      const lo = Math.min(...all), hi = Math.max(...all);
      const head = el('tr');
      head.appendChild(el('th', `${names[ay]} \\ ${names[ax]}`));
      values[ax].forEach((x) => head.appendChild(el('th', x)));
      tab.appendChild(head);
      out.cells = 0;
      values[ay].forEach((y) => {
        const tr = el('tr');
        tr.appendChild(el('th', y));
        values[ax].forEach((x) => {
          const v = best.get(`${x}|${y}`);
          const td = el('td', fmt(v));
          td.style.background = color(v, lo, hi);
          tr.appendChild(td);
          out.cells++;
        });
        tab.appendChild(tr);
      });
    };
    names.forEach((n, a) => {
      $('hx').appendChild(new Option(n, a));
      $('hy').appendChild(new Option(n, a));
    });
    if (names.length > 1) $('hy').value = 1;
    $('hx').onchange = drawHeat;
    $('hy').onchange = drawHeat;
    drawHeat();

    /* sensitivity: per parameter, per value: mean and best objective */
    names.forEach((n, a) => {
      const t = el('table');
      const h = el('tr');
      [n, `mean ${d.objective}`, `best ${d.objective}`, 'sets'].forEach((s) => h.appendChild(el('th', s)));
      t.appendChild(h);
      values[a].forEach((x) => {
        const vs = d.points.filter((p) => p[a] === x && isNum(p[nObj])).map((p) => p[nObj]);
        const tr = el('tr');
        const mean = vs.length ? vs.reduce((s, v) => s + v, 0) / vs.length : NaN;
        [x, fmt(mean), fmt(vs.length ? Math.max(...vs) : NaN), vs.length].forEach((s) => tr.appendChild(el('td', s)));
        t.appendChild(tr);
      });
      $('sensitivity').appendChild(el('h2', n));
      $('sensitivity').appendChild(t);
      out.params++;
    });
    if (d.points.length < d.evaluations)
      $('meta').textContent += ` · heatmap and sensitivity over the first ${d.points.length} sets`;
  } catch (e) {
    out.errors.push(String(e));
  }
  out.ready = true;
})();
