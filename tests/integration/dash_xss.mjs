// Stored XSS through data: a symbol name that is
// HTML reaches the dashboard in a real browser through every path a symbol
// takes (snapshot, candles, quality, positions, trades, alerts). It must
// show as literal text: no element from it, no script run, no dialog, no
// CSP refusal (a refusal would mean the markup was parsed).
import { launchBrowser } from './browser_lib.mjs';
import { freePort, makeChecker, sleep, startDriver, stopDriver } from './wss_lib.mjs';

const check = makeChecker('dash_xss');
const K = process.env.PT_SANITIZE ? 3 : 1;
const EVIL = '<img src=x onerror=alert(1)><b>pwn</b>';
const hard = setTimeout(() => { console.log('not ok - timed out'); process.exit(1); }, 60000 * K);

const port = await freePort();
const drv = await startDriver(port, ['--rate', '40', '--symbols', '2', '--candle-ms', '300', '--trade-every', '1',
  '--name0', EVIL]);
const b = await launchBrowser({ timeout: 20000 * K });
if (!b) {
  console.log('SKIP: dash_xss needs /usr/bin/chromium');
  await stopDriver(drv);
  process.exit(0);
}
const dialogs = [], errors = [];
b.page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
b.page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
b.page.on('pageerror', (e) => errors.push(String(e)));
try {
  await b.page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load', timeout: 15000 * K });
  const seen = await b.page.waitForFunction((s) => document.body.innerText.includes(s), EVIL, { timeout: 15000 * K })
    .then(() => true).catch(() => false);
  check(seen, 'the hostile symbol is shown as literal text');
  // candles, trades, quality and alerts for it keep coming: wait until it is in several places
  const look = () => b.page.evaluate(() => ({
    imgs: document.querySelectorAll('img[src="x"]').length,
    bolds: [...document.querySelectorAll('b')].filter((e) => e.textContent === 'pwn').length,
    count: document.body.innerText.split('<img src=x').length - 1,
  }));
  let dom = await look();
  for (const end = Date.now() + 15000 * K; Date.now() < end && dom.count < 3; dom = await look()) await sleep(200);
  check(dom.imgs === 0 && dom.bolds === 0, 'no element was created from it', dom);
  check(dom.count >= 2, `it appears as text in several places (${dom.count})`);
  check(dialogs.length === 0, 'no dialog fired', dialogs);
  check(!errors.some((e) => /Content Security Policy|inline/i.test(e)), 'no CSP refusal (nothing was parsed as markup)', errors);
} catch (e) {
  check(false, 'dash_xss run', String(e && e.stack || e));
} finally {
  await b.close();
  await stopDriver(drv);
  clearTimeout(hard);
}
process.exit(check.done());
