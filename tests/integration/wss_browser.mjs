// Browser test: headless Chromium (playwright-core) against bench/wss_fanout.
// The dashboard must draw candles, show a trade marker and a trades row,
// update equity and the quality gauge, and recover after a server restart.
// Saves $PT_BUILD_DIR/test-artifacts/dashboard.png. SKIPs only without chromium.
import fs from 'node:fs';
import path from 'node:path';
import { BUILD, freePort, startDriver, stopDriver, makeChecker, sleep } from './wss_lib.mjs';

import { CHROMIUM, launchBrowser } from './browser_lib.mjs';

if (!fs.existsSync(CHROMIUM)) { console.log('SKIP: wss_browser needs ' + CHROMIUM + ' (not installed)'); process.exit(0); }

const check = makeChecker('wss_browser');
const hardStop = setTimeout(() => { console.log('not ok - test timed out'); process.exit(1); }, 120000);
const ARGS = ['--rate', '40', '--candle-ms', '250', '--trade-every', '2', '--heartbeat-ms', '500'];

const port = await freePort();
let drv = await startDriver(port, ARGS);
const browser = await launchBrowser();
const consoleErrors = [];
try {
  const page = browser.page;
  // A refused or reset WebSocket while the server restarts is expected (and
  // retried by the page); anything else (CSP, script errors) counts.
  const expected = /WebSocket connection to .* failed|ERR_CONNECTION_(RESET|REFUSED)/;
  page.on('console', (m) => { if (m.type() === 'error' && !expected.test(m.text())) consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load', timeout: 15000 });
  const st = () => page.evaluate(() => {
    const s = window.__pt;
    return { conn: s.conn, snapshots: s.snapshots, bars: (s.candles[s.cur] || []).length, cur: s.cur,
      markers: s.markerCount, ind: Object.keys(s.ind[s.cur] || {}),
      legend: [...document.querySelectorAll('#legend .legend-item')].map((e) => e.dataset.name), trades: document.querySelectorAll('#trades tbody tr').length,
      equity: document.getElementById('equity').textContent, score: document.getElementById('q-score').textContent,
      gauge: document.getElementById('gauge-fill').style.width, level: document.getElementById('q-level').textContent,
      canvases: document.querySelectorAll('#chart canvas').length, health: document.querySelectorAll('#health dt').length,
      symbols: document.querySelectorAll('#symbols button').length };
  });
  const waitSt = async (pred, ms) => { const end = Date.now() + ms; let s; while (Date.now() < end) { s = await st(); if (pred(s)) return s; await sleep(200); } return st(); };

  let s = await waitSt((x) => x.conn === 'live' && x.bars >= 5 && x.markers >= 1 && x.trades >= 1, 20000);
  check(s.conn === 'live', 'dashboard connects', s);
  check(s.canvases > 0 && s.bars >= 5, `chart draws candles (${s.bars})`, s);
  check(s.markers >= 1, 'a trade marker appears on the chart', s);
  check(s.trades >= 1, 'a trades-table row appears', s);
  // the indicators the server names (sma9, sma21 from this driver) are drawn and named in the legend
  check(s.ind.includes('sma9') && s.ind.includes('sma21'), `indicator series from the server's names (${s.ind})`, s);
  check(s.legend.includes('sma9') && s.legend.includes('sma21') && s.legend.length === s.ind.length,
    `legend names each indicator (${s.legend})`, s);
  check(s.symbols >= 2, 'symbol switcher lists symbols', s);
  check(s.health > 0, 'health panel filled', s);
  const eq1 = s.equity;
  s = await waitSt((x) => x.equity !== eq1 && x.score !== '–', 10000);
  check(/^-?\d+\.\d\d$/.test(s.equity) && s.equity !== eq1, `equity updates (${eq1} -> ${s.equity})`, s);
  check(/^\d+$/.test(s.score) && /%$/.test(s.gauge) && ['excellent', 'good', 'fair', 'poor', 'critical', 'bad'].includes(s.level.toLowerCase()),
    `quality gauge shows score and level (${s.score}, ${s.level})`, s);
  // a canvas with drawn pixels (not blank): sample the candle pane
  const inked = await page.evaluate(() => {
    const cs = [...document.querySelectorAll('#chart canvas')];
    return cs.some((c) => { try { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const set = new Set(); for (let i = 0; i < d.length; i += 4 * 97) set.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]); return set.size > 3; } catch (e) { return false; } });
  });
  check(inked, 'chart canvas has drawn pixels');
  // switch symbol
  await page.click('#symbols button:nth-child(2)');
  s = await st();
  check(s.cur !== null && s.bars >= 1, `symbol switch shows ${s.cur}`, s);

  // ---- server restart: the page goes down, reconnects, resyncs from a new snapshot
  const snaps = s.snapshots;
  await stopDriver(drv);
  s = await waitSt((x) => x.conn !== 'live', 8000);
  check(s.conn !== 'live', 'page notices the server is gone', s.conn);
  drv = await startDriver(port, ARGS);
  s = await waitSt((x) => x.conn === 'live' && x.snapshots > snaps && x.bars >= 1, 20000);
  check(s.conn === 'live' && s.snapshots > snaps, 'page reconnects and resyncs after restart', s);

  // phone width still renders the chart
  await page.setViewportSize({ width: 390, height: 844 });
  const chartW = () => page.evaluate(() => document.getElementById('chart').getBoundingClientRect().width);
  for (const end = Date.now() + 5000; Date.now() < end && await chartW() > 390;) await sleep(50);
  const w = await chartW();
  check(w > 300 && w <= 390, `chart fits a phone width (${Math.round(w)} px)`);
  await page.setViewportSize({ width: 1280, height: 1000 });
  await waitSt((x) => x.bars >= 3, 5000);
  const out = path.join(BUILD, 'test-artifacts');
  fs.mkdirSync(out, { recursive: true });
  await page.screenshot({ path: path.join(out, 'dashboard.png'), fullPage: true });
  console.log('screenshot: ' + path.join(out, 'dashboard.png'));
  // hundreds of trades: the markers are clustered (at most 80), the candles stay visible
  await stopDriver(drv);
  drv = await startDriver(port, ['--rate', '40', '--symbols', '1', '--candle-ms', '30', '--trade-every', '1', '--heartbeat-ms', '500']);
  const mk = () => page.evaluate(() => ({ trades: (window.__pt.trades[window.__pt.cur] || []).length,
    markers: window.__pt.markerCount, texts: window.__pt.markerTexts || [] }));
  let m = await mk();
  for (const end = Date.now() + 30000; Date.now() < end && m.trades < 150; await sleep(200)) m = await mk();
  check(m.trades >= 150 && m.markers <= 80 && m.markers < m.trades, `${m.trades} trades drawn as ${m.markers} markers`, m.texts.slice(0, 5));
  check(m.texts.some((t) => /×\d+$/.test(t)) && m.texts.every((t) => /^[BS](×\d+)?$/.test(t)),
    'clustered markers say how many trades they hold, no price labels', m.texts.slice(0, 8));
  check(consoleErrors.length === 0, 'no console errors (CSP, script)', consoleErrors.slice(0, 5));
} finally {
  await browser.close();
  await stopDriver(drv);
}
clearTimeout(hardStop);
process.exit(check.done());
