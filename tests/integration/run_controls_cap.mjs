// The per-candle control cap at its edge (issue 11 item 2; sim/sim.h
// SIM_CONTROLS_PER_CANDLE, docs/protocol.md). A live `run` against
// `exchange-sim` gets bursts of 17 controls from an authenticated dashboard
// client, each burst within one candle: 16 are accepted and recorded, the
// 17th gets a control_ack error naming the cap and is not recorded. Then the
// session is killed and `run --resume` must replay every recorded control
// (it used to exit 5 on the 17th), and `backtest --order --controls` on the
// recording must give the live trades.csv byte for byte.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, DATA, dashboard, deadline, finish, ok, sleep, start, tmpdir } from './run_lib.mjs';

const CAP = 16;
deadline(90000);
const dir = tmpdir('ptctlcap-');
const env = { PAPERTRADER_FEED_BACKOFF_BASE_MS: '50', PAPERTRADER_FEED_BACKOFF_CAP_MS: '400' };
const src = path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv');
// --speed 60: one 1m candle a second, time enough for a burst within one candle
const xs = start(['exchange-sim', '--port', '0', '--speed', '60', '--symbols', 'BTCUSDT', src]);
const xport = Number((await xs.wait(/^listening port=(\d+)/))[1]);
const engine = ['--strategy', 'sma_cross', '--param', 'fast=1', '--param', 'slow=2', '--sizing', 'percent:50',
  '--min-quality', '0'];
const feed = ['--ws-url', `ws://127.0.0.1:${xport}`, '--rest-url', `http://127.0.0.1:${xport}`,
  '--symbols', 'BTCUSDT', '--interval', '1m'];
const quiet = ['--quiet', '--heartbeat', '0'];
const TOKEN = `cap-token-${process.pid}-9d2`;
let run = start(['run', '--out', dir, ...feed, ...engine, '--port', '0', ...quiet], { ...env, PAPERTRADER_SERVER_TOKEN: TOKEN });
const dport = Number((await run.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
const dash = dashboard(dport);
await dash.opened;
const waitFor = (pred, ms = 15000) => new Promise((res, rej) => {
  const t0 = Date.now();
  const poll = () => {
    const m = dash.msgs.find(pred);
    if (m) return res(m);
    if (Date.now() - t0 > ms) return rej(new Error('timed out waiting for a message'));
    setTimeout(poll, 5);
  };
  poll();
});
dash.ws.send(JSON.stringify({ type: 'auth', token: TOKEN, id: 'a' }));
ok((await waitFor((m) => m.id === 'a')).type === 'auth_ok', 'auth with the token');

const ctlPath = path.join(dir, 'controls.csv');
const ctlRows = () => (fs.existsSync(ctlPath) ? fs.readFileSync(ctlPath, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')) : []);
// One burst of CAP + 1 controls sent back to back; returns the acks in order.
let burstNo = 0;
async function burst() {
  const b = ++burstNo, ids = [];
  await waitFor((m) => m.type === 'candle' && m.data.closed && m.data.t > (burst.lastT || 0), 20000)
    .then((m) => { burst.lastT = m.data.t; });
  for (let i = 0; i <= CAP; i++) {
    ids.push(`b${b}-${i}`);
    dash.ws.send(JSON.stringify({ type: 'control', cmd: i % 2 ? 'resume' : 'pause', id: ids[i] }));
  }
  const acks = [];
  for (const id of ids) acks.push(await waitFor((m) => m.type === 'control_ack' && m.id === id));
  return acks;
}
// a burst that straddled a candle boundary proves nothing: try again
let acks = null, rowsAfter = null;
for (let tries = 0; tries < 4; tries++) {
  const before = ctlRows().length;
  const a = await burst();
  const rows = ctlRows().slice(before);
  const oneCandle = rows.length > 0 && rows.every((r) => r[0] === rows[0][0]);
  if (oneCandle && rows.length === a.filter((x) => !x.error).length) { acks = a; rowsAfter = rows; break; }
}
ok(acks !== null, 'a burst of 17 controls landed within one candle');
if (acks) {
  ok(acks.slice(0, CAP).every((x) => !x.error), `controls 1..${CAP} at one boundary are accepted (the cap)`,
    JSON.stringify(acks.slice(0, CAP).filter((x) => x.error)));
  ok(new RegExp(`too many controls for one candle \\(at most ${CAP}\\)`).test(acks[CAP].error || ''),
    `control ${CAP + 1} at the same boundary is refused with the cap`, JSON.stringify(acks[CAP]));
  ok(rowsAfter.length === CAP, `controls.csv records exactly ${CAP} at that boundary (${rowsAfter.length})`);
}
// a later candle takes controls again (the count is per boundary)
const later = await burst();
ok(!later[0].error, 'the next candle accepts controls again', JSON.stringify(later[0]));
dash.ws.terminate();
// poll for a condition with a generous deadline, never a fixed sleep
const until = async (cond, ms = 30000) => { const t0 = Date.now(); while (!cond() && Date.now() - t0 < ms) await sleep(50); return cond(); };
const lines = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').length - 2 : 0);
const tradesPath = path.join(dir, 'trades.csv'), recPath = path.join(dir, 'candles', 'BTCUSDT.csv');
ok(await until(() => lines(tradesPath) >= 2), `the live session traded before the kill (${lines(tradesPath)} fills)`);
run.p.kill('SIGKILL');
await run.exited;

// resume replays every recorded control (it used to exit 5 on the 17th)
run = start(['run', '--resume', dir, '--no-dashboard', ...quiet], env);
const m = await run.wait(/^resumed: (\d+) candles replayed, (\d+) fills verified$/, 20000).catch((e) => e);
ok(Array.isArray(m), 'run --resume replays a session with a full candle of controls', m instanceof Error ? m.message : '');
const recorded = lines(recPath);
ok(await until(() => lines(recPath) >= recorded + 3), 'the resumed session goes on live');
const code = await run.stop('SIGTERM');
ok(code === 0, `resumed session stops cleanly (exit ${code})`, run.err.slice(-600));
await xs.stop('SIGTERM');

const bt = path.join(dir, 'bt');
const br = spawnSync(BIN, ['backtest', '--quiet', '--out', bt, ...engine, '--order', path.join(dir, 'candles', '.order'),
  '--controls', ctlPath, path.join(dir, 'candles', 'BTCUSDT.csv')], { encoding: 'utf8', timeout: 30000 });
ok(br.status === 0, `backtest --order --controls replays the recording (exit ${br.status})`, (br.stderr || '').slice(-400));
const live = fs.readFileSync(path.join(dir, 'trades.csv'));
const replay = br.status === 0 ? fs.readFileSync(path.join(bt, 'trades.csv')) : Buffer.alloc(0);
ok(live.length > 100 && replay.equals(live), 'replay trades.csv is byte-identical to the live one',
  `${dir}: live ${live.length} bytes, replay ${replay.length}`);
finish();
