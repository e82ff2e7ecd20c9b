// Feed ingest benchmark, real processes and sockets: this script plays a
// Binance spot kline stream (Binance web-socket-streams.md: combined framing,
// x:false in-progress updates, x:true closed) into `papertrader run` and
// listens on the session's dashboard. Figures:
//  - ingest: stream frames per second the session absorbs (parse, quality,
//    engine, ledger, dashboard fan-out), first frame sent -> the dashboard
//    event of the last closed candle;
//  - latency: closed-candle frame sent -> the resulting order's "new" event
//    received by a dashboard client (an upper bound on frame -> order booked:
//    it adds the dashboard hop), p50/p99;
//  - the session's CPU seconds and peak RSS.
// usage: node bench/feed_ingest.mjs BIN RATE(frames/s, 0 = as fast as the
//        socket takes them) CANDLES UPDATES_PER_CANDLE FSYNC(every|none)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, WebSocket } from 'ws';

const [BIN, RATE_S, CANDLES_S, UPD_S, FSYNC = 'none'] = process.argv.slice(2);
const RATE = Number(RATE_S), CANDLES = Number(CANDLES_S), UPD = Number(UPD_S);
const T0 = 1704067200000; // 2024-01-01: the feed keeps event time, not ours
const now = () => performance.timeOrigin + performance.now();
if (process.argv[2] === '--client') { // dashboard client: prints "order T AT" and "last AT"
  const [, , , port, lastT] = process.argv;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { origin: `http://127.0.0.1:${port}`, perMessageDeflate: false });
  ws.on('open', () => process.stdout.write('open\n'));
  ws.on('message', (d) => {
    const at = now(), t = d.toString();
    if (t.includes('"type":"order"') && t.includes('"status":"new"')) process.stdout.write(`order ${JSON.parse(t).data.t} ${at}\n`);
    else if (t.includes('"type":"candle"') && !t.includes('"partial"') && t.includes(`"t":${lastT},`)) { process.stdout.write(`last ${at}\n`); }
  });
  ws.on('close', () => process.exit(0));
} else {
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-bench-feed-'));
const fail = (why) => { console.error(`feed_ingest: ${why}`); process.exit(1); };
setTimeout(() => fail('timed out'), 120000).unref();

// prices that cross often so sma_cross fast=2 slow=4 orders every few candles
const bar = (i, k, closed) => {
  const c = (100 + 5 * Math.sin(i / 2) + 0.01 * k).toFixed(4);
  const o = (100 + 5 * Math.sin((i - 1) / 2)).toFixed(4);
  const h = (Math.max(c, o) + 0.5).toFixed(4), l = (Math.min(c, o) - 0.5).toFixed(4);
  const t = T0 + i * 1000;
  return JSON.stringify({ stream: 'btcusdt@kline_1s', data: { e: 'kline', E: t + (closed ? 999 : 100 + k), s: 'BTCUSDT',
    k: { t, T: t + 999, s: 'BTCUSDT', i: '1s', f: 1, L: 2, o, c, h, l, v: '10', n: 2, x: closed, q: '1000', V: '5', Q: '500', B: '0' } } });
};
const frames = [];
for (let i = 0; i < CANDLES; i++) {
  for (let k = 0; k < UPD; k++) frames.push([bar(i, k, false), null]);
  frames.push([bar(i, 0, true), T0 + i * 1000]);
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
await new Promise((r) => wss.on('listening', r));
const xport = wss.address().port;
const run = spawn(BIN, ['run', '--ws-url', `ws://127.0.0.1:${xport}`, '--rest-url', 'http://127.0.0.1:9',
  '--symbols', 'BTCUSDT', '--interval', '1s', '--port', '0', '--out', out, '--fsync', FSYNC, '--min-quality', '0',
  '--strategy', 'sma_cross', '--param', 'fast=2', '--param', 'slow=4', '--fee-bps', '0', '--heartbeat', '0'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
let stdout = '', stderr = '';
run.stdout.on('data', (d) => { stdout += d; });
run.stderr.on('data', (d) => { stderr += d; });
run.on('exit', (c) => { if (!done) fail(`run exited ${c}: ${stderr.slice(-400)}`); });
let done = false;
const dport = await new Promise((resolve) => {
  const iv = setInterval(() => { const m = /dashboard: http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout); if (m) { clearInterval(iv); resolve(Number(m[1])); } }, 20);
});

const sentAt = new Map(); // closed candle t -> send time (wall clock, ms)
// The dashboard client is its own process so its JSON work never delays the
// sender (both stamp with the wall clock: performance.timeOrigin + now()).
const dash = spawn(process.execPath, [process.argv[1], '--client', String(dport), String(T0 + (CANDLES - 1) * 1000)],
  { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
let dashOut = '';
dash.stdout.on('data', (d) => { dashOut += d; });
while (!dashOut.includes('open')) await new Promise((r) => setTimeout(r, 10));
const feed = await new Promise((r) => wss.on('connection', r));
await new Promise((r) => setTimeout(r, 300)); // subscription settles

const tStart = now();
let i = 0;
await new Promise((resolve) => {
  const pump = () => {
    if (RATE > 0) { // paced: catch up to where the clock says we should be
      const due = Math.min(frames.length, Math.floor(((now() - tStart) / 1000) * RATE) + 1);
      while (i < due) { const [f, t] = frames[i++]; if (t !== null) sentAt.set(t, now()); feed.send(f); }
    } else {
      while (i < frames.length && feed.bufferedAmount < (1 << 20)) { const [f, t] = frames[i++]; if (t !== null) sentAt.set(t, now()); feed.send(f); }
    }
    if (i >= frames.length) resolve(); else if (RATE > 0) setTimeout(pump, 1); else setImmediate(pump);
  };
  pump();
});
const tSent = now();
let tEnd = 0;
while (!tEnd && now() - tSent < 60000) {
  await new Promise((r) => setTimeout(r, 5));
  const m = /last (\S+)/.exec(dashOut);
  if (m) tEnd = Number(m[1]);
}
if (!tEnd) fail('last closed candle never reached the dashboard');
const lat = [];
for (const m of dashOut.matchAll(/order (\d+) (\S+)/g)) if (sentAt.has(Number(m[1]))) lat.push(Number(m[2]) - sentAt.get(Number(m[1])));
await new Promise((r) => setTimeout(r, 200));
const stat = fs.readFileSync(`/proc/${run.pid}/stat`, 'utf8').split(') ')[1].split(' ');
const cpu = (Number(stat[11]) + Number(stat[12])) / 100; // utime + stime, USER_HZ = 100
const hwm = Number((/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${run.pid}/status`, 'utf8')) || [0, 0])[1]);
done = true;
run.kill('SIGTERM');
await new Promise((r) => run.on('exit', r));
feed.terminate(); dash.kill(); wss.close();
const trades = fs.readFileSync(path.join(out, 'trades.csv'), 'utf8').trim().split('\n').length - 1;
fs.rmSync(out, { recursive: true, force: true });
lat.sort((a, b) => a - b);
const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2) : 'n/a');
const secs = (tEnd - tStart) / 1000;
console.log(JSON.stringify({ rate: RATE || 'max', fsync: FSYNC, frames: frames.length, candles: CANDLES,
  ingest_fps: Math.round(frames.length / secs), send_fps: Math.round(frames.length / ((tSent - tStart) / 1000)),
  orders: lat.length, trades, p50_ms: q(0.5), p99_ms: q(0.99), cpu_s: cpu.toFixed(2), rss_mb: (hwm / 1024).toFixed(1) }));
process.exit(0);
}
