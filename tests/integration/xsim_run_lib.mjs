// The fault suite of one venue (runFaults(venue), one test file per venue:
// run_xsim_faults.mjs is Binance, run_xsim_faults_<venue>.mjs the others):
// papertrader run against the built-in exchange simulator speaking that
// venue's protocol (a separate
// `papertrader exchange-sim` process, seeded synthetic market of ~8 candles
// a second on a clock two years behind the wall clock: the feed must judge
// REST rows "still open" by the exchange's event time, never by ours) with
// faults on:
// abrupt drops, skipped closes (gaps only REST can fill), duplicates, bars
// out of order, truncated JSON and
// REST 429s, 2 MiB frames past the feed's 1 MiB cap (close 1009, reconnect). Checks: every candle recorded exactly once (vs the simulator's
// candles fetched by REST with `papertrader fetch`), reconnect/backfill/duplicate/rate-limit counters > 0
// where faults fired, /health and /metrics answer during the session, a
// dashboard client gets close 1001 on SIGTERM, exit 0, trades.csv ends with
// '\n', report.json written, and backtest on the recording gives the same
// trades.csv bytes (parity).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, dashboard, deadline, exactlyOnce, finish, get, loadRows, ok, parity, sleep, start, tmpdir } from './run_lib.mjs';

// Each venue's profile: its simulator protocol, a symbol in its own
// spelling, an interval it offers and a speed that gives ~8 bars/s.
const VENUES = {
// closedFlag: the venue flags a bar final, so a re-sent bar is a duplicate;
// without one it is another update of the open bar, absorbed (exactly once
// still checks that nothing is recorded twice).
  binance: { sym: 'XRPETH', interval: '1s', ms: 1000, speed: '8', closedFlag: true },
  // Kraken has no 1s bars (ohlc doc: interval in minutes)
  kraken: { sym: 'XRP-ETH', interval: '1m', ms: 60000, speed: '480', closedFlag: false },
};

