// Exchange peer for the frame-size bound (issue 11): a Binance-style kline
// stream (node `ws`, a stack independent of ours) that, before some bars,
// sends that bar's kline padded to an exact size, whole or in 64 KiB
// fragments. A frame at the client's cap must be taken; anything past it must
// be answered with close 1009 and a reconnect, whatever its size. Bars lost
// with a closed connection are re-sent on the next one (REST serves them too).
// Prints {"ws":port,"rest":port,"t0":ms,"n":N} once listening, one JSON line
// {"close":code,"case":K} per close it gets, and runs until stdin closes.
//
// usage: node oversize_peer.mjs CAP SIZES   (SIZES: comma list of SIZE[f]; f = fragmented)
import { WebSocketServer } from 'ws';
import { startRest } from './fake_rest.mjs';

const CAP = Number(process.argv[2] || 1048576);
const CASES = (process.argv[3] || '').split(',').filter(Boolean).map((s) => ({
  size: Number(s.replace(/f$/, '')), frag: s.endsWith('f') }));
const N = 4 + 3 * CASES.length;
const PERIOD = 40;
const SYMBOL = 'BTCUSDT';
const t0 = Math.floor(Date.now() / 1000) * 1000 - (N + 30) * 1000; // every bar already closed
const rows = [];
for (let i = 0; i < N; i++) {
  const p = (100 + i).toFixed(2);
  rows.push({ t: t0 + i * 1000, o: p, h: p, l: p, c: p, v: '1.5' });
}
const kline = (i, pad = 0) => {
  const r = rows[i];
  const head = `{"stream":"btcusdt@kline_1s","data":{"e":"kline","E":${r.t + 1000},"s":"${SYMBOL}","k":{"t":${r.t},` +
    `"T":${r.t + 999},"s":"${SYMBOL}","i":"1s","f":1,"L":2,"o":"${r.o}","c":"${r.c}","h":"${r.h}","l":"${r.l}",` +
    `"v":"${r.v}","n":2,"x":true,"q":"1","V":"1","Q":"1","B":"0"},"pad":"`;
  const tail = '"}}';
  return pad ? head + 'x'.repeat(pad - head.length - tail.length) + tail : head.slice(0, -8) + '}}';
};
// bar index before which case k is sent: 2, 5, 8, ...
const caseAt = new Map(CASES.map((c, k) => [2 + 3 * k, k]));
const sentCase = new Set();
let next = 0;
let lastCase = -1;

function sendPadded(ws, i, size, frag) {
  const msg = Buffer.from(kline(i, size));
  if (!frag) { ws.send(msg, { binary: false }); return; }
  const F = 65536;
  for (let o = 0; o < msg.length; o += F)
    ws.send(msg.subarray(o, Math.min(o + F, msg.length)), { fin: o + F >= msg.length, binary: false });
}

const rest = await startRest({ rows, symbol: SYMBOL, visibleBefore: () => t0 + next * 1000 });
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 << 20 });
wss.on('connection', (ws) => {
  if (next > 0) ws.send(kline(next - 1)); // a re-delivered closed bar after each reconnect
  const timer = setInterval(() => {
    if (next >= N) { clearInterval(timer); return; }
    const k = caseAt.get(next);
    if (k !== undefined && !sentCase.has(k)) {
      sentCase.add(k);
      lastCase = k;
      const c = CASES[k];
      sendPadded(ws, next, c.size, c.frag);
      if (c.size <= CAP) { next++; return; } // taken: that frame was the bar
      // past the cap: nothing more on this connection (the client is closing it: a later case
      // sent here would be skipped unseen); the bar goes again on the next connection
      clearInterval(timer);
      return;
    }
    ws.send(kline(next++));
  }, PERIOD);
  ws.on('close', (code) => {
    clearInterval(timer);
    process.stdout.write(`${JSON.stringify({ close: code, case: lastCase })}\n`);
  });
});
wss.on('listening', () => {
  process.stdout.write(`${JSON.stringify({ ws: wss.address().port, rest: rest.port, t0, n: N })}\n`);
});
process.stdin.on('end', () => { wss.close(); rest.server.close(); process.exit(0); });
process.stdin.resume();
