// Browser check of the dashboard control bar (headless Chromium against
// `papertrader demo` with an access token from --token-file): read-only
// until the token is typed, a wrong token is refused and forgotten, Pause
// shows "entries paused", Resume clears it, Close on a position row exits
// with reason manual_close, Flatten asks for confirmation. Also: the Close
// button stays the same element while prices tick (rows updated in place),
// prices show the sample's precision (~0.0016, never 0.00), alerts raised
// before the page opened come with the snapshot, in UTC, and the page says
// "session ended (signal)" when the session stops. A token file readable by
// others is refused. SKIPs only without chromium.
import fs from 'node:fs';
import path from 'node:path';
import { DATA, deadline, finish, ok, sleep, start, tmpdir } from './run_lib.mjs';

import { CHROMIUM, launchBrowser } from './browser_lib.mjs';

if (!fs.existsSync(CHROMIUM)) { console.log('SKIP: web_control needs ' + CHROMIUM + ' (not installed)'); process.exit(0); }

const K = process.env.PT_SANITIZE ? 3 : 1;
deadline(120000 * K);
const TOKEN = 'web-ctl-' + process.pid + '-c0ffee';
const dir = tmpdir('ptwebctl-');
const file = path.join(dir, 'UNITTESTBTC.csv');
const lines = fs.readFileSync(path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv'), 'utf8').split('\n');
fs.writeFileSync(file, lines.slice(0, 2001).join('\n') + '\n');
const tokFile = path.join(dir, 'token');
fs.writeFileSync(tokFile, TOKEN + '\n', { mode: 0o644 });
fs.chmodSync(tokFile, 0o644);
const args = ['demo', '--port', '0', '--speed', '1500', '--quiet', '--token-file', tokFile,
  '--strategy', 'ema_cross', '--param', 'fast=3', '--param', 'slow=9', '--min-quality', '0', file];
const env = { PAPERTRADER_SERVER_TOKEN: '' };

{ // a token file others can read is refused before anything is served
  const bad = start([...args.slice(0, 3), '--out', path.join(dir, 'bad'), ...args.slice(3)], env);
  const code = await bad.exited;
  ok(code !== 0 && /token-file .*token: .*mode 0600/.test(bad.err) && /readable by others/.test(bad.err),
    `a token file with mode 0644 is refused with a clear error (exit ${code})`, bad.err.slice(-400));
}
fs.chmodSync(tokFile, 0o600);
const d = start([...args.slice(0, 3), '--out', path.join(dir, 'out'), ...args.slice(3)], env);
const port = Number((await d.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);

const browser = await launchBrowser({ timeout: 20000 * K });
const errors = [];
try {
  const page = browser.page;
  page.setDefaultTimeout(30000 * K);
  page.on('console', (m) => { if (m.type() === 'error' && !/WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/.test(m.text())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const dialogs = [];
  page.on('dialog', (dg) => { dialogs.push(dg.message()); dg.accept(); });
  await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load', timeout: 15000 * K });
  const ui = () => page.evaluate(() => {
    const vis = (id) => { const e = document.getElementById(id); return !!e && !e.hidden && e.offsetParent !== null; };
    const cells = (sel) => [...document.querySelectorAll(sel + ' tbody tr')].map((r) => [...r.children].map((c) => c.textContent));
    return { conn: window.__pt.conn, ctl: vis('ctl'), auth: vis('ctl-auth'), bar: vis('ctl-bar'), paused: vis('paused'),
      pausedText: document.getElementById('paused').textContent, result: document.getElementById('ctl-result').textContent,
      closeButtons: document.querySelectorAll('#positions .ctl-close').length,
      reasons: [...document.querySelectorAll('#trades tbody tr')].map((r) => r.lastChild.textContent),
      trades: cells('#trades'), positions: cells('#positions'), last: document.getElementById('last-price').textContent,
      alerts: [...document.querySelectorAll('#alerts li')].map((e) => e.textContent),
      ended: vis('ended') ? document.getElementById('ended').textContent : '', dp: window.__pt.dp[window.__pt.cur] };
  });
  const until = async (pred, ms = 15000) => { const end = Date.now() + ms * K; let s; while (Date.now() < end) { s = await ui(); if (pred(s)) return s; await sleep(100); } return ui(); };

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
  ok(s.bar && !s.auth, "with the token file's token the control bar appears", JSON.stringify(s));

  await page.click('#ctl-pause');
  s = await until((x) => x.paused && x.pausedText === 'entries paused' && /pause: accepted/.test(x.result));
  ok(s.paused && s.pausedText === 'entries paused', '"entries paused" shown after Pause', JSON.stringify(s));
  ok(/pause: accepted/.test(s.result), 'the pause result is shown', s.result);
  ok(await page.isDisabled('#ctl-pause') && !(await page.isDisabled('#ctl-resume')), 'Pause disabled, Resume enabled while paused');
  await page.click('#ctl-resume');
  s = await until((x) => !x.paused && /resume: accepted/.test(x.result));
  ok(!s.paused, 'Resume clears the paused badge', JSON.stringify(s));
  ok(s.alerts.some((a) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ info: control pause accepted/.test(a)),
    'the control alert is listed with a UTC ISO time', JSON.stringify(s.alerts.slice(0, 3)));

  // the Close button is the same element while prices tick (rows updated in place)
  s = await until((x) => x.closeButtons > 0, 20000);
  ok(s.closeButtons > 0, 'a Close button on the open position row');
  // Watch the positions table while updates arrive: a row is never removed
  // and re-added for the same symbol in one update, and a Close button is
  // never detached while its row stays (the old page rebuilt both each time).
  const watchOnce = () => page.evaluate((ms) => new Promise((resolve) => {
    const tb = document.querySelector('#positions tbody');
    const r = { batches: 0, rebuilt: 0, detached: 0, events0: window.__pt.events };
    const obs = new MutationObserver((recs) => {
      r.batches++;
      const gone = new Set();
      for (const m of recs) {
        for (const n of m.removedNodes) {
          if (n.nodeName === 'TR') gone.add(n.dataset.key);
          if (n.nodeName === 'BUTTON' && m.target.isConnected) r.detached++;
        }
      }
      for (const m of recs) for (const n of m.addedNodes) if (n.nodeName === 'TR' && gone.has(n.dataset.key)) r.rebuilt++;
    });
    obs.observe(tb, { childList: true, subtree: true, characterData: true });
    const end = Date.now() + ms;
    const tick = () => {
      if (r.batches >= 20 || Date.now() > end) { obs.disconnect(); r.events = window.__pt.events - r.events0; resolve(r); }
      else setTimeout(tick, 50);
    };
    tick();
  }), 10000 * K);
  // a position can close while we watch (no more changes then): watch again, up to 4 times
  const watch = { batches: 0, rebuilt: 0, detached: 0, events: 0 };
  for (let i = 0; i < 4 && watch.batches < 20; i++) {
    await until((x) => x.closeButtons > 0, 20000);
    const w = await watchOnce();
    for (const k of Object.keys(watch)) watch[k] += w[k];
  }
  ok(watch.batches >= 20 && watch.rebuilt === 0 && watch.detached === 0,
    `positions rows updated in place over ${watch.events} updates (${watch.batches} changes, no rebuilt row, no detached button)`,
    JSON.stringify(watch));
  s = await until((x) => x.closeButtons > 0, 20000);

  // prices as the instrument quotes them: the sample trades at ~0.0016
  ok(s.dp >= 5 && /^0\.00\d{3,}/.test(s.last) && / BTC$/.test(s.last), `header price with the symbol's precision and quote (${s.last})`);
  const p = s.positions[0] || [];
  ok(/^0\.00[0-9]*[1-9]/.test(p[2]) && /^0\.00[0-9]*[1-9]/.test(p[3]), `Positions avg/last are not 0.00 (${p[2]} / ${p[3]})`, JSON.stringify(p));
  ok(s.trades.length > 0 && s.trades.every((r) => /^0\.00[0-9]*[1-9]/.test(r[4])), 'Trades price column with the precision', JSON.stringify(s.trades[0]));
  ok(s.trades.every((r) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/.test(r[0])), 'trade times in UTC ISO', JSON.stringify(s.trades[0]));
  const mk = await page.evaluate(() => window.__pt.markerTexts || []);
  ok(mk.length > 0 && mk.every((t) => !/ 0\.00$/.test(t)), `trade markers carry real prices (${mk.slice(0, 3)})`);

  await page.click('#positions .ctl-close');
  // The strategy may close the position itself before the next candle: then
  // the engine says so (an alert, or the control is refused), else a fill.
  const gone = (x) => /no open position/.test(x.result) || x.alerts.some((a) => /manual close: no position/.test(a));
  s = await until((x) => x.reasons.includes('manual_close') || /refused/.test(x.result) || gone(x), 15000);
  ok(dialogs.some((m) => /Close the UNITTESTBTC position/.test(m)), 'Close asks for confirmation');
  ok(s.reasons.includes('manual_close') || gone(s),
    'Close: a manual_close trade row (or the position was already gone)', JSON.stringify({ result: s.result, alerts: s.alerts.slice(0, 3) }));

  await page.click('#ctl-flatten');
  s = await until((x) => /flatten: accepted/.test(x.result));
  ok(dialogs.some((m) => /^Flatten/.test(m)), 'Flatten asks for confirmation');
  ok(/flatten: accepted/.test(s.result), 'the flatten result is shown', s.result);

  // a page opened now gets the alerts raised before it (alert history in the snapshot)
  await page.reload({ waitUntil: 'load' });
  s = await until((x) => x.conn === 'live' && x.alerts.length > 0);
  ok(s.alerts.some((a) => /control flatten accepted/.test(a)) && s.alerts.some((a) => /control pause accepted/.test(a)),
    'alerts raised before the page opened are listed', JSON.stringify(s.alerts.slice(0, 4)));
  // hundreds of trades do not hide the candles: at most 80 markers, clustered past that
  const mks = await page.evaluate(() => ({ trades: (window.__pt.trades[window.__pt.cur] || []).length,
    markers: window.__pt.markerCount, texts: window.__pt.markerTexts }));
  ok(mks.markers > 0 && mks.markers <= 80 && (mks.trades <= 80 || mks.markers < mks.trades),
    `${mks.trades} trades drawn as ${mks.markers} markers`, JSON.stringify(mks.texts.slice(0, 5)));
  ok(mks.markers <= 12 || mks.texts.every((t) => /^[BS](×\d+)?$/.test(t)), 'no price labels on a crowded chart', JSON.stringify(mks.texts.slice(0, 5)));

  const rate = await page.evaluate(() => { const dts = [...document.querySelectorAll('#health dt')];
    const i = dts.findIndex((e) => e.textContent === 'msgs/s (this page)'); return i < 0 ? null : dts[i].nextSibling.textContent; });
  ok(rate !== null && Number(rate) > 0, `msgs/s is what this page receives (${rate})`);
  // quality events in words: UTC time, what was found, the values; no raw codes or epoch ms
  const issues = await page.evaluate(() => [...document.querySelectorAll('#q-issues li')].map((e) => e.textContent));
  ok(issues.length > 0 && issues.every((t) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ — .+\(candle (kept, flagged|rejected)\)$/.test(t)
    && !/\d{13}|accept_flagged/.test(t)), `quality events in words (${issues[0]})`, JSON.stringify(issues.slice(0, 3)));
  ok(issues.some((t) => /0\.00\d+/.test(t)), 'quality events carry the values involved', JSON.stringify(issues.slice(0, 3)));
  // every column of Positions and Open orders visible at 1280 px, and reachable at 800 px
  const cols = (w) => page.setViewportSize({ width: w, height: 900 }).then(() => page.evaluate(() => {
    const r = {};
    for (const id of ['positions', 'orders']) {
      const t = document.getElementById(id), wrap = t.parentElement, box = wrap.getBoundingClientRect();
      const ths = [...t.querySelectorAll('thead th')].filter((th) => th.textContent);
      r[id] = { n: ths.length, inside: ths.filter((th) => { const b = th.getBoundingClientRect(); return b.width > 0 && b.left >= box.left - 1 && b.right <= box.right + 1; }).length,
        scroll: wrap.scrollWidth > wrap.clientWidth, overflow: getComputedStyle(wrap).overflowX };
    }
    return r;
  }));
  let lay = await cols(1280);
  ok(lay.positions.inside === lay.positions.n && lay.orders.inside === lay.orders.n && lay.orders.n === 6,
    'at 1280 px every Positions and Open orders column is visible', JSON.stringify(lay));
  lay = await cols(800);
  ok((lay.positions.inside === lay.positions.n || lay.positions.overflow === 'auto') && (lay.orders.inside === lay.orders.n || lay.orders.overflow === 'auto'),
    'at 800 px the columns are visible or scroll inside the card', JSON.stringify(lay));
  await page.setViewportSize({ width: 1280, height: 1000 });

  const js = fs.readFileSync(path.join(process.env.PT_SOURCE_DIR || '.', 'web', 'app.js'), 'utf8');
  ok(!/innerHTML|insertAdjacentHTML|outerHTML/.test(js), 'app.js renders with textContent only');

  // the session stops: the page says so, with the reason
  const code = await d.stop('SIGTERM', 10000 * K);
  ok(code === 0, `demo stops cleanly on SIGTERM (exit ${code})`);
  s = await until((x) => x.ended !== '', 10000);
  ok(/^session ended \(signal\)$/.test(s.ended), `"session ended (reason)" banner (${s.ended})`);
  ok(errors.length === 0, 'no console errors', errors.join(' | '));
} catch (e) {
  ok(false, 'web control scenario', String(e && e.stack || e));
} finally {
  await browser.close();
  await d.stop('SIGTERM', 5000);
}
finish();
