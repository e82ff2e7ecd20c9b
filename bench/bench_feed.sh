#!/usr/bin/env bash
# Feed ingest benchmark (issue 7): bench/feed_ingest.mjs plays a Binance
# kline stream (4 in-progress updates + 1 closed frame per candle) into a real
# `papertrader run` at 1k and 10k frames/s and as fast as the socket takes
# them, with a dashboard client in its own process. Prints, per rate, the
# median of 3 runs: frames/s absorbed, closed-frame -> order-event latency
# p50/p99 (ms), orders, session CPU seconds and peak RSS.
# usage: bench/bench_feed.sh [build-dir] [runs]
NAME=bench_feed
. "$(dirname "$0")/lib.bash" "${1:-build}"
RUNS=${2:-3}
export NODE_PATH=$PWD/node_modules
printf '%-6s %-6s %-11s %-9s %-9s %-7s %-7s %-7s\n' rate fsync ingest_fps p50_ms p99_ms orders cpu_s rss_mb
for spec in "1000 2000 none" "10000 10000 none" "0 10000 none" "1000 2000 every"; do
  set -- $spec
  for k in $(seq "$RUNS"); do node bench/feed_ingest.mjs "$BIN" "$1" "$2" 4 "$3" > "$tmp/r$k.json" || exit 1; done
  node -e '
    const fs = require("fs");
    const rs = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
    const med = (k) => { const v = rs.map((r) => Number(r[k])).sort((a, b) => a - b); return v[(v.length - 1) >> 1]; };
    const r = rs[0];
    console.log([r.rate, r.fsync, med("ingest_fps"), med("p50_ms"), med("p99_ms"), r.orders, med("cpu_s"), med("rss_mb")]
      .map(String).map((s, i) => s.padEnd([6, 6, 11, 9, 9, 7, 7, 7][i])).join(" "));
  ' "$tmp"/r*.json
  rm -f "$tmp"/r*.json
done
echo "(latency: closed-candle frame sent by the exchange peer -> the order's event at a dashboard client; rate 0 = as fast as the socket takes them)"