export async function runFaults(venue) {
const V = VENUES[venue];
const SYM = V.sym;
deadline(60000);
const dir = tmpdir('ptrun-');
const env = { PAPERTRADER_FEED_BACKOFF_BASE_MS: '50', PAPERTRADER_FEED_BACKOFF_CAP_MS: '400', PAPERTRADER_FEED_STALE_AFTER_S: '2' };

const xs = start(['exchange-sim', '--protocol', venue, '--port', '0', '--speed', V.speed, '--symbols', SYM, '--seed', '7',
  '--interval', V.interval, '--start', '1704067200000', // 2024-01-01: far behind the wall clock, see above
  '--faults', `drop=2500ms,skip=0.25,dup=0.2,ooo=0.1,malformed=0.03,http429=0.3,retry=1,oversize=0.006`]);
const xport = Number((await xs.wait(/^listening port=(\d+)/))[1]);
const engine = ['--fee-bps', '7', '--sizing', 'percent:50', '--strategy', 'donchian', '--param', 'entry=3', '--param', 'exit=2', '--min-quality', '0'];
const run = start(['run', '--exchange', venue, '--ws-url', `ws://127.0.0.1:${xport}`, '--rest-url', `http://127.0.0.1:${xport}`,
  '--symbols', SYM, '--interval', V.interval, '--port', '0', '--out', dir, '--heartbeat', '1', '--fsync', 'none',
  '--quiet', ...engine], env);
const dport = Number((await run.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
ok((await run.wait(/^output: (.*)$/))[1] === dir, 'prints the output dir');
ok(/ws:\/\/127\.0\.0\.1/.test((await run.wait(/^exchange: (.*)$/))[1]), 'prints the exchange URL');

const dash = dashboard(dport);
await dash.opened;
await sleep(2500);
const h = await get(dport, '/health');
let hj = {};
try { hj = JSON.parse(h.body); } catch { /* checked below */ }
ok(h.status === 200 && hj.feeds && hj.feeds[SYM] && typeof hj.feeds[SYM].quality === 'number',
  '/health answers with per-symbol feed state', h.body.slice(0, 300));
const m = await get(dport, '/metrics');
ok(m.status === 200 && new RegExp(`papertrader_candles_total\\{symbol="${SYM}",verdict="accept"\\} [1-9]`).test(m.body) &&
  /papertrader_equity /.test(m.body) && /papertrader_feed_reconnects_total /.test(m.body), '/metrics has the session families');
await sleep(9000);
// REST latency and error rate reach /health (backfills and 429s happened by now)
const h2 = await get(dport, '/health');
let rest = null;
try { const j = JSON.parse(h2.body); rest = j.rest || (j.health && j.health.rest) || null; } catch { /* below */ }
ok(rest && rest.total > 0 && typeof rest.p50_ms === 'number' && rest.p99_ms >= rest.p50_ms && rest.error_rate > 0,
  '/health has REST latency p50/p99 and a non-zero error rate (429s)', JSON.stringify(rest));
const code = await run.stop('SIGTERM');
await Promise.race([dash.closed, sleep(2000)]);
ok(code === 0, `SIGTERM -> exit 0 (got ${code} ${run.signal || ''})`, run.err.slice(-500));
ok(dash.closeCode === 1001, `dashboard client closed with 1001 (got ${dash.closeCode})`);
ok(dash.msgs.length > 0 && dash.msgs[0].type === 'snapshot', 'dashboard got a snapshot first');
ok(dash.msgs.some((x) => x.type === 'candle' && !x.data.partial), 'dashboard got closed candle events');
const rec = loadRows(path.join(dir, 'candles', `${SYM}.csv`));
// the simulator's own candles over the recorded range, by REST (429s retried)
const fetched = path.join(dir, 'fetched.csv');
const fr = rec.length ? spawnSync(BIN, ['fetch', '--exchange', venue, '--rest-url', `http://127.0.0.1:${xport}`,
  '--symbol', SYM, '--interval', V.interval, '--since', String(rec[0].t), '--until', String(rec[rec.length - 1].t + V.ms),
  '-o', fetched], { encoding: 'utf8', timeout: 20000 }) : { status: -1, stderr: 'nothing recorded' };
ok(fr.status === 0, 'fetched the simulator candles by REST', (fr.stderr || '').slice(-300));
await xs.stop('SIGTERM');
const xsum = (xs.err.match(/summary:.*/) || [''])[0];
const fired = (k) => Number((xsum.match(new RegExp(`${k}=(\\d+)`)) || [0, 0])[1]);

const trades = fs.readFileSync(path.join(dir, 'trades.csv'), 'utf8');
ok(trades.endsWith('\n'), 'trades.csv ends with a newline');
let rep = null;
try { rep = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')); } catch { /* below */ }
ok(rep && rep.feed && rep.engine, 'report.json written');
const diff = fr.status === 0 ? exactlyOnce(rec, loadRows(fetched)) : 'no fetch';
ok(diff === null && rec.length > 8, `every candle exactly once (${rec.length} recorded)`, diff || '');
if (rep) {
  const f = rep.feed;
  ok(fired('drop') > 0 && f.reconnects > 0, `drops fired ${fired('drop')} -> reconnects ${f.reconnects}`);
  ok(fired('skip') === 0 || (f.backfills > 0 && f.backfilled_candles > 0),
    `skips fired ${fired('skip')} -> backfills ${f.backfills} (${f.backfilled_candles} candles)`);
  ok(fired('malformed') > 0 && f.dropped.invalid_json > 0 && f.dropped.invalid_json <= fired('malformed'),
    `malformed fired ${fired('malformed')} -> ${f.dropped.invalid_json} dropped as invalid JSON (some fire while reconnecting)`);
  ok(fired('ooo') > 0, `out of order fired ${fired('ooo')} (exactly once above: none recorded twice or late)`);
  ok(fired('oversize') > 0 && f.dropped.too_big > 0 && f.dropped.too_big <= fired('oversize'),
    `oversize fired ${fired('oversize')} -> ${f.dropped.too_big} closed 1009, no crash`);
  if (V.closedFlag) ok(fired('dup') === 0 || f.duplicates > 0, `dups fired ${fired('dup')} -> duplicates dropped ${f.duplicates}`);
  else ok(fired('dup') > 0, `dups fired ${fired('dup')} -> absorbed as updates of the open bar`);
  // the simulator counts 429s for every client: the session's and the test's own fetch
  const fetch429 = ((fr.stderr || '').match(/HTTP 429/g) || []).length;
  ok(f.rest_rate_limited + fetch429 === fired('http429'),
    `429s fired ${fired('http429')} -> session rate limited ${f.rest_rate_limited} + fetch ${fetch429}`);
  ok(rep.engine.candles_in === rec.length, `engine saw exactly the recorded candles (${rep.engine.candles_in})`);
}
const p = parity(dir, SYM, engine);
ok(p === null, 'backtest on the recording gives byte-identical trades.csv', p || '');
finish();
}
