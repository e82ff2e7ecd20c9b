// The per-session control cap at its edge (issue 11 item 2: every recorded
// control must replay; session/session.h BACKTEST_CONTROLS_MAX). The
// replay reads at most 10000 rows of controls.csv, so the live session must
// refuse the 10001st. A `run` against `exchange-sim` records 650+ candles;
// its controls.csv is then given 9999 "resume" rows (16 per recorded candle,
// the per-candle cap; "resume" while not paused changes no fill, so the
// resume's fill check still holds). `run --resume` with the dashboard: the
// 10000th control is accepted, the 10001st refused with a control_ack error
// naming the cap; backtest --order --controls replays all 10000 and gives
// the live trades.csv byte for byte.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, DATA, dashboard, deadline, finish, ok, sleep, start, tmpdir } from './run_lib.mjs';

const MAX = 10000, PER_CANDLE = 16;
deadline(120000);
const base = tmpdir('ptctltotal-'), dir = path.join(base, 'out');
const env = { PAPERTRADER_FEED_BACKOFF_BASE_MS: '50', PAPERTRADER_FEED_BACKOFF_CAP_MS: '400' };
// the real prices re-stamped one minute apart: no gap, no backfill, so the
// simulator's pace (not REST's rate limit) sets how fast candles come
const src = path.join(base, 'gapless.csv');
{
  const rows = fs.readFileSync(path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv'), 'utf8').trim().split('\n');
  const t0 = Number(rows[1].split(',')[0]);
  fs.writeFileSync(src, rows[0] + '\n' + rows.slice(1, 6001).map((l, i) => `${t0 + 60000 * i}${l.slice(l.indexOf(','))}`).join('\n') + '\n');
}
const xs = start(['exchange-sim', '--port', '0', '--speed', '6000', '--symbols', 'BTCUSDT', src]);
const xport = Number((await xs.wait(/^listening port=(\d+)/))[1]);
const engine = ['--strategy', 'sma_cross', '--param', 'fast=1', '--param', 'slow=2', '--sizing', 'percent:50',
  '--min-quality', '0'];
const feed = ['--ws-url', `ws://127.0.0.1:${xport}`, '--rest-url', `http://127.0.0.1:${xport}`,
  '--symbols', 'BTCUSDT', '--interval', '1m'];
const quiet = ['--quiet', '--heartbeat', '0', '--fsync', 'none']; // speed, not durability, here
const lines = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').length - 2 : 0);
const until = async (cond, ms = 60000) => { const t0 = Date.now(); while (!cond() && Date.now() - t0 < ms) await sleep(50); return cond(); };
const rec = path.join(dir, 'candles', 'BTCUSDT.csv'), ctlPath = path.join(dir, 'controls.csv');
const need = Math.ceil((MAX - 1) / PER_CANDLE) + 20;

let run = start(['run', '--out', dir, ...feed, ...engine, '--no-dashboard', ...quiet], env);
ok(await until(() => lines(rec) >= need), `the live session recorded ${need}+ candles (${lines(rec)})`);
ok((await run.stop('SIGTERM')) === 0, 'first run stops cleanly', run.err.slice(-400));

// 9999 recorded controls at the recorded boundaries, 16 per candle
const ts = fs.readFileSync(rec, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
let body = 'boundary_ts,boundary_time,action,symbol\n';
for (let i = 0; i < MAX - 1; i++) {
  const b = ts[Math.floor(i / PER_CANDLE)];
  body += `${b},${new Date(b).toISOString()},resume,\n`;
}
fs.writeFileSync(ctlPath, body);

const TOKEN = `total-token-${process.pid}-5e1`;
run = start(['run', '--resume', dir, '--port', '0', ...quiet], { ...env, PAPERTRADER_SERVER_TOKEN: TOKEN });
const m = await run.wait(/^resumed: (\d+) candles replayed, (\d+) fills verified$/, 30000).catch((e) => e);
ok(Array.isArray(m), 'run --resume replays 9999 recorded controls', m instanceof Error ? m.message : '');
const dport = Number((await run.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//, 15000).catch(() => [0, 0]))[1]);
const dash = dashboard(dport);
await dash.opened.catch(() => {});
const reply = async (id) => { await until(() => dash.msgs.some((x) => x.id === id), 15000); return dash.msgs.find((x) => x.id === id) || {}; };
dash.ws.send(JSON.stringify({ type: 'auth', token: TOKEN, id: 'a' }));
ok((await reply('a')).type === 'auth_ok', 'auth with the token');
// one per candle: the per-candle cap is not what is tested here
const sendAfterCandle = async (id) => {
  const seen = dash.msgs.length;
  await until(() => dash.msgs.slice(seen).some((x) => x.type === 'candle' && x.data.closed), 15000);
  dash.ws.send(JSON.stringify({ type: 'control', cmd: 'resume', id }));
  return reply(id);
};
const last = await sendAfterCandle('c10000');
ok(last.type === 'control_ack' && !last.error, `control ${MAX} (the cap) is accepted`, JSON.stringify(last));
const over = await sendAfterCandle('c10001');
ok(/controls\.csv is full \(at most 10000 controls per session\)/.test(over.error || ''),
  `control ${MAX + 1} is refused with the cap`, JSON.stringify(over));
ok(lines(ctlPath) === MAX, `controls.csv holds exactly ${MAX} controls (${lines(ctlPath)})`);
dash.ws.terminate();
ok((await run.stop('SIGTERM')) === 0, 'resumed session stops cleanly', run.err.slice(-400));
await xs.stop('SIGTERM');

const bt = path.join(dir, 'bt');
const br = spawnSync(BIN, ['backtest', '--quiet', '--out', bt, ...engine, '--order', path.join(dir, 'candles', '.order'),
  '--controls', ctlPath, rec], { encoding: 'utf8', timeout: 60000 });
ok(br.status === 0, `backtest --order --controls replays all ${MAX} (exit ${br.status})`, (br.stderr || '').slice(-400));
const live = fs.readFileSync(path.join(dir, 'trades.csv'));
const replay = br.status === 0 ? fs.readFileSync(path.join(bt, 'trades.csv')) : Buffer.alloc(0);
ok(live.length > 100 && replay.equals(live), 'replay trades.csv is byte-identical to the live one',
  `live ${live.length} bytes, replay ${replay.length}`);
finish();
