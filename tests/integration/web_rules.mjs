// The dashboard formats prices and quantities with the exchange's tick and
// lot step when the session has trading rules (docs/rules.md): a demo with
// --rules FILE (tick 0.0000001 = 7 decimals, lot step 0.01 = 2) shows the
// Trades table's prices with 7 decimals and quantities with 2, where the
// data alone would give 8 and none; the snapshot's markets carry the rules;
// the simulator's derived rules (8 decimals, lot 100) show likewise; an entry
// under min_notional shows its order_rules alert in the Alerts panel. DOM checks in
// headless Chromium (SKIP without chromium).
import fs from 'node:fs';
import path from 'node:path';
import { DATA, deadline, finish, get, ok, sleep, start, tmpdir } from './run_lib.mjs';
import { CHROMIUM, launchBrowser } from './browser_lib.mjs';

const K = process.env.PT_SANITIZE ? 3 : 1;
deadline(120000 * K);
const dir = tmpdir('ptwebrules-');
const file = path.join(dir, 'UNITTESTBTC.csv');
const lines = fs.readFileSync(path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv'), 'utf8').split('\n');
fs.writeFileSync(file, lines.slice(0, 2001).join('\n') + '\n');
const rules = path.join(dir, 'rules.json');
fs.writeFileSync(rules, JSON.stringify({ version: 1, source: 'test',
  symbols: { UNITTESTBTC: { tick_size: '0.0000001', lot_step: '0.01', min_notional: '0.001' } } }));

async function page(port) {
  const b = await launchBrowser({ timeout: 20000 * K });
  const errors = [];
  b.page.on('pageerror', (e) => errors.push(String(e)));
  let s;
  try {
    await b.page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load', timeout: 15000 * K });
    for (const end = Date.now() + 30000 * K; Date.now() < end; await sleep(100)) {
      s = await b.page.evaluate(() => ({
        rows: [...document.querySelectorAll('#trades tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent)),
        last: (document.querySelector('#hdr-last') || {}).textContent || '' }));
      if (s.rows.length >= 2) break;
    }
  } finally { await b.close(); }
  return { s, errors };
}

async function demo(name, extra) {
  const d = start(['demo', '--port', '0', '--out', path.join(dir, name), '--speed', '600', '--sizing', 'quote:1000', ...extra, file]);
  const port = Number((await d.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
  return { d, port };
}

if (!fs.existsSync(CHROMIUM)) console.log('# SKIP: no ' + CHROMIUM);
else {
  { // with the rules
    const { d, port } = await demo('rules', ['--rules', rules]);
    const st = await get(port, '/api/state');
    const m = JSON.parse(st.body).markets.UNITTESTBTC;
    ok(m.tick_size === '0.0000001' && m.lot_step === '0.01' && m.price_decimals === 7 && m.qty_decimals === 2,
      'the snapshot\'s markets carry the rules', JSON.stringify(m));
    const { s, errors } = await page(port);
    const px = s.rows.map((r) => r[4]), qty = s.rows.map((r) => r[3]);
    ok(px.length >= 2 && px.every((p) => /^0\.\d{7}$/.test(p)), `Trades prices at the tick: 7 decimals (${px.slice(0, 3)})`);
    ok(qty.length >= 2 && qty.every((q) => /^\d+\.\d{2}$/.test(q)), `Trades quantities at the lot step: 2 decimals (${qty.slice(0, 3)})`);
    ok(errors.length === 0, 'no page errors', errors.join(' | '));
    await d.stop('SIGTERM', 10000 * K);
  }
  { // a minimum order value above every entry: refused, and the page's Alerts say why
    fs.writeFileSync(path.join(dir, 'min.json'), JSON.stringify({ version: 1, source: 'test',
      symbols: { UNITTESTBTC: { min_notional: '5000' } } }));
    const { d, port } = await demo('min', ['--rules', path.join(dir, 'min.json')]);
    const b = await launchBrowser({ timeout: 20000 * K });
    let alerts = [];
    try {
      await b.page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load', timeout: 15000 * K });
      for (const end = Date.now() + 30000 * K; Date.now() < end; await sleep(100)) {
        alerts = await b.page.evaluate(() => [...document.querySelectorAll('#alerts li')].map((li) => li.textContent));
        if (alerts.some((t) => /refused: order value/.test(t))) break;
      }
    } finally { await b.close(); }
    const a = alerts.find((t) => /refused: order value/.test(t)) || '';
    ok(/buy order \d+ refused: order value [0-9.]+ is below the minimum order value 5000 \(min_notional\)/.test(a),
      `the Alerts panel shows the refusal (${a.slice(0, 160)})`, JSON.stringify(alerts.slice(0, 5)));
    await d.stop('SIGTERM', 10000 * K);
  }
  { // the simulator's own rules (tick from the data's 8 decimals, lot step 100: whole quantities)
    const { d, port } = await demo('derived', []);
    const { s } = await page(port);
    const px = s.rows.map((r) => r[4]), qty = s.rows.map((r) => r[3]);
    ok(px.length >= 2 && px.every((p) => /^0\.\d{8}$/.test(p)), `the simulator's tick: 8 decimals (${px.slice(0, 3)})`);
    ok(qty.length >= 2 && qty.every((q) => /^\d+00$/.test(q)), `its lot step 100: whole hundreds (${qty.slice(0, 3)})`);
    await d.stop('SIGTERM', 10000 * K);
  }
}
finish();
