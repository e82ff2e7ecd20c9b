// papertrader exchange-sim, Binance flavour, checked with node `ws` + http:
// combined stream shape (field order, string prices), x:false updates then
// x:true closes with consecutive open times, REST paging equal to the
// streamed closes, SUBSCRIBE ack / errors on bare /ws, invalid symbol,
// 429 + Retry-After under --faults, CSV replay of a small fixture in order,
// clean exit on SIGTERM. Free ports only (--port 0), bounded run time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const BIN = process.env.PT_BIN;
let pass = 0, fail = 0;
const ok = (c, what, extra = '') => {
  if (c) { pass++; console.log(`ok - ${what}`); } else { fail++; console.log(`not ok - ${what} ${extra}`); }
};
setTimeout(() => { console.log('not ok - timed out'); process.exit(1); }, 60000).unref();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startSim(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ['exchange-sim', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.stdout.on('data', (d) => {
      out += d;
      const m = /listening port=(\d+)/.exec(out);
      if (m) resolve({ p, port: Number(m[1]), get err() { return err; }, out });
    });
    p.on('exit', (code) => reject(new Error(`exchange-sim exited ${code}: ${err}`)));
  });
}
function stopSim(s) {
  return new Promise((resolve) => { s.p.removeAllListeners('exit'); s.p.on('exit', (code) => resolve(code)); s.p.kill('SIGTERM'); });
}
async function get(port, pathq) {
  const r = await fetch(`http://127.0.0.1:${port}${pathq}`);
  return { status: r.status, headers: r.headers, text: await r.text() };
}
function collect(url, ms, onOpen) {
  return new Promise((resolve) => {
    const msgs = [];
    const ws = new WebSocket(url);
    ws.on('open', () => onOpen && onOpen(ws));
    ws.on('message', (d) => msgs.push(String(d)));
    ws.on('error', (e) => msgs.push('ERROR ' + e.message));
    setTimeout(() => { ws.terminate(); resolve(msgs); }, ms);
  });
}

const KEYS = ['t', 'T', 's', 'i', 'f', 'L', 'o', 'c', 'h', 'l', 'v', 'n', 'x', 'q', 'V', 'Q', 'B'];
const PRICE = /^\d+\.\d{8}$/;

// 1. synthetic market, combined stream
const sim = await startSim(['--speed', '600', '--seed', '1', '--ping', '2']);
ok(/exchange-sim listening on ws:\/\/127\.0\.0\.1:\d+/.test(sim.out), 'prints the URL line');
const raw = await collect(`ws://127.0.0.1:${sim.port}/stream?streams=btcusdt@kline_1m`, 2500);
const msgs = raw.map((m) => JSON.parse(m));
ok(msgs.length > 20, `stream delivers messages (${msgs.length})`);
let shapeErr = null;
for (const m of msgs) {
  const d = m.data, k = d && d.k;
  if (Object.keys(m).join() !== 'stream,data' || m.stream !== 'btcusdt@kline_1m') shapeErr = 'wrapper ' + JSON.stringify(m);
  else if (Object.keys(d).join() !== 'e,E,s,k' || d.e !== 'kline' || d.s !== 'BTCUSDT') shapeErr = 'event ' + JSON.stringify(d);
  else if (Object.keys(k).join() !== KEYS.join()) shapeErr = 'kline keys ' + Object.keys(k).join();
  else if (!['o', 'c', 'h', 'l', 'v', 'q', 'V', 'Q'].every((f) => typeof k[f] === 'string' && PRICE.test(k[f]))) shapeErr = 'prices ' + JSON.stringify(k);
  else if (k.T !== k.t + 59999 || k.i !== '1m' || k.s !== 'BTCUSDT' || typeof k.x !== 'boolean' || k.B !== '0') shapeErr = 'fields ' + JSON.stringify(k);
  else if (!(+k.h >= Math.max(+k.o, +k.c) && +k.l <= Math.min(+k.o, +k.c) && +k.l > 0)) shapeErr = 'OHLC ' + JSON.stringify(k);
  if (shapeErr) break;
}
ok(shapeErr === null, 'every message has the exact Binance kline shape', shapeErr || '');
const closed = msgs.map((m) => m.data.k).filter((k) => k.x);
const updates = msgs.map((m) => m.data.k).filter((k) => !k.x);
ok(closed.length >= 10 && updates.length >= closed.length, `x:false updates (${updates.length}) and x:true closes (${closed.length})`);
ok(closed.every((k, i) => i === 0 || k.t === closed[i - 1].t + 60000), 'closed candles have consecutive open times');
ok(closed.every((k, i) => i === 0 || k.o === closed[i - 1].c), 'each open equals the previous close');
let orderOk = true;
for (const m of msgs) {
  const k = m.data.k, c = closed.find((z) => z.t === k.t);
  if (!k.x && c && !(+k.h <= +c.h && +k.l >= +c.l && msgs.indexOf(m) < msgs.findIndex((z) => z.data.k.x && z.data.k.t === k.t))) orderOk = false;
}
ok(orderOk, 'updates precede their close and stay inside its range');
ok(msgs.every((m) => m.data.E >= m.data.k.t && (!m.data.k.x || m.data.E === m.data.k.T + 1)), 'event time inside the bar, close at T+1');

