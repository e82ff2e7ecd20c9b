// Dashboard control end to end (issue 4: read-only by default, control only
// with the access token). `papertrader demo` over a real CSV with a token
// (environment, never argv) on a free port; a node `ws` client checks:
// control without the token is refused; with it, pause blocks new entries
// (paused in the portfolio event, /health and a fresh snapshot; no buy fill
// while paused), resume, close_position and flatten exit at a later candle
// with reasons "manual_close" / "flatten" in trades.csv, and every accepted
// control is recorded in DIR/controls.csv with its candle boundary.
import fs from 'node:fs';
import path from 'node:path';
import { DATA, dashboard, deadline, finish, get, ok, parity, start, tmpdir } from './run_lib.mjs';

deadline(60000);
const TOKEN = 'ctl-token-' + process.pid + '-7f3a9c';
const SYM = 'BTCUSDT';
const dir = tmpdir('ptctl-');
const src = path.join(dir, 'src');
fs.mkdirSync(src);
const lines = fs.readFileSync(path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv'), 'utf8').split('\n');
const file = path.join(src, `${SYM}.csv`);
fs.writeFileSync(file, lines.slice(0, 1601).join('\n') + '\n');
const out = path.join(dir, 'out');
// ema_cross 3/9 trades every few dozen candles; 2000x: one candle per 30 ms
const d = start(['demo', '--port', '0', '--out', out, '--speed', '2000', '--quiet', '--strategy', 'ema_cross',
  '--param', 'fast=3', '--param', 'slow=9', '--min-quality', '0', file], { PAPERTRADER_SERVER_TOKEN: TOKEN });
const port = Number((await d.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);

// A client with a cursor over its messages: next(pred) waits for the next match.
function client() {
  const c = dashboard(port);
  c.at = 0;
  c.next = (pred, ms = 15000) => new Promise((res, rej) => {
    const t0 = Date.now();
    const poll = () => {
      while (c.at < c.msgs.length) { const m = c.msgs[c.at++]; if (pred(m)) return res(m); }
      if (Date.now() - t0 > ms) return rej(new Error('timed out waiting for a message'));
      setTimeout(poll, 5);
    };
    poll();
  });
  c.send = (o) => c.ws.send(JSON.stringify(o));
  let id = 0;
  c.control = async (cmd, extra = {}) => {
    const my = `c${++id}`, from = c.msgs.length;
    c.send({ type: 'control', cmd, id: my, ...extra });
    const ack = await c.next((m) => m.type === 'control_ack' && m.id === my);
    c.at = from; // the control's alert is published before the ack: let next() see it
    return ack;
  };
  return c;
}
const positionOpen = (m) => m.type === 'portfolio' && (m.data.positions || []).some((p) => p.symbol === SYM && p.qty > 0);
const tradeWith = (reason) => (m) => m.type === 'trade' && m.data.reason === reason;
const controlAlert = (cmd) => (m) => m.type === 'alert' && m.data.control && m.data.control.cmd === cmd;

try {
  // ---- without the token: read-only
  const ro = client();
  await ro.opened;
  const snap = await ro.next((m) => m.type === 'snapshot');
  ok(snap.data.control_enabled === true && snap.data.authed === false, 'snapshot: control enabled, not authed');
  const refused = await ro.control('pause');
  ok(/unauthorized/.test(refused.error || ''), 'control without the token is refused', JSON.stringify(refused));

  // ---- with the token (the auth message, as the dashboard sends it)
  const c = client();
  await c.opened;
  await c.next((m) => m.type === 'snapshot');
  c.send({ type: 'auth', token: TOKEN, id: 'a' });
  ok((await c.next((m) => m.id === 'a')).type === 'auth_ok', 'auth with the token');
  const bad = await c.control('explode');
  ok(/unknown cmd/.test(bad.error || ''), 'unknown cmd is answered with an error', JSON.stringify(bad));
  const nosym = await c.control('close_position');
  ok(/symbol/.test(nosym.error || ''), 'close_position without a symbol is refused', JSON.stringify(nosym));
  const unknown = await c.control('close_position', { symbol: 'NOPE' });
  ok(/unknown symbol/.test(unknown.error || ''), 'close_position of an unknown symbol is refused', JSON.stringify(unknown));

  // ---- pause: new entries blocked while exits go on
  await c.next(positionOpen, 20000); // the strategy is trading
  const pa = await c.control('pause');
  ok(!pa.error, 'pause acknowledged', JSON.stringify(pa));
  const pAlert = await c.next(controlAlert('pause'));
  const pauseB = pAlert.data.control.boundary;
  ok(typeof pauseB === 'number', `pause alert carries its boundary (${pauseB})`);
  const pausedRow = await c.next((m) => m.type === 'portfolio' && m.data.paused === true);
  ok(pausedRow.data.t > pauseB, 'portfolio event shows paused from a later candle');
  const h = JSON.parse((await get(port, '/health')).body || '{}');
  ok(h.entries_paused === true, '/health: entries_paused', JSON.stringify(h).slice(0, 300));
  const s2 = client();
  await s2.opened;
  const snap2 = await s2.next((m) => m.type === 'snapshot');
  ok(snap2.data.paused === true, 'a fresh snapshot shows paused');
  s2.ws.close();
  // stay paused for a while: count candles, collect trades
  let candles = 0, buysWhilePaused = 0, lastT = 0;
  await c.next((m) => {
    if (m.type === 'candle' && m.data.closed) { candles++; lastT = m.data.t; }
    if (m.type === 'trade' && m.data.side === 'buy') buysWhilePaused++;
    return candles >= 60;
  }, 20000);
  ok(buysWhilePaused === 0, `no buy fill over ${candles} paused candles (got ${buysWhilePaused})`);

  // ---- resume
  const re = await c.control('resume');
  ok(!re.error, 'resume acknowledged', JSON.stringify(re));
  const rAlert = await c.next(controlAlert('resume'));
  const resumeB = rAlert.data.control.boundary;
  ok(resumeB >= lastT, 'resume applies at a boundary after the paused candles');
  await c.next((m) => m.type === 'portfolio' && m.data.paused === false);
  ok(true, 'portfolio event shows entries resumed');

  // ---- close_position at the next open (retry when the strategy got out first)
  let closeTrade = null, closeB = null;
  for (let i = 0; i < 5 && !closeTrade; i++) {
    await c.next(positionOpen, 20000);
    const a = await c.control('close_position', { symbol: SYM });
    if (a.error) continue; // flat again between the event and the request
    closeB = (await c.next(controlAlert('close_position'))).data.control.boundary;
    closeTrade = await c.next((m) => m.type === 'trade' && m.data.side === 'sell');
  }
  ok(closeTrade && closeTrade.data.reason === 'manual_close', 'close_position: a sell with reason manual_close',
    JSON.stringify(closeTrade));
  ok(closeTrade && closeTrade.data.t > closeB, 'manual close fills at a candle after its boundary');

  // ---- flatten
  let flatTrade = null, flatB = null;
  for (let i = 0; i < 5 && !flatTrade; i++) {
    await c.next(positionOpen, 20000);
    const a = await c.control('flatten');
    ok(!a.error, 'flatten acknowledged', JSON.stringify(a));
    flatB = (await c.next(controlAlert('flatten'))).data.control.boundary;
    const t = await c.next((m) => m.type === 'trade' && m.data.side === 'sell');
    if (t.data.reason === 'flatten') flatTrade = t;
  }
  ok(flatTrade !== null && flatTrade.data.t > flatB, 'flatten: a sell with reason flatten after its boundary');
  const flatRow = await c.next((m) => m.type === 'portfolio' && m.data.t >= flatTrade.data.t);
  ok(!(flatRow.data.positions || []).some((p) => p.qty !== 0), 'after flatten: no open position');

  c.ws.close();
  ro.ws.close();
  const code = await d.stop('SIGTERM', 10000);
  ok(code === 0, `session stops cleanly (exit ${code})`, d.err.slice(-400));

  // ---- the files
  const trades = fs.readFileSync(path.join(out, 'trades.csv'), 'utf8').trim().split('\n');
  const hdr = trades[0].split(',');
  const rows = trades.slice(1).map((l) => { const f = l.split(','); return Object.fromEntries(hdr.map((k, i) => [k, f[i]])); });
  ok(rows.some((r) => r.reason === 'manual_close'), 'trades.csv has a manual_close fill');
  ok(rows.some((r) => r.reason === 'flatten'), 'trades.csv has a flatten fill');
  const pausedBuys = rows.filter((r) => r.side === 'buy' && Number(r.ts) > pauseB && Number(r.ts) <= resumeB);
  ok(pausedBuys.length === 0, `trades.csv: no buy between the pause and resume boundaries (${pausedBuys.length})`);
  const ctl = fs.readFileSync(path.join(out, 'controls.csv'), 'utf8').trim().split('\n');
  ok(ctl[0] === 'boundary_ts,boundary_time,action,symbol', 'controls.csv header', ctl[0]);
  const acts = ctl.slice(1).map((l) => l.split(','));
  ok(acts.length >= 4 && acts[0][2] === 'pause' && Number(acts[0][0]) === pauseB && acts[1][2] === 'resume' &&
    Number(acts[1][0]) === resumeB, 'controls.csv records pause and resume at their boundaries', ctl.join(' | '));
  ok(acts.some((a) => a[2] === 'close_position' && a[3] === SYM && Number(a[0]) === closeB) &&
    acts.some((a) => a[2] === 'flatten' && Number(a[0]) === flatB), 'controls.csv records close_position and flatten');
  ok(!acts.some((a) => a[2] === 'explode'), 'refused controls are not recorded');
  // parity with manual controls: backtest on the recording + controls.csv
  const engine = ['--strategy', 'ema_cross', '--param', 'fast=3', '--param', 'slow=9', '--min-quality', '0'];
  const why = parity(out, SYM, [...engine, '--controls', path.join(out, 'controls.csv')]);
  ok(why === null, 'backtest --controls on the recording gives byte-identical trades.csv', why);
  const noCtl = parity(path.join(dir, 'out2'), SYM, engine, out);
  ok(noCtl !== null, 'without --controls the replay differs (the controls mattered)', noCtl);
} catch (e) {
  ok(false, 'control scenario', String(e && e.stack || e));
  await d.stop('SIGKILL', 2000);
}
finish();
