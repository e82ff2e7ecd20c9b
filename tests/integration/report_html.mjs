// report.html end to end: `papertrader backtest` on a real candle file, then
// `papertrader report DIR`, then the page opened from file:// in headless
// Chromium with every non-file request aborted (proves it is self-contained).
// Checks the charts drew, the markers match trades.csv, the metrics table
// shows report.json's total return, and that hostile text from a user file
// (a trade reason holding "</script><img onerror>") stays text.
// Saves $PT_BUILD_DIR/test-artifacts/report.png. SKIPs only without chromium.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { makeChecker } from './wss_lib.mjs';

const CHROMIUM = '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) { console.log('SKIP: report_html needs ' + CHROMIUM + ' (not installed)'); process.exit(0); }
const { chromium } = await import('playwright-core');

const BIN = process.env.PT_BIN;
const BUILD = process.env.PT_BUILD_DIR || os.tmpdir();
const DATA = process.env.PT_SHARED_DATA || '/work/shared/data';
const INPUT = path.join(DATA, 'freqtrade_ADA-BTC_5m.csv');
if (!BIN) { console.log('not ok - PT_BIN not set'); process.exit(1); }

const check = makeChecker('report_html');
const hardStop = setTimeout(() => { console.log('not ok - test timed out'); process.exit(1); }, 120000);
const run = (args) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });
const csvRows = (file) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length).length - 1;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-report-'));
const dir = path.join(tmp, 'bt');
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-chromium-'));
let ctx;
try {
  // ---- CLI
  let r = run(['backtest', '--quiet', '--out', dir, INPUT]);
  check(r.status === 0, 'backtest exits 0', { status: r.status, stderr: (r.stderr || '').slice(-400) });
  const html = path.join(dir, 'report.html');
  const fromRun = fs.existsSync(html) ? fs.readFileSync(html) : Buffer.alloc(0);
  fs.rmSync(html, { force: true }); // prove `report` (re)writes it
  r = run(['report', dir]);
  check(r.status === 0 && fs.existsSync(html), 'report DIR exits 0 and writes report.html',
    { status: r.status, stderr: (r.stderr || '').slice(-400) });
  // the backtest builds its page from what the run fed it; `report` reads the folder back
  check(fromRun.length > 0 && fromRun.equals(fs.readFileSync(html)), 'the page built during the run equals the one read back');
  check((r.stdout || '').trim() === `${dir}/report.html`, 'report prints the page path', r.stdout);
  check(!fs.readdirSync(dir).some((f) => f.includes('.tmp')), 'no temp file left behind', fs.readdirSync(dir));
  const text = fs.readFileSync(html, 'utf8');
  check((text.match(/<\/script/gi) || []).length === 4, 'page closes exactly its four script blocks (data, chart library, fmt.js, report.js)');
  const block = text.match(/<script type="application\/json" id="pt-data">([^<]*)<\/script>/);
  let parsed = null;
  try { parsed = block && JSON.parse(block[1]); } catch (e) { parsed = null; }
  check(parsed && parsed.version === 1, 'data block holds no "<" and parses as JSON');
  check(!/\b(src|href)\s*=\s*["']?(https?:|\/\/)/i.test(text), 'page references no external URL');

  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  r = run(['report', empty]);
  check(r.status === 3 && fs.readdirSync(empty).length === 0,
    'report on a folder without report.json exits 3 and leaves it untouched', { status: r.status, files: fs.readdirSync(empty) });
  r = run(['report']);
  check(r.status === 2, 'report without DIR exits 2', r.status);

  // hostile copy: a reason from a user file that tries to break out of the page
  const evil = path.join(tmp, 'evil');
  fs.mkdirSync(evil);
  for (const f of ['report.json', 'session.json', 'portfolio.csv']) fs.copyFileSync(path.join(dir, f), path.join(evil, f));
  const EVIL = '</script><img src=x onerror="window.__pwned=1"><!--';
  const tl = fs.readFileSync(path.join(dir, 'trades.csv'), 'utf8').split('\n');
  const hdr = tl[0].split(',');
  const ri = hdr.indexOf('reason');
  const f1 = tl[1].split(',');
  f1[ri] = '"' + EVIL.replace(/"/g, '""') + '"';
  tl[1] = f1.join(',');
  fs.writeFileSync(path.join(evil, 'trades.csv'), tl.join('\n'));
  r = run(['report', '--quiet', evil]);
  check(r.status === 0, 'report on the hostile copy exits 0', { status: r.status, stderr: r.stderr });
  // degraded folder: only report.json (ledgers and inputs gone) still gives a page
  const bare = path.join(tmp, 'bare');
  fs.mkdirSync(bare);
  fs.copyFileSync(path.join(dir, 'report.json'), path.join(bare, 'report.json'));
  r = run(['report', '--quiet', bare]);
  check(r.status === 0, 'report on a folder with only report.json exits 0', { status: r.status, stderr: r.stderr });

  // live session: its report.html charts the recording (candles/<SYMBOL>.csv)
  const live = path.join(tmp, 'live');
  const liveIn = path.join(tmp, 'UNITTESTBTC.csv');
  const sample = fs.readFileSync(path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv'), 'utf8').split('\n');
  fs.writeFileSync(liveIn, sample.slice(0, 301).join('\n') + '\n');
  r = spawnSync(BIN, ['demo', '--no-dashboard', '--quiet', '--speed', '4000', '--out', live, liveIn], { encoding: 'utf8', timeout: 60000 });
  check(r.status === 0, 'a short demo session ends by itself', { status: r.status, stderr: (r.stderr || '').slice(-400) });
  r = run(['report', '--quiet', live]);
  check(r.status === 0, 'report on the live session folder exits 0', { status: r.status, stderr: r.stderr });

  // ---- browser
  const trades = csvRows(path.join(dir, 'trades.csv'));
  const metrics = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const blocked = [];
  await ctx.route('**', (rt) => {
    const u = rt.request().url();
    if (u.startsWith('file:')) return rt.continue();
    blocked.push(u);
    return rt.abort();
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (q) => { if (!q.url().startsWith('file:')) blocked.push(q.url()); });

  await page.goto(pathToFileURL(html).href, { waitUntil: 'load', timeout: 20000 });
  await page.waitForFunction(() => window.__report && window.__report.ready, null, { timeout: 15000 });
  await page.waitForTimeout(300); // let the charts paint their canvases
  const st = await page.evaluate(() => {
    const o = window.__report;
    const inked = (sel) => [...document.querySelectorAll(sel + ' canvas')].some((c) => {
      try {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const set = new Set();
        for (let i = 0; i < d.length; i += 4 * 37) set.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
        return set.size > 3;
      } catch (e) { return false; }
    });
    const tr = document.querySelector('#metrics tr[data-key="total_return"] td:last-child');
    return {
      errors: o.errors, eqPoints: o.eqPoints, bars: o.bars, markers: o.markers,
      embedded: o.data.trades.list.length, tradeRows: o.tradeRows,
      eqInk: inked('#equity-chart'), ddInk: inked('#dd-chart'), candleInk: inked('#candle-chart'),
      trValue: tr ? Number(tr.dataset.value) : null, trText: tr ? tr.textContent : null,
      tableRows: document.querySelectorAll('#trades tbody tr').length,
      metricRows: document.querySelectorAll('#metrics tbody tr').length,
    };
  });
  check(st.errors.length === 0, 'page parts render without errors', st.errors);
  check(st.eqPoints > 1 && st.eqInk, `equity chart drew (${st.eqPoints} points, canvas not blank)`, st);
  check(st.ddInk, 'drawdown chart drew (canvas not blank)', st);
  check(st.bars > 1 && st.candleInk, `candle chart drew (${st.bars} bars, canvas not blank)`, st);
  check(trades > 0 && st.embedded === trades, `embedded trades equal trades.csv rows (${st.embedded}/${trades})`, st);
  check(st.markers === trades, `trade markers on the chart equal trades.csv rows (${st.markers}/${trades})`, st);
  check(st.tableRows === Math.min(trades, 1000), `trades table lists the trades (${st.tableRows})`, st);
  check(st.metricRows >= 10, `metrics table filled (${st.metricRows} rows)`, st);
  check(st.trValue === metrics.total_return, `metrics table total return equals report.json (${st.trValue})`,
    { page: st.trValue, json: metrics.total_return });
  check(st.trText === (metrics.total_return * 100).toFixed(2) + ' %', `total return shown as ${st.trText}`, st.trText);
  const out = path.join(BUILD, 'test-artifacts');
  fs.mkdirSync(out, { recursive: true });
  await page.screenshot({ path: path.join(out, 'report.png'), fullPage: true });
  console.log('screenshot: ' + path.join(out, 'report.png'));
  check(blocked.length === 0, 'page makes no network request', blocked.slice(0, 5));
  check(errors.length === 0, 'no console errors (CSP, script)', errors.slice(0, 5));

  // the live session's page: candles from its recording, prices with their precision
  await page.goto(pathToFileURL(path.join(live, 'report.html')).href, { waitUntil: 'load', timeout: 20000 });
  await page.waitForFunction(() => window.__report && window.__report.ready, null, { timeout: 15000 });
  const lv = await page.evaluate(() => ({ bars: window.__report.bars, symbol: window.__report.symbol,
    errors: window.__report.errors, prices: [...document.querySelectorAll('#trades tbody tr')].map((r) => r.children[4].textContent) }));
  const recorded = csvRows(path.join(live, 'candles', 'UNITTESTBTC.csv'));
  check(lv.errors.length === 0 && lv.symbol === 'UNITTESTBTC' && lv.bars === recorded,
    `live session report charts its recording (${lv.bars}/${recorded} candles)`, lv);
  check(lv.prices.length > 0 && lv.prices.every((p) => /^0\.00\d*[1-9]/.test(p)), `trade prices with the symbol's precision (${lv.prices[0]})`, lv.prices.slice(0, 3));

  // hostile page: the text stays text
  errors.length = 0;
  await page.goto(pathToFileURL(path.join(evil, 'report.html')).href, { waitUntil: 'load', timeout: 20000 });
  await page.waitForFunction(() => window.__report && window.__report.ready, null, { timeout: 15000 });
  await page.waitForTimeout(200);
  const ev = await page.evaluate((want) => ({
    pwned: window.__pwned === 1, imgs: document.querySelectorAll('img').length,
    shown: [...document.querySelectorAll('#trades td')].some((td) => td.textContent === want),
    errors: window.__report.errors,
  }), EVIL);
  check(!ev.pwned && ev.imgs === 0, 'hostile reason does not inject markup', ev);
  check(ev.shown, 'hostile reason is shown verbatim as text', ev);
  check(ev.errors.length === 0 && errors.length === 0, 'hostile page renders without errors', { ev, errors });

  await page.goto(pathToFileURL(path.join(bare, 'report.html')).href, { waitUntil: 'load', timeout: 20000 });
  await page.waitForFunction(() => window.__report && window.__report.ready, null, { timeout: 15000 });
  const bs = await page.evaluate(() => ({ errors: window.__report.errors,
    notes: [...document.querySelectorAll('#notes li')].map((l) => l.textContent),
    metrics: document.querySelectorAll('#metrics tbody tr').length }));
  check(bs.errors.length === 0 && bs.metrics >= 10 && bs.notes.some((n) => n.includes('no candles')),
    'bare folder: metrics shown, missing data named in the notes', bs);
} catch (e) {
  check(false, 'test ran to the end', String(e && e.stack || e));
} finally {
  if (ctx) await ctx.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
}
clearTimeout(hardStop);
process.exit(check.done());
