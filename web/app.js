/* papertrader dashboard: one WebSocket, protocol v1 (docs/protocol.md).
 * Every string from the server is rendered with textContent (R-S10). */
'use strict';
(function () {
  const LWC = window.LightweightCharts;
  const MAX_BARS = 2000, MAX_TRADES = 200, MAX_MARKERS = 300, MAX_ALERTS = 50, MAX_EQ = 5000;
  const $ = (id) => document.getElementById(id);
  const st = {
    symbols: [], cur: null, candles: {}, ind: {}, markers: {}, quality: {}, orders: new Map(),
    trades: 0, equity: null, snapshots: 0, lastSeq: 0, events: 0, conn: 'connecting', health: null,
  };
  window.__pt = st; /* read by the browser test; never written from outside */

  const fmt = (v, d = 2) => (typeof v === 'number' && isFinite(v) ? v.toFixed(d) : '–');
  const sec = (ms) => Math.floor(ms / 1000);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const row = (cells) => {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = el('td', c.t !== undefined ? c.t : c);
      if (c.cls) td.className = c.cls;
      tr.appendChild(td);
    }
    return tr;
  };
  const signCls = (v) => (v > 0 ? 'pos' : v < 0 ? 'neg' : '');

  /* ---------------------------------------------------------- charts */
  const chartOpts = (h) => ({
    height: h, layout: { background: { color: '#182028' }, textColor: '#dde3ea' },
    grid: { vertLines: { color: '#222c36' }, horzLines: { color: '#222c36' } },
    timeScale: { timeVisible: true, secondsVisible: false }, autoSize: true,
  });
  const chart = LWC.createChart($('chart'), chartOpts(380));
  const candles = chart.addCandlestickSeries({ upColor: '#26a69a', downColor: '#ef5350',
    borderVisible: false, wickUpColor: '#26a69a', wickDownColor: '#ef5350' });
  const fast = chart.addLineSeries({ color: '#42a5f5', lineWidth: 1, priceLineVisible: false, lastValueVisible: false });
  const slow = chart.addLineSeries({ color: '#ffb74d', lineWidth: 1, priceLineVisible: false, lastValueVisible: false });
  const eqChart = LWC.createChart($('equity-chart'), chartOpts(160));
  const eqSeries = eqChart.addAreaSeries({ lineColor: '#26a69a', topColor: 'rgba(38,166,154,.4)',
    bottomColor: 'rgba(38,166,154,0)', lineWidth: 2 });
  const ddSeries = eqChart.addLineSeries({ color: '#ef5350', lineWidth: 1, priceScaleId: 'left',
    priceFormat: { type: 'percent' } });
  eqChart.priceScale('left').applyOptions({ visible: true });

  const toBar = (c) => ({ time: sec(c.t), open: c.o, high: c.h, low: c.l, close: c.c });

  function upsertBar(sym, c) {
    const arr = st.candles[sym] || (st.candles[sym] = []);
    const b = toBar(c);
    const last = arr[arr.length - 1];
    if (last && last.time === b.time) arr[arr.length - 1] = b;
    else if (!last || b.time > last.time) { arr.push(b); if (arr.length > MAX_BARS) arr.shift(); }
    else return; /* older than what we show: ignore */
    if (c.ind) {
      const ind = st.ind[sym] || (st.ind[sym] = { sma9: [], sma21: [] });
      for (const k of ['sma9', 'sma21']) {
        if (typeof c.ind[k] !== 'number') continue;
        const a = ind[k], p = { time: b.time, value: c.ind[k] };
        if (a.length && a[a.length - 1].time === p.time) a[a.length - 1] = p; else a.push(p);
        if (a.length > MAX_BARS) a.shift();
        if (sym === st.cur && !st.loading) (k === 'sma9' ? fast : slow).update(p);
      }
    }
    if (sym === st.cur && !st.loading) { candles.update(b); $('last-price').textContent = fmt(c.c, c.c < 1 ? 5 : 2); }
  }

  function showSymbol(sym) {
    st.cur = sym;
    $('chart-title').textContent = sym || 'Chart';
    candles.setData(st.candles[sym] || []);
    const ind = st.ind[sym] || { sma9: [], sma21: [] };
    fast.setData(ind.sma9); slow.setData(ind.sma21);
    candles.setMarkers(st.markers[sym] || []);
    for (const b of $('symbols').children) b.classList.toggle('active', b.dataset.sym === sym);
    renderQuality();
  }

  function renderSymbols() {
    const nav = $('symbols');
    nav.replaceChildren();
    for (const s of st.symbols) {
      const b = el('button', s);
      b.type = 'button'; b.dataset.sym = s;
      b.addEventListener('click', () => showSymbol(s));
      nav.appendChild(b);
    }
  }

  /* --------------------------------------------------------- panels */
  function addMarker(t) {
    const m = st.markers[t.symbol] || (st.markers[t.symbol] = []);
    m.push({ time: sec(t.t), position: t.side === 'buy' ? 'belowBar' : 'aboveBar',
      color: t.side === 'buy' ? '#26a69a' : '#ef5350', shape: t.side === 'buy' ? 'arrowUp' : 'arrowDown',
      text: (t.side === 'buy' ? 'B ' : 'S ') + fmt(t.price) });
    m.sort((a, b) => a.time - b.time);
    if (m.length > MAX_MARKERS) m.shift();
    if (t.symbol === st.cur && !st.loading) candles.setMarkers(m);
  }

  function addTradeRow(t, prepend) {
    const tb = $('trades').tBodies[0];
    const r = row([new Date(t.t).toISOString().replace('T', ' ').slice(0, 19), t.symbol, t.side,
      fmt(t.qty, 6), fmt(t.price), { t: fmt(t.pnl), cls: signCls(t.pnl) }, t.reason || '']);
    if (prepend) tb.insertBefore(r, tb.firstChild); else tb.appendChild(r);
    while (tb.rows.length > MAX_TRADES) tb.deleteRow(tb.rows.length - 1);
    st.trades++;
  }

  function renderPortfolio(p) {
    st.equity = p.equity;
    $('equity').textContent = fmt(p.equity);
    $('cash').textContent = fmt(p.cash);
    $('drawdown').textContent = fmt((p.drawdown || 0) * 100) + ' %';
    if (Array.isArray(p.positions)) { st.positions = p.positions; renderPositions(); }
    if (typeof p.paused === 'boolean') setControlState(p.paused);
    if (typeof p.t === 'number') addEquityPoint({ t: p.t, equity: p.equity, drawdown: p.drawdown });
  }

  function addEquityPoint(e) {
    const pt = { time: sec(e.t), value: e.equity };
    const data = eqSeries.__data || (eqSeries.__data = []);
    if (data.length && data[data.length - 1].time > pt.time) return;
    eqSeries.update(pt);
    ddSeries.update({ time: pt.time, value: -(e.drawdown || 0) * 100 });
    data.push(pt); if (data.length > MAX_EQ) data.shift();
  }

  function renderOrders() {
    const tb = $('orders').tBodies[0];
    tb.replaceChildren(...[...st.orders.values()].map((o) => row([o.id, o.symbol, o.side, fmt(o.qty, 6), o.status])));
  }

  const LEVEL_COLOR = { good: '#26a69a', fair: '#c6e36f', poor: '#f5a623', bad: '#ef5350' };
  function renderQuality() {
    const q = st.quality[st.cur];
    $('q-symbol').textContent = st.cur || '';
    if (!q) return;
    const score = Math.max(0, Math.min(100, Number(q.score) || 0));
    $('gauge-fill').style.width = score + '%';
    $('gauge-fill').style.background = LEVEL_COLOR[q.level] || '#8b98a5';
    $('q-score').textContent = fmt(score, 0);
    const lv = $('q-level');
    lv.textContent = String(q.level || '–');
    lv.className = 'level level-' + (LEVEL_COLOR[q.level] ? q.level : 'unknown');
    const ul = $('q-issues');
    for (const i of q.issues || []) {
      ul.insertBefore(el('li', `${q.symbol || st.cur}: ${i.kind || 'issue'} — ${i.msg || ''}`), ul.firstChild);
      while (ul.children.length > MAX_ALERTS) ul.lastChild.remove();
    }
  }

  function renderHealth(h) {
    st.health = h;
    const dl = $('health');
    const items = [['status', h.status], ['uptime', fmt(h.uptime_s, 0) + ' s'],
      ['memory', fmt((h.rss_kb || 0) / 1024, 1) + ' MiB'], ['clients', h.server && h.server.clients],
      ['msgs/s', h.msgs_per_s], ['breaker', h.circuit_breaker]];
    for (const [sym, f] of Object.entries(h.feeds || {}))
      items.push([sym, `${f.state} · age ${fmt(f.last_candle_age_s, 1)} s · reconnects ${f.reconnects}`]);
    renderHealthScore(h, items);
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
    hs.textContent = typeof h.score === 'number' ? `${fmt(h.score, 0)} · ${lvl}` : '–';
    hs.className = 'health-score hlevel-' + lvl;
    if (Array.isArray(h.components)) {
      const bad = h.components.filter((c) => !c.up || c.stale).map((c) => `${c.name} (${c.stale ? 'stale' : c.state})`);
      items.push(['components', bad.length ? bad.join(', ') : `${h.components.length} up`]);
    }
  }

  function addAlert(a) {
    const ul = $('alerts');
    ul.insertBefore(el('li', `${new Date().toLocaleTimeString()} ${a.level || ''}: ${a.msg || ''}`), ul.firstChild);
    while (ul.children.length > MAX_ALERTS) ul.lastChild.remove();
    notify('papertrader alert', String(a.msg || ''));
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
  function renderPositions() {
    const tb = $('positions').tBodies[0];
    tb.replaceChildren(...(st.positions || []).map((x) => {
      const tr = row([x.symbol, fmt(x.qty, 6), fmt(x.avg_price), fmt(x.last), { t: fmt(x.upnl), cls: signCls(x.upnl) }]);
      const td = el('td');
      if (ctl.authed) {
        const b = el('button', 'Close', 'ctl-close');
        b.type = 'button';
        b.addEventListener('click', () => {
          if (window.confirm(`Close the ${x.symbol} position at the next candle open?`)) sendControl('close_position', String(x.symbol));
        });
        td.appendChild(b);
      }
      tr.appendChild(td);
      return tr;
    }));
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
    st.candles = {}; st.ind = {}; st.markers = {}; st.quality = {}; st.orders = new Map(); st.trades = 0;
    for (const s of st.symbols) {
      for (const c of (d.candles && d.candles[s]) || []) upsertBar(s, c);
      if (d.partial && d.partial[s]) upsertBar(s, d.partial[s]);
    }
    $('trades').tBodies[0].replaceChildren();
    for (const t of d.trades || []) { addTradeRow(t, true); addMarker(t); }
    for (const o of d.orders || []) st.orders.set(o.id, o);
    renderOrders();
    Object.assign(st.quality, d.quality || {});
    eqSeries.__data = [];
    const eq = (d.equity || []).map((e) => ({ time: sec(e.t), value: e.equity }));
    eqSeries.setData(eq); eqSeries.__data = eq.slice();
    ddSeries.setData((d.equity || []).map((e) => ({ time: sec(e.t), value: -(e.drawdown || 0) * 100 })));
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
      case 'trade': addTradeRow(d, true); addMarker(d);
        notify('papertrader trade', `${d.side} ${d.qty} ${d.symbol} @ ${d.price}`); break;
      case 'order': if (d.status === 'new' || d.status === 'open') st.orders.set(d.id, d); else st.orders.delete(d.id);
        renderOrders(); break;
      case 'portfolio': renderPortfolio(d); break;
      case 'quality': st.quality[d.symbol] = d; if (d.symbol === st.cur) renderQuality(); break;
      case 'health': renderHealth(d); setControlState(d.entries_paused, d.controls_pending); break;
      case 'alert': addAlert(d); if (d.control) setControlState(d.control.paused, d.control.pending); break;
      default: break; /* unknown types are ignored: forward compatible */
    }
  }

  /* ----------------------------------------------------- connection */
  let ws = null, retry = 0;
  function setConn(s) {
    st.conn = s;
    const c = $('conn');
    c.textContent = s;
    c.className = 'conn conn-' + (s === 'live' ? 'live' : s === 'down' ? 'down' : 'connecting');
  }
  function connect() {
    const token = new URLSearchParams(location.search).get('token');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/' +
      (token ? '?token=' + encodeURIComponent(token) : '');
    setConn('connecting');
    ws = new WebSocket(url);
    ws.onopen = () => { retry = 0; };
    ws.onmessage = (ev) => {
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
