// The dashboard is built into the executable: a session whose web folder is
// missing or broken warns and serves the built-in copy (and keeps running);
// a complete folder given with --web-dir overrides it. Headless Chromium
// checks the built-in page draws. SKIPs the browser part only without chromium.
import fs from 'node:fs';
import path from 'node:path';
import { DATA, SRC, deadline, finish, get, ok, sleep, start, tmpdir } from './run_lib.mjs';
import { CHROMIUM, launchBrowser } from './browser_lib.mjs';

const K = process.env.PT_SANITIZE ? 3 : 1;
deadline(90000 * K);
const dir = tmpdir('ptwebbuiltin-');
const file = path.join(dir, 'UNITTESTBTC.csv');
const lines = fs.readFileSync(path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv'), 'utf8').split('\n');
fs.writeFileSync(file, lines.slice(0, 3001).join('\n') + '\n');
const srcIndex = fs.readFileSync(path.join(SRC, 'web', 'index.html'), 'utf8');
const srcVendor = fs.statSync(path.join(SRC, 'node_modules', 'lightweight-charts', 'dist',
  'lightweight-charts.standalone.production.js')).size;

async function session(name, webDir, extra = []) {
  const d = start(['demo', '--port', '0', '--out', path.join(dir, name), '--speed', '300', '--web-dir', webDir, ...extra, file]);
  const port = Number((await d.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
  return { d, port };
}

{ // no web folder at all
  const { d, port } = await session('missing', path.join(dir, 'no-such-folder'), ['--strategy', 'macd']);
  const idx = await get(port, '/');
  const js = await get(port, '/vendor/lightweight-charts.js');
  const fmt = await get(port, '/fmt.js');
  ok(idx.status === 200 && idx.body === srcIndex, 'missing web folder: / serves the built-in index.html', idx.status);
  ok(js.status === 200 && js.body.length > 0.9 * srcVendor, `built-in chart library served (${js.body.length} bytes)`);
  ok(fmt.status === 200 && /PTFmt/.test(fmt.body), 'built-in fmt.js served');
  ok(/web dir .*no-such-folder.*No such file/.test(d.err) && /serving the built-in dashboard/.test(d.err),
    'the missing folder is a warning naming it', d.err.slice(0, 400));
  if (fs.existsSync(CHROMIUM)) {
    const b = await launchBrowser({ timeout: 20000 * K });
    const errors = [];
    b.page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await b.page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load', timeout: 15000 * K });
      let s;
      for (const end = Date.now() + 15000 * K; Date.now() < end; await sleep(100)) {
        s = await b.page.evaluate(() => ({ conn: window.__pt && window.__pt.conn, bars: window.__pt ? (window.__pt.candles[window.__pt.cur] || []).length : 0,
          canvases: document.querySelectorAll('#chart canvas').length,
          legend: [...document.querySelectorAll('#legend .legend-item')].map((e) => e.textContent) }));
        if (s.conn === 'live' && s.bars > 5 && s.legend.length === 3) break;
      }
      ok(s.conn === 'live' && s.bars > 5 && s.canvases > 0, `the built-in page draws the session (${s.bars} bars)`, JSON.stringify(s));
      // the strategy's own indicator names; an oscillator (MACD, far from the price) in a pane of its own
      ok(JSON.stringify(s.legend) === JSON.stringify(['macd (lower pane)', 'signal (lower pane)', 'hist (lower pane)']),
        `legend names the strategy's indicators (${s.legend})`, JSON.stringify(s.legend));
      ok(errors.length === 0, 'no page errors', errors.join(' | '));
    } finally { await b.close(); }
  } else console.log('# SKIP browser part: no ' + CHROMIUM);
  ok(d.code === null, 'the session keeps running');
  await d.stop('SIGTERM', 10000 * K);
  ok(d.code === 0, `and stops cleanly (exit ${d.code})`);
}
{ // broken folder: files but no index.html
  const broken = path.join(dir, 'broken');
  fs.mkdirSync(broken);
  fs.writeFileSync(path.join(broken, 'style.css'), 'body{}');
  const { d, port } = await session('broken', broken);
  const idx = await get(port, '/');
  const css = await get(port, '/style.css');
  ok(idx.status === 200 && idx.body === srcIndex && css.body !== 'body{}', 'broken folder: the whole built-in copy is served');
  ok(/has no index.html or app.js/.test(d.err), 'the broken folder is a warning', d.err.slice(0, 400));
  await d.stop('SIGTERM', 10000 * K);
}
{ // a complete folder overrides the built-in copy
  const own = path.join(dir, 'own');
  fs.mkdirSync(own);
  for (const f of fs.readdirSync(path.join(SRC, 'web'))) fs.copyFileSync(path.join(SRC, 'web', f), path.join(own, f));
  fs.writeFileSync(path.join(own, 'index.html'), srcIndex.replace('<title>papertrader</title>', '<title>own copy</title>'));
  const { d, port } = await session('own', own);
  const idx = await get(port, '/');
  ok(idx.status === 200 && /<title>own copy<\/title>/.test(idx.body), '--web-dir with a complete folder overrides the built-in copy');
  ok(!/built-in/.test(d.err), 'no fallback warning then', d.err.slice(0, 300));
  await d.stop('SIGTERM', 10000 * K);
}
finish();
