// run warms its strategy from the first candle (issue 15 item 9) against a
// separate `papertrader exchange-sim` (synthetic 1s market, 8x, clock years
// behind ours). Checks: with sma_cross slow=6 the feed fetches 6 closed
// candles before the exchange's bar in progress, records them, and
// session.json says where trading starts (trade_from_ms); the first fill is
// the one an independent SMA-cross reference over the recording computes
// for the first candle at or after trade_from_ms (none earlier); backtest on
// candles/XRPETH.csv and backtest --order give the session's trades.csv
// bytes; kill -9 + run --resume replays the warm-up without fetching it
// again and stays byte-identical; --warmup 3 overrides, --warmup 0 is cold.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, deadline, finish, loadRows, ok, parity, sleep, start, tmpdir } from './run_lib.mjs';

const slow = process.env.PT_SANITIZE ? 3 : 1;
deadline(90000 * slow);
const SYM = 'XRPETH', IV = 1000;
const xs = start(['exchange-sim', '--port', '0', '--speed', '8', '--symbols', SYM, '--seed', '11',
  '--interval', '1s', '--start', '1704067200000']);
const xport = Number((await xs.wait(/^listening port=(\d+)/))[1]);
const feed = ['--ws-url', `ws://127.0.0.1:${xport}`, '--rest-url', `http://127.0.0.1:${xport}`, '--symbols', SYM,
  '--interval', '1s', '--no-dashboard', '--fsync', 'none', '--quiet'];
const engine = ['--strategy', 'sma_cross', '--param', 'fast=2', '--param', 'slow=6', '--min-quality', '0', '--fee-bps', '5'];
const readJson = (f) => { try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch { return null; } };
const fills = (dir) => { try { return fs.readFileSync(path.join(dir, 'trades.csv'), 'utf8').trim().split('\n').slice(1); } catch { return []; } };
async function until(cond, ms) {
  const end = Date.now() + ms * slow;
  while (Date.now() < end) { if (cond()) return true; await sleep(100); }
  return cond();
}
const logOf = (dir) => { try { return fs.readFileSync(path.join(dir, 'papertrader.log'), 'utf8'); } catch { return ''; } };

// The engine's sma_cross, written again: SMA(fast), SMA(slow) of the closes;
// once both are full the sign of fast - slow is tracked (ties carry the
// sign); a change from - to + is a cross up. Long only: the first order is
// the first cross up, filled at the next candle's open.
function firstCrossUp(rows, fast, slw, fromTs) {
  let last = 0;
  for (let i = slw - 1; i < rows.length; i++) {
    const mean = (n) => rows.slice(i - n + 1, i + 1).reduce((a, r) => a + r.c, 0) / n;
    const d = mean(fast) - mean(slw);
    const up = d > 0 && last < 0;
    if (d > 0) last = 1; else if (d < 0) last = -1;
    if (up && rows[i].t >= fromTs) return i;
  }
  return -1;
}

