// kill -9 of a live session at random points, `run --resume DIR` each time
// (issue 5 and 6; docs/durability.md "Live sessions"). A separate
// `papertrader exchange-sim` replays a real 1m candle file (natural gaps) at
// --speed 300, its clock years behind ours (the resumed feed's backfill
// follows the exchange's clock), and serves a session with a strategy that
// trades on most candles and a loss cooldown (risk state that only a
// faithful replay restores). Checks after 3-4 kills and a final SIGTERM:
// every resume replayed the recording and verified the recorded fills, exit
// 0 at the end; trades.csv/portfolio.csv have no partial line; the recording
// has every source candle exactly once and in order (no hole left by a
// crash, no repeat), candles/.order matches it; and
// `backtest` on the recording gives a byte-identical trades.csv: the parity
// guarantee holds across crashes. Then two symbols (the cross-symbol order
// comes from candles/.order) and operator controls from the dashboard
// (pause, flatten, resume: DIR/controls.csv, replayed at their boundaries):
// two kills, and a last resume of the finished session must verify every
// recorded fill. Also: a second process on the folder
// (exit 6), resume without session.json (exit 2), engine options with
// --resume (exit 2), and a corrupt middle line of trades.csv (exit 5, file:line).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, DATA, dashboard, deadline, exactlyOnce, finish, loadRows, ok, parity, sleep, start, tmpdir } from './run_lib.mjs';

deadline(85000);
const dir = tmpdir('ptresume-');
const env = { PAPERTRADER_FEED_BACKOFF_BASE_MS: '50', PAPERTRADER_FEED_BACKOFF_CAP_MS: '400' };
const rnd = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo));

const src = path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv');
const srcRows = loadRows(src);
// the same file under two names: equal signals at equal times, competing for cash (phase 2)
const xs = start(['exchange-sim', '--port', '0', '--speed', '300', '--symbols', 'XRPETH,BTCUSDT', src, src]);
const xport = Number((await xs.wait(/^listening port=(\d+)/))[1]);
const engine = ['--strategy', 'sma_cross', '--param', 'fast=1', '--param', 'slow=2', '--fee-bps', '7',
  '--sizing', 'percent:50', '--min-quality', '0', '--cooldown-losses', '2:3'];
const feed = ['--ws-url', `ws://127.0.0.1:${xport}`, '--rest-url', `http://127.0.0.1:${xport}`,
  '--symbols', 'XRPETH', '--interval', '1m'];
const quiet = ['--no-dashboard', '--quiet', '--heartbeat', '0'];
const rows = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').length - 2 : 0);
const recFile = path.join(dir, 'candles', 'XRPETH.csv');

// first start through --state-dir (what the systemd unit runs): no session yet -> a new one
let run = start(['run', '--state-dir', dir, ...feed, ...engine, ...quiet], env);
ok((await run.wait(/^output: (.*)$/))[1] === dir, 'first start: --state-dir starts a session in DIR');
ok(fs.existsSync(path.join(dir, 'session.json')), 'session.json written at start (before any candle)');

const kills = rnd(3, 5);
const resumes = [];
for (let k = 0; k < kills; k++) {
  await sleep(rnd(2500, 4500));
  if (k === 0) { // D10: one process per folder
    const second = spawnSync(BIN, ['run', '--resume', dir, ...quiet], { encoding: 'utf8', timeout: 10000 });
    ok(second.status === 6 && /locked by PID \d+/.test(second.stderr), `second process -> exit 6 (got ${second.status})`,
      second.stderr.slice(-300));
  }
  const before = rows(recFile);
  run.p.kill('SIGKILL');
  await run.exited;
  // resume: plain --resume, or --state-dir with the options again (a service restart)
  const args = k % 2 === 0 ? ['run', '--resume', dir, ...quiet] : ['run', '--state-dir', dir, ...feed, ...engine, ...quiet];
  run = start(args, env);
  const m = await run.wait(/^resumed: (\d+) candles replayed, (\d+) fills verified$/, 15000).catch((e) => e);
  ok(Array.isArray(m), `resume ${k + 1} (${args[1]}) replays the recording`, m instanceof Error ? m.message : '');
  if (Array.isArray(m)) resumes.push({ before, replayed: Number(m[1]), fills: Number(m[2]) });
}
await sleep(rnd(2500, 4000));
const code = await run.stop('SIGTERM');
ok(code === 0, `final SIGTERM -> exit 0 (got ${code})`, run.err.slice(-600));

