#!/usr/bin/env node
// Screenshot of the demo's dashboard in headless Chromium (`make screenshot`).
//   node scripts/screenshot.mjs [--build DIR] [--case demo|btc|two] [--out FILE] [--width PX] [-- DEMO ARGS]
// demo: `papertrader demo` on the shipped sample (UNITTESTBTC, ~0.0016 BTC),
//       written to docs/img/dashboard.png by default;
// btc:  the sample scaled to a ~40,000 USDT price (SCALEDUSDT), to look at
//       large prices;
// two:  both at once (two symbols).
// The page is taken once it has candles, indicator lines, trades and an open position
// (polled, with a deadline), 1280 px wide by default, in UTC.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const BUILD = path.resolve(arg('--build', path.join(ROOT, 'build')));
const CASE = arg('--case', 'demo');
const OUT = path.resolve(arg('--out', CASE === 'demo' ? path.join(ROOT, 'docs', 'img', 'dashboard.png')
  : path.join(BUILD, 'test-artifacts', `dashboard-${CASE}.png`)));
const CHROMIUM = '/usr/bin/chromium';
const WIDTH = Number(arg('--width', 1280));
const EXTRA = process.argv.includes('--') ? process.argv.slice(process.argv.indexOf('--') + 1) : [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sampleFiles(dir) {
  const sample = path.join(ROOT, 'data', 'freqtrade_UNITTEST-BTC_1m.csv');
  const lines = fs.readFileSync(sample, 'utf8').split('\n').filter(Boolean);
  const a = path.join(dir, 'UNITTESTBTC.csv');
  fs.writeFileSync(a, lines.join('\n') + '\n');
  const b = path.join(dir, 'SCALEDUSDT.csv'); /* the same market, prices x 2.5e7: a BTC-sized price */
  fs.writeFileSync(b, [lines[0], ...lines.slice(1).map((l) => {
    const f = l.split(',');
    for (let i = 1; i <= 4; i++) f[i] = (Number(f[i]) * 2.5e7).toFixed(2);
    return f.join(',');
  })].join('\n') + '\n');
  return CASE === 'btc' ? [b] : CASE === 'two' ? [a, b] : [];
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-shot-'));
const files = sampleFiles(tmp);
const demo = spawn(path.join(BUILD, 'papertrader'), ['demo', '--port', '0', '--speed', '600', '--quiet',
  '--out', path.join(tmp, 'out'), ...EXTRA, ...files], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TZ: 'UTC' } });
let code = 1, browser;
try {
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    demo.stdout.on('data', (d) => { buf += d; const m = buf.match(/dashboard: http:\/\/127\.0\.0\.1:(\d+)\//); if (m) resolve(Number(m[1])); });
    demo.on('exit', (c) => reject(new Error('demo exited ' + c)));
    setTimeout(() => reject(new Error('no dashboard URL')), 20000);
  });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  const page = await browser.newPage({ viewport: { width: WIDTH, height: 1000 }, timezoneId: 'UTC' });
  await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load' });
  const ready = () => page.evaluate(() => {
    const s = window.__pt;
    return s && s.conn === 'live' && (s.candles[s.cur] || []).length >= 150 && s.markerCount >= 4 &&
      document.querySelectorAll('#legend .legend-item').length > 0 && document.querySelectorAll('#trades tbody tr').length >= 4 &&
      document.querySelectorAll('#positions tbody tr').length > 0; /* a position open, so its row shows */
  });
  for (const end = Date.now() + 60000; Date.now() < end && !(await ready());) await sleep(200);
  if (!(await ready())) throw new Error('the page never had candles, indicators, trades and a position');
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  await page.screenshot({ path: OUT, fullPage: true });
  console.log(OUT);
  code = 0;
} catch (e) {
  console.error('screenshot: ' + (e && e.message || e));
} finally {
  if (browser) await browser.close();
  demo.kill('SIGTERM');
  await new Promise((r) => (demo.exitCode !== null ? r() : demo.on('exit', r)));
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
