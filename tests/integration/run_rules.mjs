// run takes the exchange's trading rules (issue 15 item 10, docs/rules.md)
// from a separate `papertrader exchange-sim`. Checks: the session caches
// the simulator's exchangeInfo rules in DIR/rules.json before its first
// candle (the --rules FILE fields over the derived ones); entries quoted
// under min_notional are refused with an order_rules alert (log, counted in
// report.json) and never fill; a backtest of the recording reads
// DIR/rules.json and gives the session's trades.csv bytes; run --resume
// reads the cache instead of fetching and verifies every fill; with every REST
// request answered 429 the fetch fails with one warning and the session goes
// on without rules (no rules.json).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, deadline, finish, ok, sleep, start, tmpdir } from './run_lib.mjs';

const slow = process.env.PT_SANITIZE ? 3 : 1;
deadline(90000 * slow);
const SYM = 'XRPETH';
const tmp = tmpdir('ptrules-');
const served = path.join(tmp, 'served.json');
fs.writeFileSync(served, JSON.stringify({ version: 1, source: 'test',
  symbols: { [SYM]: { lot_step: '0.001', min_notional: '50' } } }));
const readJson = (f) => { try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch { return null; } };
const logOf = (dir) => { try { return fs.readFileSync(path.join(dir, 'papertrader.log'), 'utf8'); } catch { return ''; } };
const fills = (dir) => { try { return fs.readFileSync(path.join(dir, 'trades.csv'), 'utf8').trim().split('\n').slice(1); } catch { return []; } };
async function until(cond, ms) {
  const end = Date.now() + ms * slow;
  while (Date.now() < end) { if (cond()) return true; await sleep(100); }
  return cond();
}

async function sim(extra) {
  const xs = start(['exchange-sim', '--port', '0', '--speed', '8', '--symbols', SYM, '--seed', '5',
    '--interval', '1s', '--start', '1704067200000', ...extra]);
  const port = Number((await xs.wait(/^listening port=(\d+)/))[1]);
  return { xs, feed: ['--ws-url', `ws://127.0.0.1:${port}`, '--rest-url', `http://127.0.0.1:${port}`, '--symbols', SYM,
    '--interval', '1s', '--no-dashboard', '--fsync', 'none', '--quiet', '--warmup', '0'] };
}
const engine = ['--strategy', 'sma_cross', '--param', 'fast=2', '--param', 'slow=4', '--min-quality', '0'];

// ---- rules fetched and cached; small entries refused
{
  const { xs, feed } = await sim(['--rules', served]);
  const dir = path.join(tmp, 'small');
  const run = start(['run', ...feed, '--out', dir, ...engine, '--sizing', 'quote:20']);
  await run.wait(/^output: /, 10000 * slow);
  const rules = readJson(path.join(dir, 'rules.json'));
  const r = rules && rules.symbols && rules.symbols[SYM];
  ok(r && r.lot_step === '0.001' && r.min_notional === '50' && /^0\.0*1$|^1$/.test(r.tick_size) && r.qty_decimals === 3,
    'DIR/rules.json holds the served rules (file over derived) before the first candle', JSON.stringify(rules));
  ok(rules && rules.source === 'binance metadata', 'rules.json names its source');
  await until(() => /order_rules/.test(logOf(dir)), 30000);
  ok((await run.stop('SIGTERM')) === 0, 'session stops with exit 0', run.err.slice(-400));
  ok(/order_rules XRPETH: buy order \d+ refused: order value [0-9.]+ is below the minimum order value 50 \(min_notional\)/
    .test(logOf(dir)), 'an entry of 20 quote is refused with an order_rules alert naming the minimum');
  ok(fills(dir).length === 0, 'nothing under the minimum filled');
  const rep = readJson(path.join(dir, 'report.json'));
  const en = rep && (rep.engine || (rep.session && rep.session.engine));
  const refused = JSON.stringify(rep || {}).match(/"rules_refused":(\d+)/);
  ok(refused && Number(refused[1]) >= 1, `report.json counts the refusals (${refused && refused[1]})`, JSON.stringify(en || {}).slice(0, 200));
  await xs.stop('SIGTERM');
}

