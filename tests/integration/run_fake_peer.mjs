// papertrader run against an independent exchange written with a different
// stack (node `ws` + http: tests/peers/fake_binance_ws.mjs): 1s klines with
// abrupt drops, bars that only REST has, and re-delivered duplicates after
// each reconnect. Every bar is recorded exactly once, reconnects and
// backfills are counted, SIGTERM gives exit 0 with report.json, and the
// backtest of the recording has the same trades.csv bytes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SRC, deadline, exactlyOnce, finish, loadRows, ok, parity, sleep, start, tmpdir } from './run_lib.mjs';

deadline(45000);
const N = 60;
const peer = spawn(process.execPath, [path.join(SRC, 'tests/peers/fake_binance_ws.mjs'), String(N), '60', '10,25,40', '3'],
  { stdio: ['pipe', 'pipe', 'inherit'] });
const info = await new Promise((res) => {
  let b = '';
  peer.stdout.on('data', (d) => { b += d; const i = b.indexOf('\n'); if (i >= 0) res(JSON.parse(b.slice(0, i))); });
});
const dir = tmpdir('ptpeer-');
const engine = ['--strategy', 'donchian', '--param', 'entry=3', '--param', 'exit=2', '--min-quality', '0', '--fee-bps', '5'];
const run = start(['run', '--exchange', 'binance', '--ws-url', `ws://127.0.0.1:${info.ws}`,
  '--rest-url', `http://127.0.0.1:${info.rest}`, '--symbols', 'BTCUSDT', '--interval', '1s', '--no-dashboard',
  '--out', dir, '--heartbeat', '0', '--fsync', 'none', '--quiet', ...engine],
{ PAPERTRADER_FEED_BACKOFF_BASE_MS: '50', PAPERTRADER_FEED_BACKOFF_CAP_MS: '300' });
await run.wait(/^output: /);
const file = path.join(dir, 'candles', 'BTCUSDT.csv');
const t0 = Date.now();
while (Date.now() - t0 < 25000) { /* until the last bar is in (bounded) */
  await sleep(200);
  const rows = fs.existsSync(file) ? loadRows(file) : [];
  if (rows.length && rows[rows.length - 1].t === info.t0 + (N - 1) * 1000) break;
}
const code = await run.stop('SIGTERM');
peer.stdin.end();
ok(code === 0, `SIGTERM -> exit 0 (got ${code})`, run.err.slice(-400));
const rec = loadRows(file);
const src = [];
for (let i = 0; i < N; i++) { const p = 100 + i; src.push({ t: info.t0 + i * 1000, o: p, h: p, l: p, c: p, v: 1.5 }); }
const d = exactlyOnce(rec, src);
ok(d === null && rec.length === N, `all ${N} bars recorded exactly once (${rec.length})`, d || '');
let rep = null;
try { rep = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')); } catch { /* below */ }
ok(rep !== null, 'report.json written');
if (rep) {
  ok(rep.feed.reconnects >= 3, `3 drops -> ${rep.feed.reconnects} reconnects`);
  ok(rep.feed.backfills >= 3 && rep.feed.backfilled_candles >= 9, `backfills ${rep.feed.backfills}, ${rep.feed.backfilled_candles} candles from REST`);
  ok(rep.feed.duplicates > 0, `re-delivered bars dropped as duplicates (${rep.feed.duplicates})`);
}
const trades = fs.readFileSync(path.join(dir, 'trades.csv'), 'utf8');
ok(trades.endsWith('\n') && trades.split('\n').length > 2, 'trades.csv has fills and ends with a newline');
const p = parity(dir, 'BTCUSDT', engine);
ok(p === null, 'backtest on the recording gives byte-identical trades.csv', p || '');
finish();