// REST paging (startTime/limit) equals the streamed closes
{
  const rows = [];
  let start = closed[0].t;
  while (rows.length < closed.length) {
    const r = await get(sim.port, `/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${start}&limit=4`);
    if (r.status !== 200) { ok(false, 'REST page ' + r.status); break; }
    const page = JSON.parse(r.text);
    if (!page.length) break;
    rows.push(...page);
    start = page[page.length - 1][0] + 60000;
  }
  let diff = null;
  closed.forEach((k, i) => {
    const r = rows[i];
    const want = [k.t, k.o, k.h, k.l, k.c, k.v, k.T, k.q, k.n, k.V, k.Q, '0'];
    if (!diff && JSON.stringify(r) !== JSON.stringify(want)) diff = `row ${i}: ${JSON.stringify(r)} != ${JSON.stringify(want)}`;
  });
  ok(diff === null, `REST pages of 4 match ${closed.length} streamed closes field by field`, diff || '');
  const last = await get(sim.port, '/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=3');
  const lr = JSON.parse(last.text);
  ok(last.status === 200 && lr.length === 3 && lr[1][0] === lr[0][0] + 60000 && lr[2][6] > closed[closed.length - 1].T,
    'no startTime: newest rows ascending, last is the open candle');
  ok(/^\d+$/.test(last.headers.get('x-mbx-used-weight-1m') || ''), 'X-MBX-USED-WEIGHT-1M header');
  const bad = await get(sim.port, '/api/v3/klines?symbol=NOPEUSDT&interval=1m');
  ok(bad.status === 400 && bad.text === '{"code":-1121,"msg":"Invalid symbol."}', 'invalid symbol -> 400 -1121', bad.text);
  const badIv = await get(sim.port, '/api/v3/klines?symbol=BTCUSDT&interval=7m');
  ok(badIv.status === 400 && JSON.parse(badIv.text).code === -1120, 'bad interval -> -1120');
}

// SUBSCRIBE on bare /ws (raw framing), errors nested with the id
{
  const got = await collect(`ws://127.0.0.1:${sim.port}/ws`, 900, (ws) => {
    ws.send('{"method":"SUBSCRIBE","params":["ethusdt@kline_1m"],"id":7}');
    ws.send('{"method":"LIST_SUBSCRIPTIONS","id":"abc"}');
    ws.send('{"method":"NOPE","id":9}');
    ws.send('not json');
  });
  ok(got[0] === '{"result":null,"id":7}', 'SUBSCRIBE ack is {"result":null,"id":7}', got[0]);
  ok(got.includes('{"result":["ethusdt@kline_1m"],"id":"abc"}'), 'LIST_SUBSCRIPTIONS');
  const e = got.map((m) => JSON.parse(m)).find((m) => m.id === 9);
  ok(e && e.error && e.error.code === 2 && /unknown variant/.test(e.error.msg), 'unknown method -> nested error code 2');
  ok(got.some((m) => /^\{"error":\{"code":3,/.test(m) && /"id":null\}$/.test(m)), 'invalid JSON -> code 3, id null');
  const ev = got.map((m) => JSON.parse(m)).filter((m) => m.e === 'kline');
  ok(ev.length > 3 && ev.every((m) => m.s === 'ETHUSDT' && !m.stream), 'raw kline events after SUBSCRIBE');
}
ok((await stopSim(sim)) === 0, 'SIGTERM -> exit 0');
ok(/summary: .*closed=\d+/.test(sim.err), 'counter summary at exit');

// 2. same seed -> same candles (pure function of seed+symbol+time)
{
  const a = await startSim(['--speed', '600', '--seed', '1', '--start', String(closed[0].t + 600000)]);
  const r = await get(a.port, `/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${closed[0].t}&limit=5`);
  const rows = JSON.parse(r.text);
  ok(rows.length === 5 && rows[0][4] === closed[0].c && rows[4][1] === closed[4].o, 'second run with seed 1 serves identical candles');
  await stopSim(a);
}

// 3. 429 with Retry-After, logged
{
  const s = await startSim(['--speed', '60', '--seed', '3', '--faults', 'http429=1,retry=3']);
  const r = await get(s.port, '/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=2');
  ok(r.status === 429 && r.headers.get('retry-after') === '3' && JSON.parse(r.text).code === -1003, '429 with Retry-After: 3', r.status + ' ' + r.text);
  await stopSim(s);
  ok(/fault http429 #1/.test(s.err) && /http429=1\b/.test(s.err), 'fault logged and counted');
}

// 4. CSV replay of a small fixture, in order
{
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ptxsim-'));
  const file = path.join(tmp, 'fixture.csv');
  const t0 = 1700000040000;
  const rows = [];
  for (let i = 0; i < 12; i++) {
    const o = 100 + i, c = 100.5 + i;
    rows.push([t0 + i * 60000, o, c + 1, o - 1, c, 10 + i]);
  }
  fs.writeFileSync(file, 'timestamp,open,high,low,close,volume\n' + rows.map((r) => r.join(',')).join('\n') + '\n');
  // start 5 bars early so the client is connected before the first row closes
  const s = await startSim(['--speed', '600', '--symbols', 'TESTUSDT', '--start', String(t0 - 5 * 60000), file]);
  const got = (await collect(`ws://127.0.0.1:${s.port}/ws/testusdt@kline_1m`, 2200)).map((m) => JSON.parse(m));
  const cl = got.filter((m) => m.k.x).map((m) => m.k);
  ok(cl.length === rows.length, `CSV: ${cl.length} closes for ${rows.length} rows`);
  const bad = cl.findIndex((k, i) => k.t !== rows[i][0] || +k.o !== rows[i][1] || +k.h !== rows[i][2] || +k.l !== rows[i][3] ||
    +k.c !== rows[i][4] || +k.v !== rows[i][5]);
  ok(bad === -1, 'CSV rows replayed in order with their values', bad >= 0 ? JSON.stringify(cl[bad]) : '');
  await stopSim(s);
  ok(/replay finished/.test(s.err), 'replay end logged');
  fs.rmSync(tmp, { recursive: true, force: true });
}

console.log(`# ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
