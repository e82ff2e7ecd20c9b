// optimize's report.html opened from file:// in headless Chromium with every
// non-file request aborted: the ranked table, the heatmap (one cell per
// pair of the two grid parameters) and a sensitivity table per parameter
// are drawn, with no page error; the same for walk-forward's page (summary,
// in- vs out-of-sample bars, stitched equity, folds). SKIPs only without chromium.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { launchBrowser } from './browser_lib.mjs';
import { BIN, DATA, ok, finish, deadline, tmpdir } from './run_lib.mjs';

deadline(120000);
const dir = path.join(tmpdir('pt-optrep-'), 'opt');
const r = spawnSync(BIN, ['optimize', '--strategy', 'sma_cross', '--grid', 'fast=5,8,10', '--grid', 'slow=20:40:10',
  '--quiet', '--out', dir, path.join(DATA, 'freqtrade_ADA-BTC_5m.csv')], { encoding: 'utf8', timeout: 60000 });
ok(r.status === 0, 'optimize exits 0', (r.stderr || '').slice(-300));
const html = path.join(dir, 'report.html');
const text = fs.existsSync(html) ? fs.readFileSync(html, 'utf8') : '';
ok((text.match(/<\/script/gi) || []).length === 2, 'page closes exactly its two script blocks');
ok(!/\b(src|href)\s*=\s*["']?(https?:|\/\/)/i.test(text), 'page references no external URL');
const wdir = path.join(path.dirname(dir), 'wf');
const w = spawnSync(BIN, ['walk-forward', '--strategy', 'sma_cross', '--grid', 'fast=5,10', '--grid', 'slow=30,50',
  '--train', '5d', '--test', '2d', '--quiet', '--out', wdir, path.join(DATA, 'freqtrade_ADA-BTC_5m.csv')],
{ encoding: 'utf8', timeout: 60000 });
ok(w.status === 0 && fs.existsSync(path.join(wdir, 'report.html')), 'walk-forward writes report.html', (w.stderr || '').slice(-300));
const b = await launchBrowser();
if (!b) {
  console.log('SKIP: optimize_report needs /usr/bin/chromium');
} else {
  const errors = [], blocked = [];
  await b.ctx.route('**', (rt) => (rt.request().url().startsWith('file:') ? rt.continue() : rt.abort()));
  b.page.on('pageerror', (e) => errors.push(String(e)));
  b.page.on('requestfailed', (q) => { if (!q.url().startsWith('file:')) blocked.push(q.url()); });
  await b.page.goto(pathToFileURL(html).href, { waitUntil: 'load', timeout: 20000 });
  await b.page.waitForFunction(() => window.__report && window.__report.ready, null, { timeout: 15000 });
  const st = await b.page.evaluate(() => ({ ...window.__report,
    ranked: document.querySelectorAll('#ranked tbody tr').length,
    heat: document.querySelectorAll('#heatmap td').length,
    sens: document.querySelectorAll('#sensitivity table').length }));
  const rows = fs.readFileSync(path.join(dir, 'results.csv'), 'utf8').trim().split('\n').length - 1;
  ok(st.errors.length === 0 && errors.length === 0, 'no page error', [st.errors, errors]);
  ok(st.ranked === rows && st.rows === rows, `ranked table has the ${rows} rows of results.csv`, st);
  ok(st.heat === 9, 'heatmap has 3 x 3 cells', st);
  ok(st.sens === 2, 'one sensitivity table per grid parameter', st);
  ok(blocked.length === 0, 'no network request', blocked);
  await b.page.goto(pathToFileURL(path.join(wdir, 'report.html')).href, { waitUntil: 'load', timeout: 20000 });
  await b.page.waitForFunction(() => window.__report && window.__report.ready, null, { timeout: 15000 });
  const ws = await b.page.evaluate(() => ({ ...window.__report,
    rows: document.querySelectorAll('#folds tbody tr').length,
    summary: document.querySelectorAll('#summary tr').length }));
  const nf = fs.readFileSync(path.join(wdir, 'folds.csv'), 'utf8').trim().split('\n').length - 1;
  ok(ws.errors.length === 0 && errors.length === 0, 'walk-forward page: no page error', [ws.errors, errors]);
  ok(ws.rows === nf && ws.folds === nf, `walk-forward page: the ${nf} folds of folds.csv`, ws);
  ok(ws.bars === 2 * nf && ws.points > 100 && ws.summary > 5, 'walk-forward page: bars, equity and summary drawn', ws);
  ok(blocked.length === 0, 'walk-forward page: no network request', blocked);
  await b.close();
}
finish();
