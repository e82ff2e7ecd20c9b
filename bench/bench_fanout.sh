#!/usr/bin/env bash
# Fan-out benchmark for ws_server: bench/wss_fanout publishes partial-candle
# updates at 1k and 10k/s to 100 WebSocket clients (node `ws`, two
# processes), 10 of which never read. Reports publish->receive latency
# (p50/p99, from the pub_us stamp in each event), delivered counts, drops,
# and the server's CPU seconds and peak RSS.
# usage: bench/bench_fanout.sh [build-dir] [seconds-per-rate]
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
SECS=${2:-10}
DRIVER=$BUILD/bench/wss_fanout
[ -x "$DRIVER" ] || { echo "missing $DRIVER (build the wss_fanout target)" >&2; exit 2; }
export NODE_PATH=$SRC/node_modules
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
cat > "$TMP/clients.cjs" <<'JS'
const WebSocket = require('ws');
const [port, n, stalled, secs] = process.argv.slice(2).map(Number);
const lat = []; let got = 0, closed = 0;
const now_us = () => (performance.timeOrigin + performance.now()) * 1000;
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { origin: `http://127.0.0.1:${port}`, perMessageDeflate: false });
  ws.on('open', () => { if (i < stalled) ws._socket.pause(); });
  ws.on('close', () => closed++);
  ws.on('error', () => {});
  if (i >= stalled) ws.on('message', (d) => {
    got++;
    const m = /"pub_us":(\d+)/.exec(d.toString());
    if (m && lat.length < 2e6) lat.push(now_us() - Number(m[1]));
  });
}
setTimeout(() => {
  lat.sort((a, b) => a - b);
  const q = (p) => lat.length ? (lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] / 1000).toFixed(2) : 'n/a';
  console.log(JSON.stringify({ clients: n, stalled, received: got, partials: lat.length, p50_ms: q(0.5), p99_ms: q(0.99), closed }));
  process.exit(0);
}, secs * 1000);
JS
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
printf '%-7s %-9s %-9s %-9s %-11s %-8s %-9s %-7s\n' rate p50_ms p99_ms recv_ok dropped_cl cpu_s rss_mb cpu%
for RATE in 1000 10000; do
  PORT=$(free_port)
  "$DRIVER" --port "$PORT" --rate "$RATE" --symbols 3 --candle-ms 1000 --max-clients 128 \
    --duration-ms $(( (SECS + 3) * 1000 )) > "$TMP/drv.out" 2> "$TMP/drv.err" &
  DPID=$!
  for _ in $(seq 50); do grep -q READY "$TMP/drv.out" 2>/dev/null && break; sleep 0.1; done
  node "$TMP/clients.cjs" "$PORT" 50 10 "$SECS" > "$TMP/c1.json" &
  C1=$!
  node "$TMP/clients.cjs" "$PORT" 50 0 "$SECS" > "$TMP/c2.json" &
  C2=$!
  wait $C1 $C2
  wait $DPID || true
  node -e '
    const fs=require("fs"); const [d1,d2]=[process.argv[1],process.argv[2]].map(f=>JSON.parse(fs.readFileSync(f)));
    const drv=JSON.parse(fs.readFileSync(process.argv[3],"utf8").split("\n").filter(l=>l.startsWith("{")).pop());
    const secs=Number(process.argv[5]);
    console.log([process.argv[4], d1.p50_ms+"/"+d2.p50_ms, d1.p99_ms+"/"+d2.p99_ms, d1.received+d2.received,
      drv.dropped, drv.cpu_s, (drv.rss_peak_kb/1024).toFixed(1), (100*drv.cpu_s/(secs+3)).toFixed(0)].map(String)
      .map((s,i)=>s.padEnd([7,9,9,9,11,8,9,7][i])).join(" "));
  ' "$TMP/c1.json" "$TMP/c2.json" "$TMP/drv.out" "$RATE" "$SECS"
done
echo "(p50/p99 shown per client process: process 1 has the 10 stalled clients; recv_ok = messages received by the 90 reading clients)"
