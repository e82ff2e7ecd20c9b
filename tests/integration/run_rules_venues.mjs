// run --exchange kraken / coinbase takes the exchange's trading rules
// (docs/rules.md) from a separate `papertrader exchange-sim --protocol <venue>`:
// Kraken GET /0/public/AssetPairs, Coinbase GET
// /api/v3/brokerage/market/products/{id}. Checks per venue: DIR/rules.json
// holds exactly what the simulator serves for the symbol (the --rules FILE
// fields over the derived ones), named by its source; a failed fetch (Kraken:
// HTTP 200 with EAPI:Rate limit exceeded; Coinbase: every REST answer 429) is one warning naming why
// and the session goes on without rules.
import fs from 'node:fs';
import path from 'node:path';
import { deadline, finish, ok, sleep, start, tmpdir } from './run_lib.mjs';

const slow = process.env.PT_SANITIZE ? 3 : 1;
deadline(120000 * slow);
const SYM = 'XRP-ETH';
const tmp = tmpdir('ptrulesv-');
const served = path.join(tmp, 'served.json');
fs.writeFileSync(served, JSON.stringify({ version: 1, source: 'test',
  symbols: { [SYM]: { lot_step: '0.001', min_notional: '50' } } }));
const readJson = (f) => { try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch { return null; } };
const logOf = (dir) => { try { return fs.readFileSync(path.join(dir, 'papertrader.log'), 'utf8'); } catch { return ''; } };
const candles = (dir) => { try { return fs.readFileSync(path.join(dir, 'candles', `${SYM}.csv`), 'utf8').trim().split('\n').length - 1; } catch { return 0; } };
async function until(cond, ms) {
  const end = Date.now() + ms * slow;
  while (Date.now() < end) { if (cond()) return true; await sleep(100); }
  return cond();
}

// what the simulator serves, in rules.json's keys
const VENUES = {
  kraken: { interval: '1m', speed: '240', url: `/0/public/AssetPairs?pair=${encodeURIComponent('XRP/ETH')}`,
    rules: (j) => { const p = Object.values(j.result)[0];
      return { tick_size: p.tick_size, lot_step: p.lot_decimals ? `0.${'0'.repeat(p.lot_decimals - 1)}1` : '1',
        min_qty: p.ordermin, min_notional: p.costmin }; },
    fault: 'http418=1,retry=1', why: /could not be fetched \(EAPI:Rate limit exceeded\)/ },
  coinbase: { interval: '5m', speed: '1200', url: `/api/v3/brokerage/market/products/${SYM}`,
    rules: (p) => ({ tick_size: p.quote_increment, lot_step: p.base_increment, min_qty: p.base_min_size,
      min_notional: p.quote_min_size }),
    fault: 'http429=1,retry=1', why: /could not be fetched \(HTTP 429 \(rate limited\)\)/ },
};

async function session(name, label, extra) {
  const v = VENUES[name];
  const xs = start(['exchange-sim', '--protocol', name, '--port', '0', '--speed', v.speed, '--symbols', SYM,
    '--seed', '5', '--interval', v.interval, '--start', '1704067200000', ...extra]);
  const port = Number((await xs.wait(/^listening port=(\d+)/))[1]);
  const dir = path.join(tmp, `${name}-${label}`);
  const run = start(['run', '--exchange', name, '--ws-url', `ws://127.0.0.1:${port}`, '--rest-url',
    `http://127.0.0.1:${port}`, '--symbols', SYM, '--interval', v.interval, '--out', dir, '--no-dashboard',
    '--fsync', 'none', '--quiet', '--warmup', '0', '--strategy', 'sma_cross', '--param', 'fast=2', '--param', 'slow=4',
    '--min-quality', '0']);
  await run.wait(/^output: /, 20000 * slow);
  return { xs, run, dir, base: `http://127.0.0.1:${port}` };
}

for (const name of Object.keys(VENUES)) {
  const v = VENUES[name];
  {
    const { xs, run, dir, base } = await session(name, 'rules', ['--rules', served]);
    const want = v.rules(await (await fetch(base + v.url)).json());
    await until(() => readJson(path.join(dir, 'rules.json')), 10000);
    const rules = readJson(path.join(dir, 'rules.json'));
    const r = rules && rules.symbols && rules.symbols[SYM];
    const got = r && { tick_size: r.tick_size, lot_step: r.lot_step, min_qty: r.min_qty, min_notional: r.min_notional };
    ok(got && JSON.stringify(got) === JSON.stringify(want) && want.lot_step === '0.001' && want.min_notional === '50',
      `${name}: DIR/rules.json holds the simulator's rules (file over derived)`, `${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    ok(rules && rules.source === `${name} metadata`, `${name}: rules.json names its source`, rules && rules.source);
    await until(() => candles(dir) > 0, 20000); // a session without a candle exits 1
    ok((await run.stop('SIGTERM')) === 0, `${name}: session stops with exit 0`, run.err.slice(-400));
    await xs.stop('SIGTERM');
  }
  {
    const { xs, run, dir } = await session(name, 'fault', ['--faults', v.fault]);
    await until(() => v.why.test(logOf(dir) + run.err), 10000);
    ok(v.why.test(logOf(dir) + run.err) && /going on with no trading rules/.test(logOf(dir) + run.err),
      `${name}: a failed fetch is one warning naming why`, (logOf(dir) + run.err).slice(-400));
    ok(!fs.existsSync(path.join(dir, 'rules.json')), `${name}: no rules.json without rules`);
    await until(() => candles(dir) > 0, 20000);
    ok((await run.stop('SIGTERM')) === 0, `${name}: the session still stops with exit 0`, run.err.slice(-400));
    await xs.stop('SIGTERM');
  }
}
finish();