// ---- rules that let it trade: replay with the cached rules gives the same bytes
{
  const { xs, feed } = await sim(['--rules', served]);
  const dir = path.join(tmp, 'trade');
  const run = start(['run', ...feed, '--out', dir, ...engine, '--sizing', 'quote:100']);
  await run.wait(/^output: /, 10000 * slow);
  await until(() => fills(dir).length >= 2, 30000);
  ok((await run.stop('SIGTERM')) === 0, 'trading session stops with exit 0', run.err.slice(-400));
  const qty = fills(dir).map((l) => l.split(',')[4]);
  ok(qty.length >= 2 && qty.every((q) => /^\d+(\.\d{1,3})?$/.test(q)), `every fill's quantity is on the 0.001 lot step (${qty.slice(0, 4)})`);
  const bt = path.join(tmp, 'bt');
  const b = spawnSync(BIN, ['backtest', '--quiet', '--out', bt, ...engine, '--sizing', 'quote:100',
    path.join(dir, 'candles', `${SYM}.csv`)], { encoding: 'utf8' });
  const mine = readJson(path.join(dir, 'rules.json')), theirs = readJson(path.join(bt, 'rules.json'));
  ok(b.status === 0 && mine && theirs && JSON.stringify(mine.symbols) === JSON.stringify(theirs.symbols),
    'backtest of the recording reads its rules.json (and records them beside its outputs)', b.stderr.slice(-400));
  ok(b.status === 0 && fs.readFileSync(path.join(dir, 'trades.csv')).equals(fs.readFileSync(path.join(bt, 'trades.csv'))),
    'the replay trades byte-identical to the session');
  // resume: the cached rules, never a second fetch
  const before = fills(dir).length;
  const res = start(['run', '--resume', dir, '--quiet', '--no-dashboard']);
  const m = await res.wait(/^resumed: (\d+) candles replayed, (\d+) fills verified$/, 15000 * slow).catch((e) => e);
  ok(Array.isArray(m) && Number(m[2]) === before, `resume verifies the ${before} recorded fills with the cached rules`,
    m instanceof Error ? m.message : '');
  await until(() => fills(dir).length >= before + 2, 30000);
  ok((await res.stop('SIGTERM')) === 0, 'the resumed session stops with exit 0', res.err.slice(-400));
  const log = logOf(dir);
  ok(/trading rules of 1 symbols from .*rules\.json/.test(log) && (log.match(/recorded in .*rules\.json/g) || []).length === 1,
    'the resume reads DIR/rules.json and does not fetch again');
  const after = fills(dir).map((l) => l.split(',')[4]);
  ok(after.length > before && after.every((q) => /^\d+(\.\d{1,3})?$/.test(q)), `after the resume quantities stay on the 0.001 step (${after.slice(-2)})`);
  await xs.stop('SIGTERM');
}

// ---- the fetch fails: a warning, the session goes on without rules
{
  const { xs, feed } = await sim(['--faults', 'http429=1,retry=1']);
  const dir = path.join(tmp, 'nofetch');
  const run = start(['run', ...feed, '--out', dir, ...engine]);
  await run.wait(/^output: /, 20000 * slow);
  ok(/trading rules from binance could not be fetched \(HTTP 429 \(rate limited\)\): going on with no trading rules/
    .test(logOf(dir) + run.err), 'a failed fetch is one clear warning that says what the session goes on with');
  ok(!fs.existsSync(path.join(dir, 'rules.json')), 'no rules.json without rules');
  ok((await run.stop('SIGTERM')) === 0, 'the session still runs and stops with exit 0', run.err.slice(-400));
  await xs.stop('SIGTERM');
}
finish();