// every resume replayed what the killed process had recorded (at most one
// row less: recorded but never processed, cut and fetched again)
ok(resumes.length === kills && resumes.every((r) => r.replayed >= r.before - 2 && r.replayed <= r.before + 2 && r.replayed > 0),
  `each resume replayed the recorded candles (${JSON.stringify(resumes)})`);
ok(resumes.some((r) => r.fills > 0), 'at least one resume verified recorded fills');

// no partial line anywhere in the journals
for (const f of ['trades.csv', 'portfolio.csv']) {
  const text = fs.readFileSync(path.join(dir, f), 'utf8');
  const lines = text.split('\n');
  const n = lines[0].split(',').length;
  ok(text.endsWith('\n') && lines.slice(0, -1).every((l) => l.split(',').length === n),
    `${f}: complete lines only (${lines.length - 2} rows)`);
}
const tradesN = rows(path.join(dir, 'trades.csv'));
ok(tradesN >= 2, `the session traded (${tradesN} fills)`);

// the recording: each source candle once, in order, with its values
const rec = loadRows(recFile);
const diff = exactlyOnce(rec, srcRows);
ok(diff === null && rec.length > 20, `recorded candles: each exactly once, in order (${rec.length})`, diff || '');
const order = fs.readFileSync(path.join(dir, 'candles', '.order'), 'utf8').split('\n').slice(0, -1);
ok(order.length === rec.length && order.every((s) => s === 'XRPETH'), `candles/.order has one line per candle (${order.length})`);
let rep = null;
try { rep = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')); } catch { /* below */ }
ok(rep && rep.engine && rep.engine.candles_in === rec.length, `engine saw exactly the recorded candles (${rep && rep.engine.candles_in})`);

// the parity guarantee across crashes
const p = parity(dir, 'XRPETH', engine);
ok(p === null, 'backtest on the recording gives byte-identical trades.csv', p || '');

// two symbols sharing the cash: the replay must follow the recorded order
const dir2 = tmpdir('ptresume2-');
const feed2 = feed.map((a) => (a === 'XRPETH' ? 'XRPETH,BTCUSDT' : a));
const engine2 = engine.map((a) => (a === 'percent:50' ? 'percent:60' : a));
const TOKEN = `resume-token-${process.pid}-c41`;
run = start(['run', '--out', dir2, ...feed2, ...engine2, '--port', '0', '--quiet', '--heartbeat', '0'],
  { ...env, PAPERTRADER_SERVER_TOKEN: TOKEN });
const dport = Number((await run.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
const dash = dashboard(dport);
await dash.opened;
const acked = (id) => new Promise((res) => {
  const t0 = Date.now();
  const poll = () => (dash.msgs.some((m) => m.type === 'control_ack' && m.id === id) || Date.now() - t0 > 5000 ? res() : setTimeout(poll, 10));
  poll();
});
dash.ws.send(JSON.stringify({ type: 'auth', token: TOKEN, id: 'a' }));
for (const [cmd, pause] of [['pause', 700], ['flatten', 700], ['resume', 0]]) {
  await sleep(pause || 300);
  dash.ws.send(JSON.stringify({ type: 'control', cmd, id: cmd }));
  await acked(cmd);
}
dash.ws.terminate();
const ctlRows = () => (fs.existsSync(path.join(dir2, 'controls.csv')) ? fs.readFileSync(path.join(dir2, 'controls.csv'), 'utf8').split('\n').length - 2 : 0);
ok(ctlRows() === 3, `two symbols: three operator controls recorded (${ctlRows()})`, JSON.stringify(dash.msgs.filter((m) => m.type === 'control_ack')));
for (let k = 0; k < 2; k++) {
  await sleep(rnd(2500, 4000));
  run.p.kill('SIGKILL');
  await run.exited;
  run = start(['run', '--resume', dir2, ...quiet], env);
  const m = await run.wait(/^resumed: (\d+) candles replayed/, 15000).catch((e) => e);
  ok(Array.isArray(m), `two symbols: resume ${k + 1} replays the recording`, m instanceof Error ? m.message : '');
}
await sleep(rnd(2500, 4000));
ok((await run.stop('SIGTERM')) === 0, 'two symbols: final SIGTERM -> exit 0', run.err.slice(-600));
const ord2 = fs.readFileSync(path.join(dir2, 'candles', '.order'), 'utf8').split('\n').slice(0, -1);
let total = 0;
for (const sym of ['XRPETH', 'BTCUSDT']) {
  const r2 = loadRows(path.join(dir2, 'candles', `${sym}.csv`));
  total += r2.length;
  const d2 = exactlyOnce(r2, srcRows);
  ok(r2.length > 10 && d2 === null && ord2.filter((s) => s === sym).length === r2.length,
    `two symbols: ${sym} recorded exactly once, as often as .order names it (${r2.length})`, d2 || '');
}
// multi-symbol parity: backtest in the recorded order (--order) with the controls
const bt2 = path.join(dir2, 'bt');
const br = spawnSync(BIN, ['backtest', '--quiet', '--out', bt2, ...engine2, '--order', path.join(dir2, 'candles', '.order'),
  '--controls', path.join(dir2, 'controls.csv'), path.join(dir2, 'candles', 'XRPETH.csv'), path.join(dir2, 'candles', 'BTCUSDT.csv')],
{ encoding: 'utf8', timeout: 30000 });
ok(br.status === 0 && fs.readFileSync(path.join(bt2, 'trades.csv')).equals(fs.readFileSync(path.join(dir2, 'trades.csv'))),
  'two symbols: backtest --order --controls on the recording gives byte-identical trades.csv', (br.stderr || '').slice(-400));
const trades2 = fs.readFileSync(path.join(dir2, 'trades.csv'));
const fills2 = trades2.toString().split('\n').length - 2;
const last = spawnSync(BIN, ['run', '--resume', dir2, '--duration', '0.3', ...quiet], { encoding: 'utf8', timeout: 15000, env: { ...process.env, ...env } });
const lm = last.stdout.match(/^resumed: (\d+) candles replayed, (\d+) fills verified$/m);
ok(last.status === 0 && lm && Number(lm[1]) === total && Number(lm[2]) === fills2 && fills2 >= 2,
  `two symbols: resuming the finished session verifies all ${fills2} fills over ${total} candles (exit ${last.status})`,
  (last.stdout + last.stderr).slice(-500));
ok(fs.readFileSync(path.join(dir2, 'trades.csv')).subarray(0, trades2.length).equals(trades2), 'two symbols: the journal kept its bytes');
await xs.stop('SIGTERM');

// refusals
const empty = tmpdir('ptresume-empty-');
let r = spawnSync(BIN, ['run', '--resume', empty, ...quiet], { encoding: 'utf8', timeout: 10000 });
ok(r.status === 2 && /session\.json/.test(r.stderr), `resume without session.json -> exit 2 (got ${r.status})`, r.stderr.slice(-300));
r = spawnSync(BIN, ['run', '--resume', dir, '--cash', '5', ...quiet], { encoding: 'utf8', timeout: 10000 });
ok(r.status === 2 && /session\.json/.test(r.stderr), `--resume with an engine option -> exit 2 (got ${r.status})`, r.stderr.slice(-300));
const bad = tmpdir('ptresume-bad-');
for (const f of ['session.json', 'trades.csv', 'portfolio.csv']) fs.copyFileSync(path.join(dir, f), path.join(bad, f));
fs.cpSync(path.join(dir, 'candles'), path.join(bad, 'candles'), { recursive: true });
const tl = fs.readFileSync(path.join(bad, 'trades.csv'), 'utf8').split('\n');
const mid = Math.max(1, Math.floor((tl.length - 2) / 2)); // a data row in the middle
tl[mid] = tl[mid].replace(/,[^,]*,/, ',garbage,');
fs.writeFileSync(path.join(bad, 'trades.csv'), tl.join('\n'));
const sizeBefore = fs.statSync(path.join(bad, 'trades.csv')).size;
r = spawnSync(BIN, ['run', '--resume', bad, '--no-dashboard', '--heartbeat', '0'], { encoding: 'utf8', timeout: 15000 });
ok(r.status === 5 && new RegExp(`trades\\.csv:${mid + 1}\\b`).test(r.stderr), `corrupt trades.csv line ${mid + 1} -> exit 5 naming file:line (got ${r.status})`,
  r.stderr.slice(-500));
ok(fs.statSync(path.join(bad, 'trades.csv')).size === sizeBefore, 'the corrupt journal is left as found');
finish();
