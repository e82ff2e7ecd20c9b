// Protocol integration test for ws_server, with an independent client (node
// `ws`) against bench/wss_fanout on a free port: HTTP surface, Origin
// and Host refusals, snapshot-then-events, slow-client drop
// while a healthy client gets every trade, inbound cap, token
// and control, client cap, /metrics grammar, /health schema, and the
// real listening socket.
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import parsePrometheus from 'parse-prometheus-text-format';
import { freePort, startDriver, stopDriver, request, makeChecker, sleep } from './wss_lib.mjs';

const check = makeChecker('wss_protocol');
const TOKEN = 'test-token-0123456789abcdef';
const hardStop = setTimeout(() => { console.log('not ok - test timed out'); process.exit(1); }, 90000);

function openWs(port, { origin = `http://127.0.0.1:${port}`, query = '', headers } = {}) {
  const opts = { perMessageDeflate: false, handshakeTimeout: 5000 };
  if (origin) opts.origin = origin;
  if (headers) opts.headers = headers;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/${query}`, opts);
  ws.msgs = [];
  ws.status = new Promise((resolve) => {
    ws.on('open', () => resolve({ open: true }));
    ws.on('unexpected-response', (req, res) => { resolve({ open: false, status: res.statusCode }); req.destroy(); });
    ws.on('error', (e) => resolve({ open: false, error: String(e) }));
  });
  ws.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (d) => { try { ws.msgs.push(JSON.parse(d.toString())); } catch (e) { ws.msgs.push({ bad: String(d) }); } });
  return ws;
}

async function waitFor(fn, ms, step = 50) {
  const end = Date.now() + ms;
  while (Date.now() < end) { const v = await fn(); if (v) return v; await sleep(step); }
  return fn();
}

// Strict Prometheus text-format 0.0.4 checker. Returns {errors, families}.
function parseExposition(text) {
  const errors = [], families = new Map(), seen = new Set();
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/, LNAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
  const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]?Inf|NaN)$/;
  if (!text.endsWith('\n')) errors.push('does not end with a newline');
  let current = null;
  const fam = (n) => { if (!families.has(n)) families.set(n, { type: null, help: null, samples: [], closed: false }); return families.get(n); };
  text.split('\n').forEach((line, i) => {
    const ln = i + 1;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // plain comment
      if (!NAME.test(m[2])) errors.push(`${ln}: bad name ${m[2]}`);
      const f = fam(m[2]);
      if (m[1] === 'TYPE') {
        if (f.type) errors.push(`${ln}: second TYPE for ${m[2]}`);
        if (f.samples.length) errors.push(`${ln}: TYPE after samples for ${m[2]}`);
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(m[3])) errors.push(`${ln}: bad type ${m[3]}`);
        f.type = m[3];
      } else {
        if (f.help !== null) errors.push(`${ln}: second HELP for ${m[2]}`);
        if (/\\(?![\\n])/.test(m[3])) errors.push(`${ln}: bad escape in HELP`);
        f.help = m[3];
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) { errors.push(`${ln}: not a sample: ${line}`); return; }
    const [, name, , labelText, value] = m;
    const labels = {};
    if (labelText !== undefined && labelText !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      let pos = 0;
      while (pos < labelText.length) {
        re.lastIndex = pos;
        const lm = re.exec(labelText);
        if (!lm) { errors.push(`${ln}: bad labels: ${labelText}`); break; }
        if (!LNAME.test(lm[1]) || lm[1] in labels) errors.push(`${ln}: bad or duplicate label ${lm[1]}`);
        labels[lm[1]] = lm[2];
        pos = re.lastIndex;
      }
    }
    if (!VALUE.test(value)) errors.push(`${ln}: bad value ${value}`);
    if (value === 'NaN') errors.push(`${ln}: NaN value for ${name}`);
    const base = families.has(name) ? name : name.replace(/_(total|sum|count|bucket)$/, '');
    const f = fam(base);
    if (current !== base) { if (f.closed) errors.push(`${ln}: samples of ${base} not contiguous`); if (current) fam(current).closed = true; current = base; }
    if (!f.type) errors.push(`${ln}: sample before TYPE for ${name}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) errors.push(`${ln}: duplicate series ${key}`);
    seen.add(key);
    if (f.type === 'counter' && Number(value) < 0) errors.push(`${ln}: negative counter ${name}`);
    f.samples.push({ name, labels, value: Number(value) });
  });
  return { errors, families };
}