// ---- a warm session
const dir = tmpdir('ptwarm-');
let run = start(['run', ...feed, '--out', dir, ...engine]);
await run.wait(/^output: /, 10000 * slow);
await until(() => fills(dir).length >= 2, 30000);
const ses = readJson(path.join(dir, 'session.json'));
const T = ses && ses.trade_from_ms;
ok(ses && ses.warmup_candles === 6 && T > 0 && T % IV === 0, `session.json: warmup_candles 6, trade_from_ms ${T}`);
run.p.kill('SIGKILL');
await run.exited;
let rec = loadRows(path.join(dir, 'candles', `${SYM}.csv`));
const warm = rec.filter((r) => r.t < T);
ok(warm.length === 6 && warm.every((r, i) => r.t === T - (6 - i) * IV), `the 6 candles before trade_from_ms are recorded first (${warm.map((r) => r.t - T)})`);
ok(/warm-up of 6 candles per symbol \(the strategy's need\)/.test(logOf(dir)), 'the log says the warm-up and why');
const f1 = fills(dir)[0] || '';
const i = firstCrossUp(rec, 2, 6, T);
ok(i >= 6 && i + 1 < rec.length && Number(f1.split(',')[0]) === rec[i + 1].t && /,buy,/.test(f1),
  `first fill at the reference's first cross up from trade_from_ms (candle ${i}: ${rec[i] && rec[i].t - T} ms after it)`, f1);

// ---- resume: replays the warm-up, never fetches it again
run = start(['run', '--resume', dir, '--quiet', '--no-dashboard']);
const m = await run.wait(/^resumed: (\d+) candles replayed, (\d+) fills verified$/, 15000 * slow).catch((e) => e);
ok(Array.isArray(m) && Number(m[1]) >= rec.length - 1, 'resume replays the recording, warm-up included', m instanceof Error ? m.message : '');
const before = rec.length;
await until(() => loadRows(path.join(dir, 'candles', `${SYM}.csv`)).length >= before + 16, 20000);
ok((await run.stop('SIGTERM')) === 0, 'resumed session stops with exit 0', run.err.slice(-400));
rec = loadRows(path.join(dir, 'candles', `${SYM}.csv`));
const ses2 = readJson(path.join(dir, 'session.json'));
ok(ses2 && ses2.trade_from_ms === T, 'session.json keeps trade_from_ms across the resume');
ok(rec.filter((r) => r.t < T).length === 6 && rec.every((r, k) => !k || r.t === rec[k - 1].t + IV),
  `no second warm-up: still 6 candles before trade_from_ms, ${rec.length} contiguous rows`);
ok((logOf(dir).match(/warm-up of/g) || []).length === 1, 'the warm-up was fetched once (the log says it once)');
const rep = readJson(path.join(dir, 'report.json'));
ok(rep && rep.engine && rep.engine.warmup_candles === 6 && rep.engine.trade_from_ms === T, 'report.json engine: warmup_candles, trade_from_ms');
ok(fills(dir).length >= 2, `trades after the resume (${fills(dir).length} fills)`);

// ---- replays of the recording
const p = parity(dir, SYM, engine);
ok(p === null, 'backtest on candles/XRPETH.csv gives byte-identical trades.csv', p || '');
const bt = path.join(dir, 'bt-order');
const br = spawnSync(BIN, ['backtest', '--quiet', '--out', bt, ...engine, '--order', path.join(dir, 'candles', '.order'),
  path.join(dir, 'candles', `${SYM}.csv`)], { encoding: 'utf8' });
ok(br.status === 0 && fs.readFileSync(path.join(bt, 'trades.csv')).equals(fs.readFileSync(path.join(dir, 'trades.csv'))),
  'backtest --order gives byte-identical trades.csv', (br.stderr || '').slice(-300));
const cold = path.join(dir, 'bt-cold');
const bc = spawnSync(BIN, ['backtest', '--quiet', '--out', cold, ...engine, '--trade-from', '0', path.join(dir, 'candles', `${SYM}.csv`)],
  { encoding: 'utf8' });
const coldRep = readJson(path.join(cold, 'report.json'));
ok(bc.status === 0 && coldRep && coldRep.engine && coldRep.engine.warmup_candles === undefined &&
  coldRep.engine.candles_in === rec.length, '--trade-from 0 replays cold: no warm-up candles',
  JSON.stringify(coldRep && coldRep.engine) + (bc.stderr || '').slice(-300));
// the reference agrees with the engine without a warm-up too (from the first full SMA)
const c0 = firstCrossUp(rec, 2, 6, -Infinity), cf = fills(cold)[0] || '';
ok(c0 >= 5 && Number(cf.split(',')[0]) === rec[c0 + 1].t, `cold replay: first fill at the reference's first cross up (candle ${c0})`, cf);

// ---- --warmup N overrides, --warmup 0 is off
for (const n of [3, 0]) {
  const d = tmpdir(`ptwarm${n}-`);
  const r = start(['run', ...feed, '--out', d, ...engine, '--warmup', String(n)]);
  await r.wait(/^output: /, 10000 * slow);
  await until(() => loadRows(path.join(d, 'candles', `${SYM}.csv`)).length >= 6, 15000);
  ok((await r.stop('SIGTERM')) === 0, `--warmup ${n}: exit 0`, r.err.slice(-300));
  const s = readJson(path.join(d, 'session.json'));
  const rows = loadRows(path.join(d, 'candles', `${SYM}.csv`));
  if (n)
    ok(s && s.warmup_candles === n && rows.filter((x) => x.t < s.trade_from_ms).length === n,
      `--warmup ${n}: ${n} candles before trade_from_ms`);
  else
    ok(s && s.trade_from_ms === undefined && s.warmup_candles === undefined && !/warm-up/.test(logOf(d)),
      '--warmup 0: no warm-up, no trade_from_ms');
}
await xs.stop('SIGTERM');
finish();
