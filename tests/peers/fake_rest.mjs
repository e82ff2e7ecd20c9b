// Fake exchange REST server for tests (node http, loopback, free port).
// Serves candles from a CSV (timestamp,open,high,low,close,volume; epoch ms)
// as Binance GET /api/v3/klines (ascending, limit <= 1000) and Bitvavo
// GET /v2/{market}/candles (newest first, limit <= 1440), as the exchanges'
// API docs describe them. Every request is
// recorded with its server-side arrival time, so tests can prove that no
// request came before a Retry-After expired.
//
// Faults: `plan` is a list applied to successive kline requests, one entry
// each; "ok" or {status, retryAfter, body}; after the list, all are ok.
//
// CLI: node fake_rest.mjs CSV [SYMBOL] -> prints {"port":N} on stdout.
import http from 'node:http';
import fs from 'node:fs';

export function loadCsv(path) {
  const lines = fs.readFileSync(path, 'utf8').split('\n').slice(1).filter((l) => l.trim());
  return lines.map((l) => {
    const f = l.split(',');
    return { t: Number(f[0]), o: f[1], h: f[2], l: f[3], c: f[4], v: f[5] };
  });
}

// visibleBefore(): optional; rows with t >= it are not served yet (a live
// peer's REST only knows bars that have closed in its own timeline).
export function startRest({ rows, symbol = 'BTCUSDT', plan = [], visibleBefore = () => Infinity }) {
  const requests = [];
  let k = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const rec = { t: Date.now(), path: url.pathname, query: Object.fromEntries(url.searchParams), status: 200 };
    requests.push(rec);
    const send = (status, body, headers = {}) => {
      rec.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    const bn = url.pathname === '/api/v3/klines';
    const bv = url.pathname.match(/^\/v2\/([^/]+)\/candles$/);
    if (!bn && !bv) return send(404, '{"code":-1,"msg":"not found"}');
    const step = plan[k++];
    if (step && step !== 'ok') {
      const h = {};
      if (step.retryAfter !== undefined) h['retry-after'] = String(step.retryAfter);
      return send(step.status, step.body ?? '{"code":-1003,"msg":"Too much request weight used"}', h);
    }
    const q = url.searchParams;
    const sym = bn ? q.get('symbol') : bv[1];
    if (sym !== symbol) return send(400, bn ? '{"code":-1121,"msg":"Invalid symbol."}'
      : '{"errorCode":205,"error":"market parameter is invalid."}');
    const start = Number(q.get(bn ? 'startTime' : 'start') ?? 0);
    const end = Number(q.get(bn ? 'endTime' : 'end') ?? 8.64e15);
    const max = bn ? 1000 : 1440;
    const limit = Math.min(Number(q.get('limit') ?? 500), max);
    const vis = visibleBefore();
    let sel = rows.filter((r) => r.t >= start && r.t <= end && r.t < vis).slice(0, limit);
    const interval = 60000;
    let out;
    if (bn) {
      out = sel.map((r) => [r.t, r.o, r.h, r.l, r.c, r.v, r.t + interval - 1, '0', 1, '0', '0', '0']);
      return send(200, JSON.stringify(out), { 'x-mbx-used-weight-1m': String(2 * k) });
    }
    out = sel.reverse().map((r) => [r.t, r.o, r.h, r.l, r.c, r.v]);
    return send(200, JSON.stringify(out));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, requests }));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = loadCsv(process.argv[2]);
  const s = await startRest({ rows, symbol: process.argv[3] || 'BTCUSDT' });
  console.log(JSON.stringify({ port: s.port }));
}