async function main() {
  const port = await freePort();
  const drv = await startDriver(port, ['--rate', '300', '--candle-ms', '100', '--trade-every', '1', '--token', TOKEN,
    '--max-clients', '6', '--queue-msgs', '128', '--queue-bytes', '3000000', '--pad', '16000', '--heartbeat-ms', '500']);
  try {
    // ---- the kernel's view of the listening socket
    const ss = execFileSync('ss', ['-ltnH'], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/)[3])
      .filter((a) => a && a.endsWith(':' + port));
    check(ss.length >= 1 && ss.every((a) => a === `127.0.0.1:${port}`), 'ss -ltn shows only 127.0.0.1:port', ss);

    // ---- HTTP surface
    const root = await request(port, '/');
    check(root.status === 200 && /<html/.test(root.body), 'GET / serves the dashboard');
    check(/default-src 'self'/.test(root.headers['content-security-policy'] || ''), 'CSP header on the page');
    check(root.headers['x-content-type-options'] === 'nosniff', 'nosniff header');
    check(!('access-control-allow-origin' in root.headers), 'no Access-Control-Allow-Origin');
    const vendor = await request(port, '/vendor/lightweight-charts.js');
    check(vendor.status === 200 && vendor.body.includes('LightweightCharts'), 'chart library served locally');
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await request(port, '/health', { method: m });
      check(r.status === 405, `${m} /health -> 405`, r.status);
    }
    for (const p of ['/../etc/passwd', '/%2e%2e/etc/passwd', '//etc/passwd', '/web/../../etc/passwd', '/nope', '/.git/config']) {
      const r = await request(port, p);
      check(r.status === 404 || r.status === 403 || r.status === 400, `${p} is not served`, r.status);
      check(!/root:/.test(r.body), `${p} leaks nothing`);
    }
    const head = await request(port, '/metrics', { method: 'HEAD' });
    check(head.status === 200 && head.body === '', 'HEAD /metrics: 200, no body');
    const rebind = await request(port, '/health', { headers: { Host: `rebind.evil.example:${port}` } });
    check(rebind.status === 403, 'foreign Host on HTTP -> 403', rebind.status);
    // the port in its exact form only (issue 11 item 5): zero-padded is someone else's name
    const padded = await request(port, '/health', { headers: { Host: `127.0.0.1:0${port}` } });
    check(padded.status === 403, 'zero-padded Host port on HTTP -> 403', padded.status);
    const exact = await request(port, '/health', { headers: { Host: `127.0.0.1:${port}` } });
    check(exact.status === 200, 'exact Host port on HTTP -> 200', exact.status);

    // ---- /health schema
    const h = await request(port, '/health');
    let hj = {};
    try { hj = JSON.parse(h.body); } catch (e) { /* checked below */ }
    check(h.status === 200 && /application\/json/.test(h.headers['content-type']), '/health is JSON');
    check(h.headers['cache-control'] === 'no-store', '/health no-store');
    check(['ok', 'degraded', 'down'].includes(hj.status) && typeof hj.uptime_s === 'number' && hj.rss_kb > 0 &&
      Number.isInteger(hj.server?.clients) && typeof hj.circuit_breaker === 'string' && typeof hj.errors === 'object',
      '/health top-level schema', hj);
    const feeds = Object.values(hj.feeds || {});
    check(feeds.length > 0 && feeds.every((f) => typeof f.state === 'string' && typeof f.last_candle_age_s === 'number' &&
      typeof f.quality === 'number' && typeof f.reconnects === 'number'), '/health feeds schema', hj.feeds);
    check(!h.body.includes(TOKEN), '/health does not reveal the token');

    // ---- Origin / Host / token at the handshake
    const evil = openWs(port, { origin: 'http://evil.example' });
    check((await evil.status).status === 403, 'foreign Origin -> 403');
    const evilPort = openWs(port, { origin: `http://127.0.0.1:${port + 1}` });
    check((await evilPort.status).status === 403, 'other-port Origin -> 403');
    const evilHost = openWs(port, { headers: { Host: `rebind.evil.example:${port}` } });
    check((await evilHost.status).status === 403, 'foreign Host on upgrade -> 403');
    const noOrigin = openWs(port, { origin: null });
    check((await noOrigin.status).status === 403, 'missing Origin without token -> 403');
    const tokOnly = openWs(port, { origin: null, query: '?token=' + TOKEN });
    check((await tokOnly.status).open, 'missing Origin with ?token= accepted');
    await waitFor(() => tokOnly.msgs.length, 3000);
    check(tokOnly.msgs[0]?.data?.authed === true, 'token client is authed');
    tokOnly.close();

    // ---- snapshot then events, in order
    const a = openWs(port);
    check((await a.status).open, 'dashboard-origin client connects');
    await waitFor(() => a.msgs.filter((m) => m.type === 'trade').length >= 3, 5000);
    const snap = a.msgs[0] || {};
    check(snap.v === 1 && snap.type === 'snapshot', 'first message is the v1 snapshot', snap.type);
    const d = snap.data || {};
    check(Array.isArray(d.symbols) && d.symbols.length > 0 && typeof d.candles === 'object' && Array.isArray(d.positions) &&
      Array.isArray(d.orders) && Array.isArray(d.trades) && Array.isArray(d.equity) && typeof d.quality === 'object' &&
      typeof d.health === 'object', 'snapshot carries candles, positions, orders, trades, equity, quality, health', Object.keys(d));
    const KINDS = new Set(['candle', 'quality', 'order', 'trade', 'portfolio', 'health', 'alert']);
    const evs = a.msgs.slice(1);
    check(evs.length > 0 && evs.every((m) => m.v === 1 && KINDS.has(m.type) && Number.isInteger(m.seq) && m.seq > snap.seq && m.data),
      'events are typed, versioned and newer than the snapshot');
    const strict = evs.filter((m) => ['order', 'trade', 'alert'].includes(m.type) || (m.type === 'candle' && !m.partial));
    check(strict.every((m, i) => i === 0 || m.seq > strict[i - 1].seq), 'non-coalesced events arrive in seq order');
    check(evs.some((m) => m.type === 'candle' && m.partial) && evs.some((m) => m.type === 'candle' && !m.partial),
      'both in-progress and closed candles arrive');

    // ---- control: refused without token, accepted after auth
    a.send(JSON.stringify({ type: 'control', cmd: 'pause', id: 1 }));
    const ack1 = await waitFor(() => a.msgs.find((m) => m.type === 'control_ack' && m.id === 1), 3000);
    check(ack1 && /unauthorized/.test(ack1.error || ''), 'control without token refused', ack1);
    const b = openWs(port);
    await b.status;
    b.send(JSON.stringify({ type: 'auth', token: TOKEN, id: 7 }));
    check(!!(await waitFor(() => b.msgs.find((m) => m.type === 'auth_ok' && m.id === 7), 3000)), 'auth message -> auth_ok');
    b.send(JSON.stringify({ type: 'control', cmd: 'resume', id: 8 }));
    const ack2 = await waitFor(() => b.msgs.find((m) => m.type === 'control_ack' && m.id === 8), 3000);
    check(ack2 && !ack2.error, 'control with token acknowledged', ack2);
    b.send('not json');
    check(!!(await waitFor(() => b.msgs.find((m) => m.type === 'error'), 3000)), 'bad inbound JSON -> error reply, connection kept');
    b.close();
    const c = openWs(port);
    await c.status;
    c.send(JSON.stringify({ type: 'auth', token: 'wrong' }));
    check((await Promise.race([c.closed, sleep(4000).then(() => 'timeout')])) === 1008, 'wrong token -> auth_invalid, close 1008');

    // ---- inbound size cap
    const big = openWs(port);
    await big.status;
    big.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(6000) }));
    // The server answers 1009; when it closes while our 6 KB are still in
    // flight the kernel may reset the socket first and ws reports 1006, so
    // then accept the server's own record of the 1009 close.
    const bigCode = await Promise.race([big.closed, sleep(4000).then(() => 'timeout')]);
    await sleep(100);
    check(bigCode === 1009 || (bigCode === 1006 && /closing 1009/.test(drv.errors())),
          'inbound message past the cap -> close 1009', bigCode);

    // ---- slow client: one never reads, another must get every trade
    const before = JSON.parse((await request(port, '/health')).body);
    const stalled = openWs(port);
    await stalled.status;
    stalled._socket.pause();
    const t0 = Date.now();
    const dropped = await waitFor(async () => JSON.parse((await request(port, '/health')).body).server.clients_dropped >
      before.server.clients_dropped, 40000, 250);
    check(dropped, `stalled client dropped within the bound (${Date.now() - t0} ms)`);
    const after = JSON.parse((await request(port, '/health')).body);
    check(after.rss_kb < 200 * 1024, `server memory bounded (rss ${after.rss_kb} KiB)`, after.rss_kb);
    const trades = a.msgs.filter((m) => m.type === 'trade').map((m) => m.data.id);
    check(trades.length >= 10 && trades.every((id, i) => i === 0 || id === trades[i - 1] + 1),
      `healthy client received every trade (${trades.length}, contiguous ids)`, trades.slice(0, 5));
    check(a.readyState === WebSocket.OPEN, 'healthy client still connected');
    stalled.terminate();

    // ---- client cap (max 6)
    const many = [];
    let refused = null;
    for (let i = 0; i < 8 && !refused; i++) {
      const w = openWs(port);
      many.push(w);
      const s = await w.status;
      if (!s.open) refused = s.status;
    }
    check(refused === 503, 'client cap -> 503', refused);
    many.forEach((w) => w.terminate());

    // ---- /metrics strict grammar and content
    const met = await request(port, '/metrics');
    check(met.status === 200 && /^text\/plain; version=0\.0\.4/.test(met.headers['content-type']), '/metrics content type');
    check(met.headers['cache-control'] === 'no-store', '/metrics no-store');
    const { errors, families } = parseExposition(met.body);
    check(errors.length === 0, 'metrics exposition is valid', errors.slice(0, 5));
    // the same text through an independent parser (npm parse-prometheus-text-format,
    // a port of Prometheus' own): same families, types and sample counts
    let real = [];
    try { real = parsePrometheus(met.body); } catch (e) { real = String(e); }
    const agree = Array.isArray(real) && real.length === families.size && real.every((f) => {
      const mine = families.get(f.name);
      return mine && f.type.toLowerCase() === mine.type &&
        (mine.type === 'summary' || mine.type === 'histogram' || f.metrics.length === mine.samples.length);
    });
    check(agree, `an independent Prometheus parser reads the same ${families.size} families`,
      Array.isArray(real) ? real.map((f) => `${f.name}:${f.type}:${f.metrics.length}`).slice(0, 8) : real);
    for (const f of ['papertrader_wss_clients', 'papertrader_wss_clients_dropped_total', 'papertrader_wss_event_loop_lag_seconds', 'papertrader_candles_total', 'papertrader_quality_score',
      'papertrader_equity', 'papertrader_cash', 'papertrader_open_positions', 'papertrader_trades_total', 'papertrader_feed_reconnects_total', 'papertrader_feed_backfills_total',
      'papertrader_rest_calls_total', 'papertrader_rest_rate_limit_waits_total', 'papertrader_wss_rejected_total'])
      check(families.get(f)?.samples?.length > 0, `metric ${f} present`);
    const rej = families.get('papertrader_wss_rejected_total')?.samples || [];
    check(rej.find((s) => s.labels.reason === 'origin')?.value >= 3, 'refused origins are counted');
    check(!met.body.includes(TOKEN), '/metrics does not reveal the token');
    a.close();

    // ---- graceful shutdown: clients get 1001
    const g = openWs(port);
    await g.status;
    drv.kill('SIGTERM');
    check((await Promise.race([g.closed, sleep(4000).then(() => 'timeout')])) === 1001, 'shutdown closes clients with 1001');
  } finally {
    await stopDriver(drv);
    if (check.failed()) console.log('driver stderr (tail):\n' + drv.errors().slice(-2000));
  }
  clearTimeout(hardStop);
  process.exit(check.done());
}

main().catch((e) => { console.log('not ok - exception: ' + (e.stack || e)); process.exit(1); });
