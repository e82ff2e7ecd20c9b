/* papertrader dashboard: one WebSocket, protocol v1 (docs/protocol.md).
 * Every string from the server is rendered with textContent (R-S10).
 * Table rows are keyed and updated in place (only changed cell text is
 * written), so a Close button stays the same element while prices tick. */
'use strict';
(function () {
  const LWC = window.LightweightCharts;
  const F = window.PTFmt;
  const MAX_BARS = 2000, MAX_TRADES = 200, MAX_MARKERS = 300, MAX_ALERTS = 50, MAX_EQ = 5000, MAX_IND = 8;
  const MARKER_GROUPS = 80; /* at most this many trade markers on the chart: more are clustered */
  const $ = (id) => document.getElementById(id);
  const st = {
    symbols: [], cur: null, candles: {}, ind: {}, indNames: [], trades: {}, quality: {}, issues: {}, orders: new Map(),
    dp: {}, rdp: {}, qdp: {}, quote: {}, equity: null, snapshots: 0, lastSeq: 0, events: 0, conn: 'connecting', health: null,
    ended: null, msgTimes: [], markerCount: 0, strategy: '',
  };
  window.__pt = st; /* read by the browser test; never written from outside */

  const sec = (ms) => Math.floor(ms / 1000);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const signCls = (v) => (v > 0 ? 'pos' : v < 0 ? 'neg' : '');
  /* the exchange's tick and lot step (snapshot markets, docs/rules.md) win over what the data suggests */
  const dpOf = (sym) => (sym in st.rdp ? st.rdp[sym] : sym in st.dp ? st.dp[sym] : 2);
  const px = (sym, v) => F.price(v, dpOf(sym));
  const qtyOf = (sym, v) => (sym in st.qdp && F.isNum(v) ? v.toFixed(st.qdp[sym]) : F.qty(v));

  /* Keyed rows: rows(tbody, items, key, cells, extra) makes tbody hold one
   * row per item in order. A row is created once per key; later calls only
   * write the cell text and class that changed. extra(tr, item, fresh) adds
   * and maintains non-text cells (the Close button). */
  function rows(tb, items, key, cells, extra) {
    const byKey = tb.__rows || (tb.__rows = new Map());
    const keep = new Set();
    let at = tb.firstChild;
    for (const it of items) {
      const k = String(key(it));
      keep.add(k);
      let tr = byKey.get(k), fresh = false;
      if (!tr) { tr = document.createElement('tr'); tr.dataset.key = k; byKey.set(k, tr); fresh = true; }
      const cs = cells(it);
      for (let i = 0; i < cs.length; i++) {
        const c = cs[i], text = String(c !== null && typeof c === 'object' ? c.t : c), cls = (c && c.cls) || '';
        let td = tr.children[i];
        if (!td) td = tr.appendChild(document.createElement('td'));
        if (td.textContent !== text) td.textContent = text;
        if (td.className !== cls) td.className = cls;
        if (c && c.title && td.title !== c.title) td.title = c.title;
      }
      if (extra) extra(tr, it, fresh, cs.length);
      if (tr !== at) tb.insertBefore(tr, at); else at = at.nextSibling;
    }
    for (const [k, tr] of byKey) if (!keep.has(k)) { tr.remove(); byKey.delete(k); }
  }

  /* ---------------------------------------------------------- charts */
  const chartOpts = (h) => ({
    height: h, layout: { background: { color: '#182028' }, textColor: '#dde3ea', attributionLogo: false },
    grid: { vertLines: { color: '#222c36' }, horzLines: { color: '#222c36' } },
    localization: { timeFormatter: (t) => F.isoMin(t * 1000) },
    timeScale: { timeVisible: true, secondsVisible: false, tickMarkFormatter: F.tickUTC }, autoSize: true,
  });
  const PRICE_AXIS_W = 120; /* both price charts: the same axis width keeps their time axes aligned */
  const chart = LWC.createChart($('chart'), chartOpts(380));
  chart.applyOptions({ rightPriceScale: { minimumWidth: PRICE_AXIS_W } });
  const candles = chart.addCandlestickSeries({ upColor: '#26a69a', downColor: '#ef5350',
    borderVisible: false, wickUpColor: '#26a69a', wickDownColor: '#ef5350' });
  const eqChart = LWC.createChart($('equity-chart'), chartOpts(160));
  const eqSeries = eqChart.addAreaSeries({ lineColor: '#26a69a', topColor: 'rgba(38,166,154,.4)',
    bottomColor: 'rgba(38,166,154,0)', lineWidth: 2 });
  const ddSeries = eqChart.addLineSeries({ color: '#ef5350', lineWidth: 1, priceScaleId: 'left',
    priceFormat: { type: 'percent' } });
  eqChart.priceScale('left').applyOptions({ visible: true });

  /* One line per indicator the strategy reports (its own names). A line
   * whose values are far from the price (an oscillator: RSI, MACD) goes to a
   * pane of its own under the candles, so it does not flatten them; the
   * legend says so. */
  const IND_COLORS = ['#42a5f5', '#ffb74d', '#ab47bc', '#66bb6a', '#ec407a', '#26c6da', '#d4e157', '#8d6e63'];
  const indSeries = new Map(); /* name -> {series, overlay, color} */
  function priceLike(sym, name) {
    const bars = st.candles[sym] || [], pts = (st.ind[sym] || {})[name] || [];
    if (!bars.length || !pts.length) return true;
    const c = bars[bars.length - 1].close, v = pts[pts.length - 1].value;
    return c > 0 && v > c / 3 && v < c * 3;
  }
  /* an oscillator's decimals from its own recent values (MACD of a 0.0016 price is ~1e-6) */
  const indDecimals = (name) => F.inferDecimals((((st.ind[st.cur] || {})[name]) || []).slice(-50).map((p) => Math.abs(p.value)));

  /* The oscillator pane: its own chart on the same time axis. A hidden
   * series holding every bar's time keeps both charts' logical indexes
   * equal; the pane follows the candle chart (one way: two-way links pull
   * each other back, the events arrive after the next frame). */
  const osc = { chart: null, base: null };
  const barTimes = () => (st.candles[st.cur] || []).map((b) => ({ time: b.time }));
  function oscPane() {
    if (osc.chart) return osc.chart;
    $('osc-chart').hidden = false;
    osc.chart = LWC.createChart($('osc-chart'), chartOpts(130));
    osc.chart.applyOptions({ rightPriceScale: { minimumWidth: PRICE_AXIS_W }, handleScroll: false, handleScale: false });
    /* on an overlay scale of its own: the first series of a scale sets its label format */
    osc.base = osc.chart.addLineSeries({ visible: false, priceLineVisible: false, lastValueVisible: false, priceScaleId: 'times' });
    osc.base.setData(barTimes());
    follow(chart.timeScale().getVisibleLogicalRange());
    return osc.chart;
  }
  function follow(r) { if (osc.chart && r) osc.chart.timeScale().setVisibleLogicalRange(r); }
  chart.timeScale().subscribeVisibleLogicalRangeChange(follow);
  /* an oscillator starts at 0 (warm-up): its decimals grow with what it shows */
  function oscPrecision(s, v) {
    if (!s.overlay) return;
    const d = Math.max(s.dp, F.inferDecimals([Math.abs(v)]));
    if (d !== s.dp) { s.dp = d; s.series.applyOptions({ priceFormat: F.chartFormat(d) }); }
  }
  function oscClose() {
    if (!osc.chart) return;
    osc.chart.remove();
    osc.chart = osc.base = null;
    $('osc-chart').hidden = true;
  }

  function indLine(name) {
    let s = indSeries.get(name);
    if (s) return s;
    if (indSeries.size >= MAX_IND) return null;
    const color = IND_COLORS[indSeries.size % IND_COLORS.length];
    const overlay = !priceLike(st.cur, name);
    const dp = overlay ? indDecimals(name) : dpOf(st.cur);
    const series = (overlay ? oscPane() : chart).addLineSeries({ color, lineWidth: 1, priceLineVisible: false,
      lastValueVisible: overlay, title: '', priceFormat: F.chartFormat(dp) });
    s = { series, overlay, color, dp };
    indSeries.set(name, s);
    renderLegend();
    return s;
  }
  function renderLegend() {
    const lg = $('legend');
    lg.replaceChildren();
    for (const [name, s] of indSeries) {
      const item = el('span', undefined, 'legend-item');
      item.dataset.name = name;
      const sw = el('span', undefined, 'sw');
      sw.style.background = s.color;
      item.appendChild(sw);
      item.appendChild(el('span', name + (s.overlay ? ' (lower pane)' : '')));
      lg.appendChild(item);
    }
    if (!indSeries.size) lg.appendChild(el('span', st.strategy ? `${st.strategy}: no indicators reported` : '', 'muted'));
  }

  /* lightweight-charts wants strictly ascending times: a later point with
   * the same second replaces the earlier one, an older one is dropped */
  function ascending(pts) {
    const r = [];
    for (const p of pts) {
      const last = r[r.length - 1];
      if (last && last.time === p.time) r[r.length - 1] = p;
      else if (!last || p.time > last.time) r.push(p);
    }
    return r;
  }
  const toBar = (c) => ({ time: sec(c.t), open: c.o, high: c.h, low: c.l, close: c.c });

  /* precision grows when a price needs more decimals than seen so far */
  function notePrecision(sym, c) {
    if (sym in st.rdp) { st.dp[sym] = st.rdp[sym]; return; } /* the tick says it */
    const d = Math.max(st.dp[sym] || 0, F.inferDecimals([c.o, c.h, c.l, c.c]));
    if (st.dp[sym] === d) return;
    st.dp[sym] = d;
    if (sym === st.cur && !st.loading) applyPrecision();
  }
  function applyPrecision() {
    const pf = F.chartFormat(dpOf(st.cur));
    candles.applyOptions({ priceFormat: pf });
    for (const s of indSeries.values()) if (!s.overlay) s.series.applyOptions({ priceFormat: pf });
    renderHeader();
    renderPositions();
  }

  function upsertBar(sym, c) {
    const arr = st.candles[sym] || (st.candles[sym] = []);
    const b = toBar(c);
    const last = arr[arr.length - 1];
    if (last && last.time === b.time) arr[arr.length - 1] = b;
    else if (!last || b.time > last.time) { arr.push(b); if (arr.length > MAX_BARS) arr.shift(); }
    else return; /* older than what we show: ignore */
    notePrecision(sym, c);
    if (c.ind && typeof c.ind === 'object') {
      const ind = st.ind[sym] || (st.ind[sym] = {});
      for (const k of Object.keys(c.ind)) {
        if (typeof c.ind[k] !== 'number') continue;
        if (!st.indNames.includes(k)) st.indNames.push(k);
        const a = ind[k] || (ind[k] = []), p = { time: b.time, value: c.ind[k] };
        if (a.length && a[a.length - 1].time === p.time) a[a.length - 1] = p; else a.push(p);
        if (a.length > MAX_BARS) a.shift();
        if (sym === st.cur && !st.loading) { const s = indLine(k); if (s) { s.series.update(p); oscPrecision(s, p.value); } }
      }
    }
    if (sym === st.cur && !st.loading) { candles.update(b); if (osc.base) osc.base.update({ time: b.time }); renderHeader(); }
  }

  function renderHeader() {
    const arr = st.candles[st.cur] || [];
    const last = arr[arr.length - 1];
    const q = st.quote[st.cur];
    $('last-price').textContent = last ? px(st.cur, last.close) + (q ? ' ' + q : '') : '';
    $('last-price').title = last ? `last close, ${F.iso(last.time * 1000)}` : '';
  }

  function showSymbol(sym) {
    st.cur = sym;
    $('chart-title').textContent = sym || 'Chart';
    for (const s of indSeries.values()) if (!s.overlay) chart.removeSeries(s.series);
    indSeries.clear();
    oscClose();
    candles.applyOptions({ priceFormat: F.chartFormat(dpOf(sym)) });
    candles.setData(st.candles[sym] || []);
    const ind = st.ind[sym] || {};
    for (const k of st.indNames) { const s = ind[k] && indLine(k); if (s) s.series.setData(ind[k]); }
    renderLegend();
    renderMarkers();
    renderBadge();
    renderHeader();
    for (const b of $('symbols').children) b.classList.toggle('active', b.dataset.sym === sym);
    renderQuality();
  }

  function renderSymbols() {
    const nav = $('symbols');
    nav.replaceChildren();
    for (const s of st.symbols) {
      const b = el('button', s);
      b.type = 'button'; b.dataset.sym = s;
      if (st.quote[s]) b.title = `quoted in ${st.quote[s]}`;
      b.addEventListener('click', () => showSymbol(s));
      nav.appendChild(b);
    }
  }

  /* --------------------------------------------------------- markers
   * One marker per trade while they are few; past MARKER_GROUPS, trades are
   * clustered into time buckets per side ("B×7"), so hundreds of trades do
   * not hide the candles. */
  function renderMarkers() {
    const ts = (st.trades[st.cur] || []).slice(-MAX_MARKERS);
    const arr = st.candles[st.cur] || [];
    const span = arr.length > 1 ? arr[arr.length - 1].time - arr[0].time : 0;
    let width = 0, groups = new Map();
    const bucket = (t) => (width ? Math.floor(sec(t.t) / width) * width : sec(t.t));
    for (;;) {
      groups = new Map();
      for (const t of ts) {
        const k = bucket(t) + (t.side === 'buy' ? 'b' : 's');
        const g = groups.get(k) || { time: bucket(t), side: t.side, n: 0, last: t };
        g.n++; g.last = t; groups.set(k, g);
      }
      if (groups.size <= MARKER_GROUPS || !span) break;
      width = width ? width * 2 : Math.max(1, Math.ceil(span / MARKER_GROUPS));
    }
    const label = groups.size <= 12; /* prices only while they stay readable; the table has them all */
    const m = [...groups.values()].sort((a, b) => a.time - b.time).map((g) => {
      const buy = g.side === 'buy';
      const text = g.n > 1 ? `${buy ? 'B' : 'S'}×${g.n}` : label ? `${buy ? 'B' : 'S'} ${px(st.cur, g.last.price)}` : (buy ? 'B' : 'S');
      return { time: g.time, position: buy ? 'belowBar' : 'aboveBar', color: buy ? '#26a69a' : '#ef5350',
        shape: buy ? 'arrowUp' : 'arrowDown', text };
    });
    st.markerCount = m.length;
    st.markerTexts = m.map((x) => x.text);
    candles.setMarkers(m);
  }

  /* --------------------------------------------------------- panels */
  function addTrade(t) {
    const list = st.trades[t.symbol] || (st.trades[t.symbol] = []);
    list.push(t);
    if (list.length > MAX_MARKERS) list.shift();
    st.tradeList.push(t);
    if (st.tradeList.length > MAX_TRADES) st.tradeList.shift();
  }
  function renderTrades() {
    const newest = st.tradeList.slice().reverse();
    rows($('trades').tBodies[0], newest, (t) => t.id, (t) => [F.iso(t.t), t.symbol, t.side,
      qtyOf(t.symbol, t.qty), px(t.symbol, t.price), { t: F.num(t.pnl), cls: signCls(t.pnl) }, t.reason || '']);
  }

  function renderPortfolio(p) {
    st.equity = p.equity;
    const q = quoteAll();
    $('equity').textContent = F.num(p.equity) + q;
    $('cash').textContent = F.num(p.cash) + q;
    $('drawdown').textContent = (F.isNum(p.drawdown) ? p.drawdown * 100 : 0).toFixed(2) + ' %';
    if (Array.isArray(p.positions)) { st.positions = p.positions; renderPositions(); }
    if (typeof p.paused === 'boolean') setControlState(p.paused);
    if (typeof p.t === 'number') addEquityPoint({ t: p.t, equity: p.equity, drawdown: p.drawdown });
  }

  /* " BTC" when every symbol is quoted in the same currency (cash is in it) */
  function quoteAll() {
    const qs = new Set(st.symbols.map((x) => st.quote[x] || ''));
    return qs.size === 1 && !qs.has('') ? ' ' + [...qs][0] : '';
  }

  function addEquityPoint(e) {
    const pt = { time: sec(e.t), value: e.equity };
    const data = eqSeries.__data || (eqSeries.__data = []);
    if (data.length && data[data.length - 1].time > pt.time) return;
    eqSeries.update(pt);
    ddSeries.update({ time: pt.time, value: -(e.drawdown || 0) * 100 });
    if (data.length && data[data.length - 1].time === pt.time) data[data.length - 1] = pt;
    else { data.push(pt); if (data.length > MAX_EQ) data.shift(); }
  }

  function renderOrders() {
    rows($('orders').tBodies[0], [...st.orders.values()], (o) => o.id, (o) => [o.id, o.symbol, o.side, o.type || '',
      qtyOf(o.symbol, o.qty), o.status]);
  }

  /* Quality events in words: what was found, on which candle (UTC), and the
   * values involved (the server's text). */
  /* quality levels (quality/quality.c quality_level: Excellent .. Critical) */
  const LEVEL_COLOR = { excellent: '#26a69a', good: '#26a69a', fair: '#c6e36f', poor: '#f5a623', critical: '#ef5350', bad: '#ef5350' };
  function noteIssues(q) {
    const list = st.issues[q.symbol] || (st.issues[q.symbol] = []);
    for (const i of q.issues || []) { list.unshift(i); if (list.length > MAX_ALERTS) list.pop(); }
  }
  function issueText(i) {
    const when = typeof i.t === 'number' ? F.iso(i.t) : '';
    return [when, i.text || i.msg || i.kind || 'issue'].filter(Boolean).join(' — ');
  }
  function renderQuality() {
    const q = st.quality[st.cur];
    $('q-symbol').textContent = st.cur || '';
    if (!q) return;
    const score = Math.max(0, Math.min(100, Number(q.score) || 0));
    $('gauge-fill').style.width = score + '%';
    const level = String(q.level || '').toLowerCase();
    $('gauge-fill').style.background = LEVEL_COLOR[level] || '#8b98a5';
    $('q-score').textContent = score.toFixed(0);
    const lv = $('q-level');
    lv.textContent = String(q.level || '–');
    lv.className = 'level level-' + (LEVEL_COLOR[level] ? level : 'unknown');
    const ul = $('q-issues');
    ul.replaceChildren(...(st.issues[st.cur] || []).map((i) => el('li', issueText(i))));
  }

  function msgRate() {
    const now = Date.now();
    while (st.msgTimes.length && st.msgTimes[0] < now - 10000) st.msgTimes.shift();
    return st.msgTimes.length / 10;
  }

  function renderHealth(h) {
    st.health = h;
    const dl = $('health');
    const items = [['status', h.status], ['uptime', F.num(h.uptime_s, 0) + ' s'],
      ['memory', ((h.rss_kb || 0) / 1024).toFixed(1) + ' MiB'], ['clients', h.server && h.server.clients],
      ['msgs/s (this page)', msgRate().toFixed(1)], ['breaker', h.circuit_breaker]];
    for (const [sym, f] of Object.entries(h.feeds || {}))
      items.push([sym, `${f.status || f.state}${f.reason ? ' (' + f.reason + ')' : ''}` +
        ` · age ${F.isNum(f.last_candle_age_s) ? f.last_candle_age_s.toFixed(1) + ' s' : '–'} · reconnects ${f.reconnects}`]);
    renderHealthScore(h, items);
    renderBadge();
    dl.replaceChildren();
    for (const [k, v] of items) { dl.appendChild(el('dt', k)); dl.appendChild(el('dd', v === undefined ? '–' : v)); }
  }

  // Overall health score and level (docs/health.md), plus the components
  // that are down or stale; text only (textContent), never markup.
  const HEALTH_LEVELS = ['excellent', 'good', 'fair', 'poor', 'critical'];
  function renderHealthScore(h, items) {
    const hs = $('health-score');
    if (!hs) return;
    const lvl = HEALTH_LEVELS.includes(h.level) ? h.level : 'unknown';
    hs.textContent = typeof h.score === 'number' ? `${h.score.toFixed(0)} · ${lvl}` : '–';
    hs.className = 'health-score hlevel-' + lvl;
    if (Array.isArray(h.components)) {
      const bad = h.components.filter((c) => !c.up || c.stale).map((c) => `${c.name} (${c.stale ? 'stale' : c.state})`);
      items.push(['components', bad.length ? bad.join(', ') : `${h.components.length} up`]);
    }
  }

  /* alerts carry the server's wall clock (ts, ms): shown in UTC */
  function addAlert(a, ts, quiet) {
    const ul = $('alerts');
    const li = el('li', `${F.iso(typeof a.ts === 'number' ? a.ts : ts)} ${a.level || ''}: ${a.msg || ''}`);
    li.className = 'alert-' + (a.level === 'warn' || a.level === 'error' ? 'warn' : 'info');
    ul.insertBefore(li, ul.firstChild);
    while (ul.children.length > MAX_ALERTS) ul.lastChild.remove();
    if (a.session_end) showEnded(a.session_end.reason);
    if (!quiet) notify('papertrader alert', String(a.msg || ''));
  }

  function showEnded(reason) {
    st.ended = String(reason || 'stopped');
    const b = $('ended');
    b.textContent = `session ended (${st.ended})`;
    b.hidden = false;
  }

  function notify(title, body) {
    if (!('Notification' in window) || Notification.permission !== 'granted' || !document.hidden) return;
    try { new Notification(title, { body }); } catch (e) { /* some browsers need a service worker */ }
  }
  $('notify').addEventListener('click', () => {
    if ('Notification' in window) Notification.requestPermission().then((p) => { $('notify').textContent = 'Notify: ' + p; });
  });

  /* -------------------------------------------------------- controls
   * Read-only by default (issue 4). With the access token (typed in, kept in
   * sessionStorage for this tab only, sent with the "auth" message) the bar
   * sends control messages; results come back as control_ack (docs/protocol.md
   * "Control"). Everything rendered with textContent. */
  const TOKEN_KEY = 'pt_token';
  const ctl = { enabled: false, authed: false, paused: false, pending: 0, n: 0, sent: new Map() };
  st.ctl = ctl;
  const storedToken = () => { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; } };
  const storeToken = (t) => { try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ } };
  const wsSend = (o) => { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(o)); return true; } return false; };

  function ctlResult(text, bad) {
    const r = $('ctl-result');
    r.textContent = text;
    r.className = 'ctl-result' + (bad ? ' neg' : '');
  }
  function renderControls() {
    $('paused').hidden = !ctl.paused && !ctl.pending;
    $('paused').textContent = ctl.paused ? 'entries paused' : 'control pending';
    $('ctl').hidden = !ctl.enabled;
    $('ctl-auth').hidden = ctl.authed;
    $('ctl-bar').hidden = !ctl.authed;
    $('ctl-pause').disabled = ctl.paused;
    $('ctl-resume').disabled = !ctl.paused;
    renderPositions();
  }
  function setControlState(paused, pending) {
    if (typeof paused === 'boolean') ctl.paused = paused;
    if (typeof pending === 'number') ctl.pending = pending;
    renderControls();
  }
  function authenticate() {
    const t = storedToken();
    if (ctl.enabled && !ctl.authed && t) wsSend({ type: 'auth', token: t, id: 'auth' });
  }
  function sendControl(cmd, symbol) {
    const id = 'ctl-' + (++ctl.n), label = symbol ? `${cmd} ${symbol}` : cmd;
    const msg = { type: 'control', cmd, id };
    if (symbol) msg.symbol = symbol;
    if (!wsSend(msg)) { ctlResult(`${label}: not connected`, true); return; }
    ctl.sent.set(id, label);
    if (ctl.sent.size > 50) ctl.sent.delete(ctl.sent.keys().next().value); /* bounded */
    ctlResult(`${label}: sent…`);
  }
  function onReply(m) {
    if (m.type === 'auth_ok') { ctl.authed = true; ctlResult('control unlocked'); renderControls(); }
    else if (m.type === 'auth_invalid') {
      storeToken(''); /* never resend a wrong token on reconnect */
      ctl.authed = false; ctlResult('invalid token', true); renderControls();
    } else if (m.type === 'control_ack') {
      const label = ctl.sent.get(m.id) || 'control';
      ctl.sent.delete(m.id);
      ctlResult(m.error ? `${label}: refused — ${m.error}` : `${label}: accepted`, !!m.error);
    }
  }
  /* the Close cell: one button per row, made once, kept while the row lives */
  function closeCell(tr, x, fresh, n) {
    let td = tr.children[n];
    if (!td) td = tr.appendChild(el('td'));
    const b = td.firstChild;
    if (ctl.authed && !b) {
      const btn = el('button', 'Close', 'ctl-close');
      btn.type = 'button';
      btn.addEventListener('click', () => {
        const sym = tr.dataset.key;
        if (window.confirm(`Close the ${sym} position at the next candle open?`)) sendControl('close_position', sym);
      });
      td.appendChild(btn);
    } else if (!ctl.authed && b) b.remove();
  }
  /* a perp position: leverage, margin ratio and liquidation price after the symbol (docs/futures.md) */
  const posName = (x) => (F.isNum(x.leverage) ? `${x.symbol} ${x.leverage}x · margin ratio ${F.num(100 * x.margin_ratio)}% · liq. ${
    x.liquidation_price > 0 ? px(x.symbol, x.liquidation_price) : 'none'}` : x.symbol);
  function renderPositions() {
    rows($('positions').tBodies[0], st.positions || [], (x) => x.symbol, (x) => [posName(x), qtyOf(x.symbol, x.qty),
      px(x.symbol, x.avg_price), px(x.symbol, x.last), { t: F.num(x.upnl), cls: signCls(x.upnl) }], closeCell);
  }
  $('ctl-auth').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('ctl-token').value.trim();
    $('ctl-token').value = '';
    if (!t) return;
    storeToken(t);
    authenticate();
  });
  $('ctl-pause').addEventListener('click', () => sendControl('pause'));
  $('ctl-resume').addEventListener('click', () => sendControl('resume'));
  $('ctl-flatten').addEventListener('click', () => {
    if (window.confirm('Flatten: cancel open orders and close every position at the next candle open? (Entries stay allowed: pause first to stay flat.)'))
      sendControl('flatten');
  });
  $('ctl-lock').addEventListener('click', () => { storeToken(''); ctlResult('token forgotten; reconnecting read-only'); if (ws) ws.close(); });

  /* ------------------------------------------------------- protocol */
  function onSnapshot(m) {
    const d = m.data || {};
    st.snapshots++; st.lastSeq = m.seq || 0;
    st.loading = true; /* series are replaced wholesale below (setData), never updated backwards */
    st.symbols = Array.isArray(d.symbols) ? d.symbols.map(String) : [];
    st.candles = {}; st.ind = {}; st.indNames = []; st.trades = {}; st.tradeList = []; st.quality = {};
    st.issues = {}; st.orders = new Map(); st.dp = {}; st.rdp = {}; st.qdp = {}; st.quote = {};
    st.strategy = d.strategy && typeof d.strategy.name === 'string' ? d.strategy.name : '';
    if (d.indicators && Array.isArray(d.indicators.names)) st.indNames = d.indicators.names.map(String);
    for (const s of st.symbols) {
      const info = (d.markets && d.markets[s]) || {};
      if (typeof info.quote === 'string') st.quote[s] = info.quote;
      if (Number.isInteger(info.price_decimals) && info.price_decimals >= 0 && info.price_decimals <= 18) st.rdp[s] = info.price_decimals;
      if (Number.isInteger(info.qty_decimals) && info.qty_decimals >= 0 && info.qty_decimals <= 18) st.qdp[s] = info.qty_decimals;
      for (const c of (d.candles && d.candles[s]) || []) upsertBar(s, c);
      if (d.partial && d.partial[s]) upsertBar(s, d.partial[s]);
    }
    for (const t of d.trades || []) addTrade(t);
    renderTrades();
    for (const o of d.orders || []) st.orders.set(o.id, o);
    renderOrders();
    for (const [s, q] of Object.entries(d.quality || {})) st.quality[s] = q;
    for (const i of d.quality_events || []) noteIssues({ symbol: i.symbol, issues: [i] });
    eqSeries.__data = [];
    const eq = ascending((d.equity || []).map((e) => ({ time: sec(e.t), value: e.equity })));
    eqSeries.setData(eq); eqSeries.__data = eq.slice();
    ddSeries.setData(ascending((d.equity || []).map((e) => ({ time: sec(e.t), value: -(e.drawdown || 0) * 100 }))));
    $('alerts').replaceChildren();
    for (const a of d.alerts || []) addAlert(a, m.ts, true);
    st.loading = false;
    renderSymbols();
    showSymbol(st.symbols.includes(st.cur) ? st.cur : st.symbols[0]);
    if (d.portfolio) renderPortfolio(Object.assign({ positions: d.positions }, d.portfolio, { t: undefined }));
    if (d.health) renderHealth(d.health);
    ctl.enabled = d.control_enabled === true; ctl.authed = d.authed === true;
    setControlState(d.paused === true, Number(d.controls_pending) || 0);
    authenticate();
  }

  function onEvent(m) {
    const d = m.data || {};
    st.events++;
    if (typeof m.seq === 'number') st.lastSeq = m.seq;
    switch (m.type) {
      case 'candle': upsertBar(String(d.symbol), d); break;
      case 'trade': addTrade(d); renderTrades(); if (d.symbol === st.cur) renderMarkers();
        notify('papertrader trade', `${d.side} ${qtyOf(d.symbol, d.qty)} ${d.symbol} @ ${px(d.symbol, d.price)}`); break;
      case 'order': if (d.status === 'new' || d.status === 'open') st.orders.set(d.id, d); else st.orders.delete(d.id);
        renderOrders(); break;
      case 'portfolio': renderPortfolio(d); break;
      case 'quality': st.quality[d.symbol] = d; noteIssues(d); if (d.symbol === st.cur) renderQuality(); break;
      case 'health': renderHealth(d); setControlState(d.entries_paused, d.controls_pending); break;
      case 'alert': addAlert(d, m.ts); if (d.control) setControlState(d.control.paused, d.control.pending); break;
      default: break; /* unknown types are ignored: forward compatible */
    }
  }

  /* ----------------------------------------------------- connection */
  let ws = null, retry = 0;
  function setConn(s) {
    st.conn = s;
    renderBadge();
  }
  /* The badge says what the trader needs: while the page is connected, the
   * current symbol's feed status from /health (docs/health.md: connecting,
   * live, stale, reconnecting, down) with its reason beside it; otherwise the
   * page's own link. A dead exchange never shows a green "live". */
  const FEED_BADGE = { live: 'live', down: 'down', stale: 'connecting', reconnecting: 'connecting', connecting: 'connecting' };
  function renderBadge() {
    const f = st.health && st.health.feeds && st.health.feeds[st.cur];
    let text = st.conn, cls = st.conn === 'live' ? 'live' : st.conn === 'down' ? 'down' : 'connecting', why = '';
    if (st.conn !== 'live') {
      if (st.ended) text = 'ended';
      else if (st.conn === 'down') why = 'no link to the session';
    } else if (f && FEED_BADGE[f.status]) {
      text = f.status; cls = FEED_BADGE[f.status]; why = f.status === 'live' ? '' : String(f.reason || '');
    }
    st.feedStatus = text;
    const c = $('conn'), r = $('conn-reason');
    c.textContent = text;
    c.className = 'conn conn-' + cls;
    c.title = why ? `${text}: ${why}` : text;
    r.textContent = why;
    r.title = why;
    r.hidden = !why;
  }
  function connect() {
    const token = new URLSearchParams(location.search).get('token');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/' +
      (token ? '?token=' + encodeURIComponent(token) : '');
    setConn('connecting');
    ws = new WebSocket(url);
    ws.onopen = () => { retry = 0; };
    ws.onmessage = (ev) => {
      st.msgTimes.push(Date.now());
      if (st.msgTimes.length > 5000) st.msgTimes.shift(); /* bounded */
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (!m || m.v !== 1) return;
      try {
        if (m.type === 'snapshot') { onSnapshot(m); setConn('live'); }
        else if (m.type === 'auth_ok' || m.type === 'auth_invalid' || m.type === 'control_ack') onReply(m);
        else onEvent(m);
      } catch (e) {
        st.loading = false;
        console.warn('dashboard: could not apply', m.type, e); /* keep the stream going */
      }
    };
    ws.onclose = () => {
      setConn('down');
      /* capped exponential backoff with jitter; a fresh snapshot resyncs */
      const delay = Math.min(5000, 250 * 2 ** Math.min(retry++, 5)) * (0.8 + Math.random() * 0.4);
      setTimeout(connect, delay);
    };
  }
  connect();
})();
