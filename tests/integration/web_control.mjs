// Browser check of the dashboard control bar (headless Chromium against
// `papertrader demo` with an access token): read-only until the token is
// typed, a wrong token is refused and forgotten, Pause shows "entries
// paused", Resume clears it, Close on a position row exits with reason
// manual_close, Flatten asks for confirmation. SKIPs only without chromium.
import fs from 'node:fs';
import path from 'node:path';
import { DATA, deadline, finish, ok, sleep, start, tmpdir } from './run_lib.mjs';

import { CHROMIUM, launchBrowser } from './browser_lib.mjs';

if (!fs.existsSync(CHROMIUM)) { console.log('SKIP: web_control needs ' + CHROMIUM + ' (not installed)'); process.exit(0); }

deadline(60000);
const TOKEN = 'web-ctl-' + process.pid + '-c0ffee';
const dir = tmpdir('ptwebctl-');
const file = path.join(dir, 'BTCUSDT.csv');
const lines = fs.readFileSync(path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv'), 'utf8').split('\n');
fs.writeFileSync(file, lines.slice(0, 2001).join('\n') + '\n');
const d = start(['demo', '--port', '0', '--out', path.join(dir, 'out'), '--speed', '1500', '--quiet',
  '--strategy', 'ema_cross', '--param', 'fast=3', '--param', 'slow=9', '--min-quality', '0', file],
{ PAPERTRADER_SERVER_TOKEN: TOKEN });
const port = Number((await d.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);

const browser = await launchBrowser();
const errors = [];
try {
  const page = browser.page;
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const dialogs = [];
  page.on('dialog', (dg) => { dialogs.push(dg.message()); dg.accept(); });
  await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load', timeout: 15000 });
  const ui = () => page.evaluate(() => {
    const vis = (id) => { const e = document.getElementById(id); return !!e && !e.hidden && e.offsetParent !== null; };
    return { conn: window.__pt.conn, ctl: vis('ctl'), auth: vis('ctl-auth'), bar: vis('ctl-bar'), paused: vis('paused'),
      pausedText: document.getElementById('paused').textContent, result: document.getElementById('ctl-result').textContent,
      closeButtons: document.querySelectorAll('#positions .ctl-close').length,
      reasons: [...document.querySelectorAll('#trades tbody tr')].map((r) => r.lastChild.textContent) };
  });
  const until = async (pred, ms = 15000) => { const end = Date.now() + ms; let s; while (Date.now() < end) { s = await ui(); if (pred(s)) return s; await sleep(100); } return ui(); };

  let s = await until((x) => x.conn === 'live' && x.ctl);
  ok(s.ctl && s.auth && !s.bar, 'read-only: token field shown, control bar hidden', JSON.stringify(s));
  ok(s.closeButtons === 0, 'no Close buttons without the token');

  await page.fill('#ctl-token', 'wrong-token');
  await page.click('#ctl-auth button[type=submit]');
  s = await until((x) => /invalid token/.test(x.result));
  ok(/invalid token/.test(s.result) && !s.bar, 'a wrong token is refused', JSON.stringify(s));
  ok(await page.evaluate(() => sessionStorage.getItem('pt_token')) === null, 'the wrong token is forgotten');
  s = await until((x) => x.conn === 'live');

  await page.fill('#ctl-token', TOKEN);
  await page.click('#ctl-auth button[type=submit]');
  s = await until((x) => x.bar);
  ok(s.bar && !s.auth, 'with the token the control bar appears', JSON.stringify(s));

  await page.click('#ctl-pause');
  s = await until((x) => x.paused && x.pausedText === 'entries paused' && /pause: accepted/.test(x.result));
  ok(s.paused && s.pausedText === 'entries paused', '"entries paused" shown after Pause', JSON.stringify(s));
  ok(/pause: accepted/.test(s.result), 'the pause result is shown', s.result);
  ok(await page.isDisabled('#ctl-pause') && !(await page.isDisabled('#ctl-resume')), 'Pause disabled, Resume enabled while paused');
  await page.click('#ctl-resume');
  s = await until((x) => !x.paused && /resume: accepted/.test(x.result));
  ok(!s.paused, 'Resume clears the paused badge', JSON.stringify(s));

  s = await until((x) => x.closeButtons > 0, 20000);
  ok(s.closeButtons > 0, 'a Close button on the open position row');
  await page.click('#positions .ctl-close');
  s = await until((x) => x.reasons.includes('manual_close') || /refused/.test(x.result), 15000);
  ok(dialogs.some((m) => /Close the BTCUSDT position/.test(m)), 'Close asks for confirmation');
  ok(s.reasons.includes('manual_close') || /no open position/.test(s.result),
    'Close: a manual_close trade row (or the position was already gone)', JSON.stringify(s));

  await page.click('#ctl-flatten');
  s = await until((x) => /flatten: accepted/.test(x.result));
  ok(dialogs.some((m) => /^Flatten/.test(m)), 'Flatten asks for confirmation');
  ok(/flatten: accepted/.test(s.result), 'the flatten result is shown', s.result);
  const js = fs.readFileSync(path.join(process.env.PT_SOURCE_DIR || '.', 'web', 'app.js'), 'utf8');
  ok(!/innerHTML|insertAdjacentHTML|outerHTML/.test(js), 'app.js renders with textContent only');
  ok(errors.length === 0, 'no console errors', errors.join(' | '));
} catch (e) {
  ok(false, 'web control scenario', String(e && e.stack || e));
} finally {
  await browser.close();
  await d.stop('SIGTERM', 5000);
}
finish();
