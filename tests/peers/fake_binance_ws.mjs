// Fake Binance spot WS + REST on free loopback ports (Binance spot API docs:
// web-socket-streams.md, rest-api.md). Streams N closed 1s klines for SYMBOL on /stream?streams=...
// (combined framing), one every PERIOD ms, with faults: after each bar in
// DROPS it terminates the TCP connection (no close frame) and skips SKIP
// bars (the client must backfill them over REST); on every reconnect it
// re-sends the last 2 closed bars (duplicates) and one x:false update.
// The REST side serves all N bars (GET /api/v3/klines). Prints
// {"ws":port,"rest":port,"t0":ms,"n":N} then runs until stdin closes.
//
// usage: node fake_binance_ws.mjs [N=40] [PERIOD=40] [DROPS=10,25] [SKIP=3]
import { WebSocketServer } from 'ws';
import { startRest } from './fake_rest.mjs';

const N = Number(process.argv[2] || 40);
const PERIOD = Number(process.argv[3] || 40);
const DROPS = (process.argv[4] || '10,25').split(',').map(Number);
const SKIP = Number(process.argv[5] || 3);
const SYMBOL = 'BTCUSDT';
const t0 = Math.floor(Date.now() / 1000) * 1000 - (N + 30) * 1000; // all bars already closed
const rows = [];
for (let i = 0; i < N; i++) {
  const p = (100 + i).toFixed(2);
  rows.push({ t: t0 + i * 1000, o: p, h: p, l: p, c: p, v: '1.5' });
}
const kline = (i, x) => JSON.stringify({
  stream: 'btcusdt@kline_1s',
  data: { e: 'kline', E: Date.now(), s: SYMBOL, k: { t: rows[i].t, T: rows[i].t + 999, s: SYMBOL, i: '1s', f: 1, L: 2,
    o: rows[i].o, c: rows[i].c, h: rows[i].h, l: rows[i].l, v: rows[i].v, n: 2, x, q: '1', V: '1', Q: '1', B: '0' } },
});

let next = 0;
const rest = await startRest({ rows, symbol: SYMBOL, visibleBefore: () => t0 + next * 1000 });
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('connection', (ws, req) => {
  if (!req.url.startsWith('/stream?streams=btcusdt@kline_1s')) { ws.close(1008, 'bad stream'); return; }
  for (let i = Math.max(0, next - 2); i < next; i++) ws.send(kline(i, true)); // re-delivered closed bars
  if (next < N) ws.send(kline(next, false));
  const timer = setInterval(() => {
    if (next >= N) { clearInterval(timer); return; }
    ws.send(kline(next, true));
    const i = next++;
    if (DROPS.includes(i)) {
      next += SKIP; // these bars only exist on REST now
      clearInterval(timer);
      ws.terminate();
    }
  }, PERIOD);
  ws.on('close', () => clearInterval(timer));
});
wss.on('listening', () => {
  console.log(JSON.stringify({ ws: wss.address().port, rest: rest.port, t0, n: N }));
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), 60000).unref();
