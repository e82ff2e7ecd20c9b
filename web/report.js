/* papertrader backtest report: draws the data that app/report_html.c embeds
 * in report.html (the JSON block with id "pt-data").
 * Symbols, reasons and paths come from user files: every string is rendered
 * with textContent, never innerHTML. Runs from file:// with no network. */
'use strict';
(function () {
  const LWC = window.LightweightCharts;
  const $ = (id) => document.getElementById(id);
  /* read by the browser test (tests/integration/report_html.mjs) */
  const out = { ready: false, errors: [], eqPoints: 0, bars: 0, markers: 0, symbol: null, tradeRows: 0 };
  window.__report = out;

  const F = window.PTFmt; /* web/fmt.js, inlined before this file */
  const isNum = F.isNum;
  const sec = (ms) => Math.floor(ms / 1000);
  const iso = F.iso;
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const note = (text) => $('notes').appendChild(el('li', text));
  const signCls = (v) => (v > 0 ? 'pos' : v < 0 ? 'neg' : '');
  const num = F.num;
  const dpBySym = new Map(); /* price decimals per symbol, from its candles (renderCandles) */
  const FMT = {
    pct: (v) => (isNum(v) ? (v * 100).toFixed(2) + ' %' : '–'),
    money: (v) => num(v, 2),
    ratio: (v) => (isNum(v) ? v.toFixed(4) : '–'),
    int: (v) => (isNum(v) ? String(Math.round(v)) : '–'),
    time: (v) => (typeof v === 'string' && isFinite(Date.parse(v)) ? iso(Date.parse(v)) : typeof v === 'string' ? v : iso(v)),
    interval: (v) => (isNum(v) ? (v % 3600000 === 0 ? v / 3600000 + ' h' : v % 60000 === 0 ? v / 60000 + ' min' : v / 1000 + ' s') : '–'),
    any: (v) => (isNum(v) ? String(v) : typeof v === 'boolean' ? String(v) : v == null ? '–' : String(v)),
  };
  /* report.json keys (portfolio/ pf_metrics_to_json) in reading order */
  const METRICS = [
    ['total_return', 'total return', 'pct'], ['end_equity', 'end equity', 'money'],
    ['start_equity', 'start equity', 'money'], ['cagr', 'CAGR', 'pct'],
    ['max_drawdown', 'max drawdown', 'pct'], ['max_drawdown_bars', 'max drawdown duration (bars)', 'int'],
    ['max_drawdown_peak_ms', 'max drawdown peak', 'time'], ['sharpe', 'Sharpe', 'ratio'],
    ['sortino', 'Sortino', 'ratio'], ['calmar', 'Calmar', 'ratio'],
    ['trades', 'trades (round trips)', 'int'], ['wins', 'wins', 'int'], ['losses', 'losses', 'int'],
    ['win_rate', 'win rate', 'pct'], ['profit_factor', 'profit factor', 'ratio'],
    ['expectancy', 'expectancy', 'money'], ['avg_win', 'average win', 'money'],
    ['avg_loss', 'average loss', 'money'], ['fills', 'fills', 'int'], ['exposure', 'exposure', 'pct'],
    ['fees', 'fees paid', 'money'], ['buy_and_hold', 'buy and hold return', 'pct'],
    ['start_ms', 'start', 'time'], ['end_ms', 'end', 'time'], ['bar_ms', 'bar interval', 'interval'],
    ['candles', 'candles', 'int'],
  ];
  const ENGINE = [
    ['strategy', 'strategy', 'any'], ['candles_accepted', 'candles accepted', 'int'],
    ['candles_flagged', 'candles flagged', 'int'], ['rejected_candles', 'rejected candles', 'int'],
    ['quality_blocks', 'quality blocks', 'int'], ['orders', 'orders', 'int'],
    ['rejected_orders', 'rejected orders', 'int'], ['strategy_failures', 'strategy failures', 'int'],
    ['kill_switch', 'kill switch', 'any'],
  ];
  /* report.json "perp" (sim/sim_perp.c, docs/futures.md) */
  const PERP = [
    ['market', 'market', 'any'], ['margin', 'margin mode', 'any'], ['leverage', 'leverage', 'any'],
    ['funding_source', 'funding', 'any'], ['funding_paid', 'funding paid', 'money'],
    ['funding_received', 'funding received', 'money'], ['funding_net', 'funding net', 'money'],
    ['funding_events', 'funding events', 'int'], ['liquidations', 'liquidations', 'int'],
    ['bankruptcy_loss', 'bankruptcy loss (beyond the margin)', 'money'],
    ['liquidation_fee_bps', 'liquidation fee (bps)', 'any'], ['marks_missing', 'mark candles missing', 'int'],
    ['funding_ends_early', 'symbols whose funding file ended early', 'int'],
  ];

  /* coloured by sign: gains green, losses red; amounts like fees stay plain */
  const SIGNED = new Set(['total_return', 'cagr', 'max_drawdown', 'expectancy', 'buy_and_hold']);
  function metricRow(tb, key, label, kind, v) {
    const tr = document.createElement('tr');
    tr.dataset.key = key;
    tr.appendChild(el('td', label));
    const td = el('td', FMT[kind](v));
    if (isNum(v)) td.dataset.value = String(v);
    if (SIGNED.has(key)) td.className = signCls(key === 'max_drawdown' ? -v : v);
    tr.appendChild(td);
    tb.appendChild(tr);
  }

  function renderMetrics(m) {
    const tb = $('metrics').tBodies[0];
    const seen = new Set(['engine', 'bh_symbols', 'perp']);
    for (const [k, label, kind] of METRICS) {
      seen.add(k);
      if (k in m) metricRow(tb, k, label, kind, m[k]);
    }
    for (const k of Object.keys(m)) /* keys added to report.json later still show */
      if (!seen.has(k) && (m[k] === null || typeof m[k] !== 'object')) metricRow(tb, k, k, 'any', m[k]);
    const e = m.engine;
    if (e && typeof e === 'object') {
      for (const [k, label, kind] of ENGINE) if (k in e) metricRow(tb, 'engine.' + k, label, kind, e[k]);
      const rb = e.risk_blocks && typeof e.risk_blocks === 'object' ? e.risk_blocks : {};
      for (const k of Object.keys(rb)) if (isNum(rb[k]) && rb[k] > 0) metricRow(tb, 'risk.' + k, 'risk blocks: ' + k, 'int', rb[k]);
      const q = e.quality && typeof e.quality === 'object' ? e.quality : {};
      for (const s of Object.keys(q))
        if (q[s] && typeof q[s] === 'object') metricRow(tb, 'quality.' + s, 'quality score ' + s, 'ratio', q[s].score);
    }
    const p = m.perp;
    if (p && typeof p === 'object') for (const [k, label, kind] of PERP) if (k in p) metricRow(tb, 'perp.' + k, label, kind, p[k]);
  }

  function renderSession(s, d) {
    const dl = $('session');
    const add = (k, v) => { dl.appendChild(el('dt', k)); dl.appendChild(el('dd', v)); };
    add('folder', d.dir);
    for (const k of Object.keys(s)) {
      if (k === 'args' || k === 'command') continue;
      const v = s[k];
      if (Array.isArray(v)) add(k, v.map(String).join('\n'));
      else if (v && typeof v === 'object') add(k, Object.keys(v).map((p) => p + '=' + FMT.any(v[p])).join(', '));
      else add(k, FMT.any(v));
    }
    const m = d.metrics || {};
    $('meta').textContent = [s.strategy || (m.engine && m.engine.strategy) || '', FMT.time(m.start_ms) + ' → ' + FMT.time(m.end_ms), d.dir]
      .filter(Boolean).join(' · ');
  }

  /* lightweight-charts wants strictly ascending times (seconds): a later
   * point with the same second replaces the earlier one. */
  function series(ts, val) {
    const r = [];
    for (let i = 0; i < ts.length; i++) {
      const p = val(i);
      if (p === null) continue;
      p.time = sec(ts[i]);
      const last = r[r.length - 1];
      if (last && last.time === p.time) r[r.length - 1] = p;
      else if (!last || p.time > last.time) r.push(p);
    }
    return r;
  }

  /* minBarSpacing below the default 0.5 px: fitContent shows the whole
   * backtest (20k candles) instead of only its last part */
  const chartOpts = () => ({
    layout: { background: { color: '#182028' }, textColor: '#dde3ea' },
    grid: { vertLines: { color: '#222c36' }, horzLines: { color: '#222c36' } },
    timeScale: { timeVisible: true, secondsVisible: false, minBarSpacing: 0.02 }, autoSize: true,
  });

  function renderEquity(eq) {
    const ec = LWC.createChart($('equity-chart'), chartOpts());
    const es = ec.addAreaSeries({ lineColor: '#26a69a', topColor: 'rgba(38,166,154,.4)',
      bottomColor: 'rgba(38,166,154,0)', lineWidth: 2 });
    const ed = series(eq.t, (i) => (isNum(eq.eq[i]) ? { value: eq.eq[i] } : null));
    es.setData(ed);
    const dc = LWC.createChart($('dd-chart'), chartOpts());
    const ds = dc.addAreaSeries({ lineColor: '#ef5350', topColor: 'rgba(239,83,80,0)',
      bottomColor: 'rgba(239,83,80,.4)', lineWidth: 1, invertFilledArea: true, priceFormat: { type: 'percent' } });
    ds.setData(series(eq.t, (i) => (isNum(eq.dd[i]) ? { value: -eq.dd[i] * 100 } : null)));
    ec.timeScale().fitContent();
    dc.timeScale().fitContent();
    /* same points on both: scrolling one scrolls the other */
    let busy = false;
    const link = (a, b) => a.timeScale().subscribeVisibleLogicalRangeChange((r) => {
      if (busy || !r) return;
      busy = true; b.timeScale().setVisibleLogicalRange(r); busy = false;
    });
    link(ec, dc); link(dc, ec);
    out.eqPoints = ed.length;
    if (eq.stride > 1)
      note(`equity curve: ${eq.rows} portfolio rows drawn as ${eq.t.length} points, one per ${eq.stride} rows ` +
        '(equity at the end of each group, its worst drawdown)');
    if (!eq.rows) note('portfolio.csv has no rows: no equity curve');
    if (eq.bad_rows) note(`portfolio.csv: ${eq.bad_rows} bad rows skipped`);
  }

  function renderCandles(cd, trades) {
    const chart = LWC.createChart($('candle-chart'), chartOpts());
    const cs = chart.addCandlestickSeries({ upColor: '#26a69a', downColor: '#ef5350',
      borderVisible: false, wickUpColor: '#26a69a', wickDownColor: '#ef5350' });
    const bySym = new Map();
    for (const t of trades.list) {
      if (!bySym.has(t.symbol)) bySym.set(t.symbol, []);
      bySym.get(t.symbol).push(t);
    }
    const sel = $('symbol');
    cd.series.forEach((s, i) => {
      dpBySym.set(s.symbol, F.inferDecimals([...s.o, ...s.h, ...s.l, ...s.c].slice(-4000)));
      const o = el('option', s.symbol);
      o.value = String(i);
      sel.appendChild(o);
      if (s.total > s.t.length)
        note(`${s.symbol}: chart shows the last ${s.t.length} of ${s.total} candles (cap ${cd.cap})`);
    });
    if (cd.skipped) note(`${cd.skipped} candles of symbols past the first ${cd.max_symbols} are not charted`);
    if (cd.rejected) note(`${cd.rejected} candle rows in the input were rejected by the reader (as in the backtest)`);
    for (const e of cd.errors) note('candles not charted: ' + e);
    if (!cd.series.length) note('no candles to chart (input files missing?)');

    function show(i) {
      const s = cd.series[i];
      if (!s) return;
      const bars = series(s.t, (k) => (isNum(s.o[k]) && isNum(s.h[k]) && isNum(s.l[k]) && isNum(s.c[k])
        ? { open: s.o[k], high: s.h[k], low: s.l[k], close: s.c[k] } : null));
      cs.setData(bars);
      cs.applyOptions({ priceFormat: F.chartFormat(dpBySym.get(s.symbol) || 2) });
      const first = bars.length ? bars[0].time : Infinity;
      const ts = (bySym.get(s.symbol) || []).filter((t) => sec(t.t) >= first).sort((a, b) => a.t - b.t);
      const label = ts.length <= 100; /* letters only where they stay readable */
      cs.setMarkers(ts.map((t) => {
        const buy = t.side === 'buy';
        return { time: sec(t.t), position: buy ? 'belowBar' : 'aboveBar', color: buy ? '#26a69a' : '#ef5350',
          shape: buy ? 'arrowUp' : 'arrowDown', text: label ? (buy ? 'B' : 'S') : '' };
      }));
      chart.timeScale().fitContent();
      Object.assign(out, { bars: bars.length, markers: ts.length, symbol: s.symbol });
    }
    sel.addEventListener('change', () => show(Number(sel.value)));
    show(0);
  }

  const TABLE_ROWS = 1000;
  function renderTrades(tr) {
    const tb = $('trades').tBodies[0];
    const list = tr.list.slice(-TABLE_ROWS);
    for (const t of list) {
      const row = document.createElement('tr');
      const cells = [iso(t.t), t.symbol, t.side, F.qty(t.qty), dpBySym.has(t.symbol) ? F.price(t.price, dpBySym.get(t.symbol)) : num(t.price, 2), num(t.fee, 4),
        { t: num(t.pnl, 2), cls: signCls(t.pnl) }, t.type, t.reason];
      for (const c of cells) {
        const td = el('td', typeof c === 'object' && c !== null ? c.t : c);
        if (c && c.cls) td.className = c.cls;
        row.appendChild(td);
      }
      tb.appendChild(row);
    }
    out.tradeRows = list.length;
    if (tr.rows - tr.bad_rows > tr.list.length) note(`trades.csv has ${tr.rows - tr.bad_rows} trades: the last ${tr.list.length} are embedded (cap ${tr.cap})`);
    if (tr.list.length > list.length) note(`trades table lists the last ${list.length} trades`);
    if (tr.bad_rows) note(`trades.csv: ${tr.bad_rows} bad rows skipped`);
  }

  /* one failing part must not blank the rest of the page */
  function part(name, fn) {
    try { fn(); } catch (e) {
      out.errors.push(name + ': ' + e);
      note(name + ' could not be drawn: ' + e);
    }
  }

  let d;
  try {
    d = JSON.parse($('pt-data').textContent);
  } catch (e) {
    $('meta').textContent = 'report data unreadable: ' + e;
    $('meta').className = 'error';
    out.errors.push(String(e));
    return;
  }
  out.data = d;
  part('session', () => renderSession(d.session || {}, d));
  part('metrics', () => renderMetrics(d.metrics || {}));
  if (!LWC) note('chart library missing: charts not drawn');
  else {
    part('equity chart', () => renderEquity(d.equity));
    part('candle chart', () => renderCandles(d.candles, d.trades));
  }
  part('trades table', () => renderTrades(d.trades));
  out.ready = true;
})();
