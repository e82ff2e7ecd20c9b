// papertrader exchange-sim: Bitvavo flavour (subscribe action, ack, candle
// events, REST newest first, bad market) and stream faults (nohandshake,
// drop, dup/skip counted and visible on the wire). Free ports, bounded time.
import { spawn } from 'node:child_process';
import net from 'node:net';
import WebSocket from 'ws';

const BIN = process.env.PT_BIN;
let pass = 0, fail = 0;
const ok = (c, what, extra = '') => {
  if (c) { pass++; console.log(`ok - ${what}`); } else { fail++; console.log(`not ok - ${what} ${extra}`); }
};
setTimeout(() => { console.log('not ok - timed out'); process.exit(1); }, 60000).unref();

function startSim(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ['exchange-sim', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.stdout.on('data', (d) => {
      out += d;
      const m = /listening port=(\d+)/.exec(out);
      if (m) resolve({ p, port: Number(m[1]), get err() { return err; } });
    });
    p.on('exit', (code) => reject(new Error(`exchange-sim exited ${code}: ${err}`)));
  });
}
const stopSim = (s) => new Promise((r) => { s.p.removeAllListeners('exit'); s.p.on('exit', r); s.p.kill('SIGTERM'); });

// 1. Bitvavo
{
  const s = await startSim(['--protocol', 'bitvavo', '--speed', '600', '--seed', '2']);
  const msgs = await new Promise((resolve) => {
    const got = [];
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/v2/`);
    ws.on('open', () => {
      ws.send('{"action":"subscribe","channels":[{"name":"candles","interval":["1m"],"markets":["NOPE-EUR"]}]}');
      ws.send('{"action":"subscribe","channels":[{"name":"candles","interval":["1m"],"markets":["BTC-EUR"]}]}');
    });
    ws.on('message', (d) => got.push(String(d)));
    setTimeout(() => { ws.terminate(); resolve(got); }, 1500);
  });
  ok(msgs[0] === '{"action":"subscribe","errorCode":205,"error":"market parameter NOPE-EUR is invalid."}', 'bad market rejected', msgs[0]);
  ok(msgs[1] === '{"event":"subscribed","subscriptions":{"candles":{"1m":["BTC-EUR"]}}}', 'subscribe ack', msgs[1]);
  const ev = msgs.slice(2).map((m) => JSON.parse(m));
  ok(ev.length > 10 && ev.every((e) => e.event === 'candle' && e.market === 'BTC-EUR' && e.interval === '1m' &&
    Array.isArray(e.candle) && e.candle[0].length === 6 && Number.isInteger(e.candle[0][0]) &&
    e.candle[0].slice(1).every((v) => typeof v === 'string' && /^\d+(\.\d+)?$/.test(v))), 'candle events (wire shape)');
  const r = await fetch(`http://127.0.0.1:${s.port}/v2/BTC-EUR/candles?interval=1m&limit=5`);
  const rows = await r.json();
  ok(r.status === 200 && rows.length === 5 && rows.every((x, i) => i === 0 || x[0] === rows[i - 1][0] - 60000), 'REST newest first');
  const b = await fetch(`http://127.0.0.1:${s.port}/v2/NOPE-EUR/candles?interval=1m`);
  ok(b.status === 400 && (await b.json()).errorCode === 205, 'REST bad market -> 400 205');
  ok((await stopSim(s)) === 0, 'bitvavo sim exits 0');
}

// 2. nohandshake: TCP accepted, no HTTP answer
{
  const s = await startSim(['--faults', 'nohandshake=1', '--seed', '1']);
  const answered = await new Promise((resolve) => {
    const c = net.connect(s.port, '127.0.0.1', () => c.write('GET /api/v3/klines HTTP/1.1\r\nHost: x\r\n\r\n'));
    let data = '';
    c.on('data', (d) => { data += d; });
    c.on('error', () => {});
    setTimeout(() => { c.destroy(); resolve(data); }, 1200);
  });
  ok(answered === '', 'nohandshake: connection accepted, never answered');
  await stopSim(s);
  ok(/fault nohandshake #1/.test(s.err), 'nohandshake logged');
}

// 3. drop + dup + skip on the stream
{
  const s = await startSim(['--speed', '600', '--seed', '4', '--faults', 'drop=1s,dup=0.4,skip=0.3']);
  const res = await new Promise((resolve) => {
    const got = [];
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws/btcusdt@kline_1m`);
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    ws.on('close', (code) => resolve({ got, code }));
    ws.on('error', () => {});
  });
  ok(res.code === 1006, `drop: abrupt close without a close frame (code ${res.code})`);
  const cl = res.got.filter((m) => m.k.x).map((m) => m.k.t);
  const dups = cl.filter((t, i) => i > 0 && t === cl[i - 1]).length;
  const gaps = cl.filter((t, i) => i > 0 && t > cl[i - 1] + 60000).length;
  ok(dups > 0, `duplicates on the wire (${dups})`);
  ok(gaps > 0, `skipped closes leave gaps (${gaps})`);
  await stopSim(s);
  ok(/fault drop #1/.test(s.err) && /fault dup #/.test(s.err) && /fault skip #/.test(s.err), 'faults logged');
}

console.log(`# ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
