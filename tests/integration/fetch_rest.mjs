// papertrader fetch against a fake REST server on a free loopback port:
// paging, CSV equal to the source rows, Retry-After honoured on 429/418
// (proved by server-side request times), clamping, missing/negative header,
// garbage body retried, Bitvavo newest-first order, bad symbol, usage errors.
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCsv, startRest } from '../peers/fake_rest.mjs';

const BIN = process.env.PT_BIN;
const DATA = process.env.PT_SHARED_DATA || '/work/shared/data';
let pass = 0, fail = 0;
const ok = (c, what, extra = '') => {
  if (c) { pass++; console.log(`ok - ${what}`); } else { fail++; console.log(`not ok - ${what} ${extra}`); }
};
setTimeout(() => { console.log('not ok - timed out'); process.exit(1); }, 90000).unref();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ptfetch-'));
const rows = loadCsv(path.join(DATA, 'freqtrade_XRP-ETH_1m.csv'));
const since = rows[0].t, until = rows[rows.length - 1].t + 60000;

function run(args) {
  return new Promise((resolve) => {
    const p = spawn(BIN, ['fetch', ...args], { env: { ...process.env, http_proxy: 'http://127.0.0.1:9' } });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, err }));
  });
}

function sameCsv(file, expect) {
  const got = fs.readFileSync(file, 'utf8').trim().split('\n');
  if (got[0] !== 'timestamp,open,high,low,close,volume') return 'bad header ' + got[0];
  if (got.length - 1 !== expect.length) return `rows ${got.length - 1} != ${expect.length}`;
  for (let i = 0; i < expect.length; i++) {
    const f = got[i + 1].split(',');
    const e = expect[i];
    if (Number(f[0]) !== e.t) return `row ${i}: ts ${f[0]} != ${e.t}`;
    const want = [e.o, e.h, e.l, e.c, e.v].map(Number);
    for (let j = 0; j < 5; j++) if (Number(f[j + 1]) !== want[j]) return `row ${i} field ${j}: ${f[j + 1]} != ${want[j]}`;
  }
  return null;
}

// 1. Binance flavour with faults between pages
{
  const plan = [
    { status: 429, retryAfter: 2 }, 'ok',
    { status: 418, retryAfter: 1 },
    { status: 429 },                        // no header -> jittered, >= 1 s
    { status: 429, retryAfter: -5 },        // negative -> treated as >= 1 s
    { status: 200, body: '<html>oops</html>' }, // garbage with 200 -> retried
    { status: 429, retryAfter: 999999999 }, // clamped to --max-retry-after 2
  ];
  const s = await startRest({ rows, symbol: 'XRPETH', plan });
  const out = path.join(tmp, 'bn.csv');
  const r = await run(['--exchange', 'binance', '--symbol', 'XRPETH', '--interval', '1m', '--since', String(since),
    '--until', String(until), '-o', out, '--rest-url', `http://127.0.0.1:${s.port}`, '--max-retry-after', '2']);
  ok(r.code === 0, 'binance fetch exits 0', r.err);
  const diff = r.code === 0 ? sameCsv(out, rows) : 'no file';
  ok(diff === null, 'CSV equals the source rows', diff || '');
  const q = s.requests;
  const gap = (i) => q[i + 1].t - q[i].t;
  ok(q.length >= 10, `paged (${q.length} requests)`);
  ok(gap(0) >= 1990, `no request before Retry-After 2 s (waited ${gap(0)} ms)`);
  ok(gap(2) >= 990, `418 ban of 1 s honoured (waited ${gap(2)} ms)`);
  ok(gap(3) >= 990, `missing Retry-After -> at least 1 s (${gap(3)} ms)`);
  ok(gap(4) >= 990, `negative Retry-After -> at least 1 s (${gap(4)} ms)`);
  ok(gap(6) >= 1990 && gap(6) < 5000, `huge Retry-After clamped to 2 s (${gap(6)} ms)`);
  ok(/clamped/.test(r.err), 'clamping is logged');
  const starts = q.filter((x) => x.status === 200).map((x) => Number(x.query.startTime));
  ok(starts[0] === since && starts.every((v, i) => i === 0 || v >= starts[i - 1]) && new Set(starts).size >= 4, 'startTime advances page by page');
  ok(q.every((x) => Number(x.query.limit) <= 1000), 'limit <= 1000');
  ok(!fs.existsSync(out + '.part'), 'no .part file left');
  s.server.close();
}

// 2. Bitvavo flavour (newest first on the wire, ascending in the file)
{
  const s = await startRest({ rows, symbol: 'XRP-ETH' });
  const out = path.join(tmp, 'bv.csv');
  const sub = rows.slice(100, 1700);
  const r = await run(['--exchange', 'bitvavo', '--symbol', 'XRP-ETH', '--interval', '1m',
    '--since', new Date(sub[0].t).toISOString(), '--until', String(sub[sub.length - 1].t + 60000), '-o', out,
    '--rest-url', `http://127.0.0.1:${s.port}/`]);
  ok(r.code === 0, 'bitvavo fetch exits 0', r.err);
  const diff = r.code === 0 ? sameCsv(out, sub) : 'no file';
  ok(diff === null, 'bitvavo CSV ascending and complete', diff || '');
  s.server.close();
}

// 3. bad symbol: HTTP 400 is final (no retry storm), exit 1, no output file
{
  const s = await startRest({ rows, symbol: 'XRPETH' });
  const out = path.join(tmp, 'none.csv');
  const r = await run(['--symbol', 'NOPE', '--interval', '1m', '--since', String(since), '-o', out,
    '--rest-url', `http://127.0.0.1:${s.port}`]);
  ok(r.code === 1, 'bad symbol exits 1', r.err);
  ok(s.requests.length === 1, `400 not retried (${s.requests.length} requests)`);
  ok(!fs.existsSync(out), 'no output file on failure');
  s.server.close();
}

// 4. usage errors exit 2
for (const [args, what] of [
  [['--symbol', 'X', '--interval', '7q', '--since', '0', '-o', 'x'], 'bad interval'],
  [['--exchange', 'nope', '--symbol', 'X', '--interval', '1m', '--since', '0', '-o', 'x'], 'unknown exchange'],
  [['--symbol', 'X', '--interval', '1m', '--since', 'yesterday', '-o', 'x'], 'bad date'],
  [['--symbol', 'X', '--interval', '1m', '-o', 'x'], 'missing --since'],
]) {
  const r = spawnSync(BIN, ['fetch', ...args], { encoding: 'utf8' });
  ok(r.status === 2, `${what} exits 2`, r.stderr);
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
