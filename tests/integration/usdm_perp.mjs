// Binance USD-M futures (issue 16 items 4-5) against `papertrader exchange-sim
// --protocol binance-futures`: a live session's feed sees the mark stream and
// one funding event per funding time (the schedule of --funding every=5m, on
// the simulator's clock, two years behind ours); `fetch --funding` writes the
// funding history (header ts,symbol,rate,mark_price; every funding time in
// [since, until) once, ascending, paged by 1000 rows through 429/418 faults)
// and `fetch --mark` the mark-price klines (candle format, volume 0, within the
// simulator's +-0.1 % premium of the trade candles); refusals and usage errors
// name the cause.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, deadline, finish, loadRows, ok, sleep, start, tmpdir } from './run_lib.mjs';

deadline(120000);
const dir = tmpdir('ptusdm-');
const START = 1704067200000, FIVE = 300000, MIN = 60000;
const fetch = (args) => spawnSync(BIN, ['fetch', '--exchange', 'binance-futures', ...args], { encoding: 'utf8', timeout: 60000 });

// 1. live: marks and funding events reach the feed, on the exchange's clock
{
  const xs = start(['exchange-sim', '--protocol', 'binance-futures', '--port', '0', '--speed', '240', '--symbols', 'BTCUSDT',
    '--seed', '11', '--interval', '1m', '--start', String(START), '--funding', 'every=5m',
    '--faults', 'http429=0.2,http418=0.05,retry=1']);
  const port = Number((await xs.wait(/^listening port=(\d+)/))[1]);
  const url = `http://127.0.0.1:${port}`;
  const out = path.join(dir, 'run');
  const run = start(['run', '--exchange', 'binance-futures', '--ws-url', `ws://127.0.0.1:${port}`, '--rest-url', url,
    '--symbols', 'BTCUSDT', '--interval', '1m', '--port', '0', '--out', out, '--fsync', 'none', '--quiet']);
  await run.wait(/^output: /);
  await sleep(9000); // ~36 simulated minutes: 7 funding times
  ok(await run.stop('SIGTERM') === 0, 'run --exchange binance-futures exits 0 on SIGTERM', run.err.slice(-400));
  let rep = null;
  try { rep = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')); } catch { /* below */ }
  const f = rep ? rep.feed : {};
  ok(f.marks > 100, `mark updates reached the feed (${f.marks})`);
  ok(f.mark_bars > 5, `closed mark bars (${f.mark_bars})`);
  ok(f.fundings >= 4 && f.funding_gaps === 0, `one funding event per 5 simulated minutes (${f.fundings}, gaps ${f.funding_gaps})`);
  const rec = loadRows(path.join(out, 'candles', 'BTCUSDT.csv'));
  const sim_minutes = rec.length ? (rec[rec.length - 1].t + MIN - rec[0].t) / MIN : 0;
  ok(f.fundings <= Math.floor(sim_minutes / 5) + 2, `no more funding events than funding times (${f.fundings} in ${sim_minutes} min)`);

  // the recording a replay needs: DIR/funding/<SYM>.csv and DIR/marks/<SYM>.csv
  const recF = path.join(out, 'funding', 'BTCUSDT.csv'), recM = path.join(out, 'marks', 'BTCUSDT.csv');
  const fl = fs.existsSync(recF) ? fs.readFileSync(recF, 'utf8').trim().split('\n') : [''];
  ok(fl[0] === 'ts,symbol,rate,mark_price' && fl.length - 1 === f.fundings,
    `recorded funding file: header and one row per funding event (${fl.length - 1})`);
  const recRows = fl.slice(1).map((l) => l.split(','));
  ok(recRows.every((r, i) => Number(r[0]) % FIVE === 0 && r[1] === 'BTCUSDT' && Number(r[3]) > 0 &&
    (i === 0 || Number(r[0]) === Number(recRows[i - 1][0]) + FIVE)), 'recorded funding times: every 5 min, in order, with a mark');
  const ml = fs.existsSync(recM) ? loadRows(recM) : [];
  ok(ml.length === f.mark_bars && ml.every((r, i) => r.v === 0 && r.l <= r.o && r.o <= r.h && (i === 0 || r.t > ml[i - 1].t)),
    `recorded mark bars: one row per closed bar, in order, volume 0 (${ml.length})`);

  // 2. fetch --funding: the same schedule, through rate limits
  const since = START, until = START + 30 * MIN;
  const fr = fetch(['--rest-url', url, '--symbol', 'BTCUSDT', '--since', String(since), '--until', String(until),
    '--funding', '-o', path.join(dir, 'BTCUSDT-funding.csv'), '--quiet']);
  ok(fr.status === 0, 'fetch --funding exits 0 through 429/418', fr.stderr.slice(-400));
  const lines = fr.status === 0 ? fs.readFileSync(path.join(dir, 'BTCUSDT-funding.csv'), 'utf8').trim().split('\n') : [''];
  ok(lines[0] === 'ts,symbol,rate,mark_price', `funding header (${lines[0]})`);
  const rows = lines.slice(1).map((l) => l.split(','));
  const ts = rows.map((r) => Number(r[0]));
  ok(ts.length === 6 && ts.every((t, i) => t === since + i * FIVE), `every funding time in [since, until) once (${ts.join(' ')})`);
  ok(rows.every((r) => r[1] === 'BTCUSDT' && Number(r[2]) >= -0.0002 && Number(r[2]) <= 0.0004 && Number(r[3]) > 0),
    'symbol, a seeded rate in [-0.0002, 0.0004] and a mark price on each row');
  ok(new Set(rows.map((r) => r[2])).size > 1, 'rates differ by funding time (seeded)');
  // the live events carry the rate the venue's history shows for the same T
  const hist = await (async () => {
    const h = fetch(['--rest-url', url, '--symbol', 'BTCUSDT', '--since', String(START), '--funding', '-o', path.join(dir, 'all-funding.csv'), '--quiet']);
    return h.status === 0 ? new Map(fs.readFileSync(path.join(dir, 'all-funding.csv'), 'utf8').trim().split('\n').slice(1)
      .map((l) => l.split(',')).map((r) => [r[0], r[2]])) : new Map();
  })();
  ok(recRows.length > 0 && recRows.every((r) => hist.get(r[0]) === r[2]), 'each recorded funding rate equals fetch --funding for that T');

  // 3. fetch --mark: mark klines in the candle format, close to the trade candles
  const mk = fetch(['--rest-url', url, '--symbol', 'BTCUSDT', '--interval', '1m', '--since', String(since), '--until',
    String(until), '--mark', '-o', path.join(dir, 'BTCUSDT-mark.csv'), '--quiet']);
  const tr = fetch(['--rest-url', url, '--symbol', 'BTCUSDT', '--interval', '1m', '--since', String(since), '--until',
    String(until), '-o', path.join(dir, 'BTCUSDT.csv'), '--quiet']);
  ok(mk.status === 0 && tr.status === 0, 'fetch --mark and fetch exit 0', mk.stderr.slice(-300) + tr.stderr.slice(-300));
  if (mk.status === 0 && tr.status === 0) {
    const head = fs.readFileSync(path.join(dir, 'BTCUSDT-mark.csv'), 'utf8').split('\n')[0];
    ok(head === 'timestamp,open,high,low,close,volume', 'mark file has the candle header');
    const m = loadRows(path.join(dir, 'BTCUSDT-mark.csv')), t = loadRows(path.join(dir, 'BTCUSDT.csv'));
    ok(m.length === 30 && t.length === 30 && m.every((r, i) => r.t === t[i].t), `one mark bar per candle (${m.length})`);
    ok(m.every((r, i) => r.v === 0 && Math.abs(r.c / t[i].c - 1) <= 0.001 && r.h >= r.l), 'volume 0, mark within 0.1 % of the trade close');
    ok(m.some((r, i) => r.c !== t[i].c), 'mark prices are not the trade prices');
    const fund = rows.map((r) => ({ t: Number(r[0]), m: Number(r[3]) }));
    ok(fund.every((x) => { const b = m.find((r) => r.t === x.t); return b && Math.abs(x.m / b.o - 1) < 1e-9; }),
      'the funding row\'s mark price is the mark at T (the mark bar\'s open)');
  }

  // 4. refusals and usage errors
  const bad = fetch(['--rest-url', url, '--symbol', 'NOPEUSDT', '--since', String(since), '--funding', '-o', path.join(dir, 'x.csv')]);
  ok(bad.status === 1 && /NOPEUSDT is not listed on binance-futures/.test(bad.stderr),
    'unknown symbol: exit 1, the exchange info says it is not listed', bad.stderr.slice(-300));
  const mk404 = fetch(['--rest-url', url, '--symbol', 'NOPEUSDT', '--since', String(since), '--interval', '1m', '-o', path.join(dir, 'x.csv')]);
  ok(mk404.status === 1 && /Invalid symbol\./.test(mk404.stderr), 'candles of an unknown symbol: exit 1 with the exchange\'s text',
    mk404.stderr.slice(-300));
  const spot = spawnSync(BIN, ['fetch', '--exchange', 'binance', '--symbol', 'BTCUSDT', '--since', String(since), '--funding',
    '-o', path.join(dir, 'y.csv')], { encoding: 'utf8' });
  ok(spot.status === 2 && /spot exchange/.test(spot.stderr), '--funding on a spot exchange is a usage error', spot.stderr);
  const both = fetch(['--symbol', 'BTCUSDT', '--interval', '1m', '--since', String(since), '--funding', '--mark', '-o', path.join(dir, 'z.csv')]);
  ok(both.status === 2, '--mark with --funding is a usage error', both.stderr);
  ok(!fs.existsSync(path.join(dir, 'x.csv')) && !fs.existsSync(path.join(dir, 'y.csv')), 'no output file after a failure');
  await xs.stop('SIGTERM');
}

// 5. paging: 1500 funding times (every=1m) come in two pages of <= 1000 rows
{
  const xs = start(['exchange-sim', '--protocol', 'binance-futures', '--port', '0', '--speed', '200000', '--symbols', 'ETHUSDT',
    '--seed', '3', '--interval', '1m', '--start', String(START), '--funding', 'every=1m,rate=-0.00005', '--updates', '0']);
  const port = Number((await xs.wait(/^listening port=(\d+)/))[1]);
  await sleep(1500); // 200000x: > 3 simulated days
  const out = path.join(dir, 'ETH-funding.csv');
  const r = fetch(['--rest-url', `http://127.0.0.1:${port}`, '--symbol', 'ETHUSDT', '--since', String(START), '--until',
    String(START + 1500 * MIN), '--funding', '-o', out]);
  ok(r.status === 0 && /1500 funding rows .*\(2 requests/.test(r.stderr), 'two pages for 1500 rows', r.stderr.slice(-300));
  const rows = r.status === 0 ? fs.readFileSync(out, 'utf8').trim().split('\n').slice(1) : [];
  ok(rows.length === 1500 && rows.every((l, i) => l.startsWith(`${START + i * MIN},ETHUSDT,-0.00005,`)),
    'every minute once, ascending, the fixed rate');
  await xs.stop('SIGTERM');
}
finish();
