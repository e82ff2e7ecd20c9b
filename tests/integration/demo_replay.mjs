// papertrader demo: simulator + session in one process. (1) the default demo
// (the shipped sample) starts, prints the dashboard URL, serves /api/state
// and stops cleanly on --duration; (2) a demo over a short real CSV (the
// replay path of `backtest --serve`) stops by itself at the end of the data
// with every row recorded exactly once, and the backtest of the recording
// has the same trades.csv bytes as the session.
import fs from 'node:fs';
import path from 'node:path';
import { DATA, exactlyOnce, finish, get, loadRows, ok, parity, start, tmpdir, deadline } from './run_lib.mjs';

deadline(60000);
{
  const dir = tmpdir('ptdemo-');
  const d = start(['demo', '--port', '0', '--out', dir, '--duration', '3', '--quiet']);
  const port = Number((await d.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
  const st = await get(port, '/api/state');
  let j = {};
  try { j = JSON.parse(st.body); } catch { /* below */ }
  ok(st.status === 200 && Array.isArray(j.symbols) && j.symbols[0] === 'UNITTESTBTC', 'demo serves /api/state', st.body.slice(0, 200));
  const code = await d.exited;
  ok(code === 0, `demo --duration exits 0 (got ${code})`, d.err.slice(-400));
  ok(fs.existsSync(path.join(dir, 'report.json')), 'demo writes report.json');
}
{
  // 400 rows of a real file with natural gaps, served at 4000x
  const dir = tmpdir('ptserve-');
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  const lines = fs.readFileSync(path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv'), 'utf8').split('\n');
  const file = path.join(src, 'UNITTESTBTC.csv');
  fs.writeFileSync(file, lines.slice(0, 401).join('\n') + '\n');
  const out = path.join(dir, 'out');
  const engine = ['--strategy', 'ema_cross', '--param', 'fast=3', '--param', 'slow=9'];
  const d = start(['demo', '--port', '0', '--out', out, '--speed', '4000', '--quiet', ...engine, file]);
  const code = await d.exited;
  ok(code === 0, `demo FILE stops by itself at the end of the data (exit ${code})`, d.err.slice(-400));
  ok(/end of data/.test(d.lines.join('\n')), 'stop reason: end of data', d.lines.join('\n'));
  const rec = loadRows(path.join(out, 'candles', 'UNITTESTBTC.csv'));
  const all = loadRows(file);
  const diff = exactlyOnce(rec, all);
  ok(diff === null && rec[rec.length - 1].t === all[all.length - 1].t, `every candle up to the last exactly once (${rec.length})`, diff || '');
  const trades = fs.readFileSync(path.join(out, 'trades.csv'), 'utf8');
  ok(trades.split('\n').length > 3, `the session traded (${trades.split('\n').length - 2} fills)`);
  const p = parity(out, 'UNITTESTBTC', engine);
  ok(p === null, 'backtest on the recording gives byte-identical trades.csv', p || '');
}
finish();
